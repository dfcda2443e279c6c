/* kadcrypt.h: protocol obfuscation of datagrams: Kad and eD2K client ones
 * (ed2k-protocol.md §9.4) and server ones (§9.5): RC4 keyed with MD5 of the receiver's Kad id or of the verify key
 * the receiver handed the sender. amuled obfuscates its answers to a node
 * that told it its id, so a Kad node must at least read them. */
#ifndef MT_ED2K_KADCRYPT_H
#define MT_ED2K_KADCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed2k/kadid.h"
#include "util/error.h"

/* The magic that opens every obfuscated client datagram, and the header:
 * marker, R (u16), magic, pad length, then the two verify keys. */
#define KAD_CRYPT_MAGIC 0x395F2EC1u
#define KAD_CRYPT_HEADER_LEN 16

/* kad_crypt_is_plain: whether a datagram starting with byte b is a plain
 * one (eD2K, eMule, Kad protocol bytes) rather than an obfuscated one. */
bool kad_crypt_is_plain(uint8_t b);
/* kad_crypt_is_kad: whether an obfuscated datagram's marker says Kad (bit 0
 * clear; eD2K client datagrams set it). */
bool kad_crypt_is_kad(uint8_t marker);

/* kad_verify_key: the verify key a node with secret udp_key hands to the
 * node at ip (Kad form, a<<24|b<<16|c<<8|d): never 0 (§9.4). */
uint32_t kad_verify_key(uint32_t udp_key, uint32_t ip);

/* kad_crypt_decrypt: an obfuscated Kad datagram of len bytes, addressed to
 * us (our id me; my_key: the verify key we hand the sender, see
 * kad_verify_key), into out (room for len bytes): *out_len bytes of a
 * plain datagram (protocol, opcode, payload). The key the marker names is
 * tried first, then the other. *receiver_key gets the key the sender
 * echoed (ours, 0 if it had none), *sender_key the one it hands us.
 * MT_ERR_PROTOCOL when it is too short, no key gives the magic, or the
 * padding runs past the end. */
int kad_crypt_decrypt(const uint8_t *in, size_t len, const kad_id_t *me, uint32_t my_key,
                      uint8_t *out, size_t *out_len, uint32_t *receiver_key, uint32_t *sender_key,
                      mt_error_t **err);

/* kad_crypt_encrypt: the inverse, for a receiver with id `to` (by_key
 * false) or to which we send the verify key it handed us (by_key true,
 * key = receiver_key): random R, no padding. out has room for len +
 * KAD_CRYPT_HEADER_LEN bytes; returns the length written. */
size_t kad_crypt_encrypt(const uint8_t *in, size_t len, const kad_id_t *to, bool by_key,
                         uint32_t receiver_key, uint32_t sender_key, uint8_t *out);

/* kad_crypt_encrypt_r: kad_crypt_encrypt with the random marker byte and
 * R given (r[0], r[1..2]; the tests' fixed vectors). */
size_t kad_crypt_encrypt_r(const uint8_t *in, size_t len, const kad_id_t *to, bool by_key,
                           uint32_t receiver_key, uint32_t sender_key, const uint8_t r[3],
                           uint8_t *out);

/* eD2K client datagrams (0xC5, §9.4): <marker, bit 0 set><R u16>
 * enc[<magic><pad length><padding><datagram>] keyed with MD5(the
 * receiver's user hash, the sender's IP as 4 bytes in network order,
 * 0x5B, R). IPs are in eD2K form (first octet in the low byte). */
#define ED2K_UDP_CRYPT_HEADER_LEN 8
#define ED2K_UDP_CRYPT_KEY_BYTE 0x5B

/* ed2k_udp_crypt_decrypt: an obfuscated client datagram from from_ip to
 * us (own_hash): *out_len bytes of the plain datagram into out (room for
 * len bytes). MT_ERR_PROTOCOL when it is no obfuscated client datagram,
 * too short, the magic does not match or the padding runs past the end. */
int ed2k_udp_crypt_decrypt(const uint8_t *in, size_t len, const uint8_t own_hash[16],
                           uint32_t from_ip, uint8_t *out, size_t *out_len, mt_error_t **err);

/* ed2k_udp_crypt_encrypt: the inverse, to the client whose user hash is
 * to_hash, from us at own_ip (as it sees us); r: the random marker byte
 * and R (3 bytes; the marker is made odd and no plain protocol byte), no
 * padding. out has room for len + ED2K_UDP_CRYPT_HEADER_LEN bytes;
 * returns the length written. */
size_t ed2k_udp_crypt_encrypt(const uint8_t *in, size_t len, const uint8_t to_hash[16],
                              uint32_t own_ip, const uint8_t r[3], uint8_t *out);

/* Server datagrams (§9.5): <marker, not 0xE3><R u16> enc[<magic><pad
 * length & 15><padding><datagram>] keyed with MD5(the server's UDP key u32
 * LE, a direction byte, R). The key is the one the server's status answer
 * gave, or the challenge of an obfuscated ping for its answer. */
#define ED2K_SRV_CRYPT_MAGIC 0x13EF24D5u
#define ED2K_SRV_CRYPT_HEADER_LEN 8
#define ED2K_SRV_CRYPT_TO_SERVER 0x6B
#define ED2K_SRV_CRYPT_FROM_SERVER 0xA5

/* ed2k_srv_crypt_encrypt: len bytes of a plain server datagram (protocol,
 * opcode, payload) obfuscated with base_key (not 0) for the direction dir
 * (ED2K_SRV_CRYPT_TO_SERVER from a client, _FROM_SERVER from a server);
 * r: the random marker byte and R (the marker is made no 0xE3), no
 * padding. out has room for len + ED2K_SRV_CRYPT_HEADER_LEN bytes;
 * returns the length written. */
size_t ed2k_srv_crypt_encrypt(const uint8_t *in, size_t len, uint32_t base_key, uint8_t dir,
                              const uint8_t r[3], uint8_t *out);

/* ed2k_srv_crypt_decrypt: an obfuscated server datagram keyed with
 * base_key for the direction dir: *out_len bytes of the plain datagram
 * into out (room for len bytes). MT_ERR_PROTOCOL when it starts with 0xE3
 * (plain), is too short, the magic does not match or the padding leaves
 * nothing. */
int ed2k_srv_crypt_decrypt(const uint8_t *in, size_t len, uint32_t base_key, uint8_t dir,
                           uint8_t *out, size_t *out_len, mt_error_t **err);

#endif
