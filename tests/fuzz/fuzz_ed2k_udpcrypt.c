/* fuzz_ed2k_udpcrypt.c: fuzz target for the datagram de-obfuscation of
 * lib/ed2k/kadcrypt.c: server datagrams (§9.5) in both directions, Kad
 * and eD2K client datagrams (§9.4) with fixed keys; a server datagram
 * that decrypts without padding must encrypt back to the same bytes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed2k/kadcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY 0x2468ACE1u

static void
fuzz_server(const uint8_t *data, size_t size, uint8_t *plain, uint8_t *again)
{
    static const uint8_t dirs[2] = { ED2K_SRV_CRYPT_FROM_SERVER, ED2K_SRV_CRYPT_TO_SERVER };
    for (size_t d = 0; d < 2; d++) {
        size_t n = 0;
        if (ed2k_srv_crypt_decrypt(data, size, KEY, dirs[d], plain, &n, NULL) != 0)
            continue;
        if (n == 0 || n >= size)
            abort();
        if (n + ED2K_SRV_CRYPT_HEADER_LEN == size && data[0] != 0xE3) {
            size_t m = ed2k_srv_crypt_encrypt(plain, n, KEY, dirs[d], data, again);
            /* byte 7 (the pad length) may differ in its high bits */
            if (m != size || memcmp(again, data, 7) != 0 || memcmp(again + 8, data + 8, size - 8) != 0)
                abort();
        }
    }
}

static void
fuzz_kad(const uint8_t *data, size_t size, uint8_t *plain)
{
    static const kad_id_t me = { { 1, 2, 3, 4 } };
    size_t n = 0;
    uint32_t rk, sk;
    if (kad_crypt_decrypt(data, size, &me, KEY, plain, &n, &rk, &sk, NULL) == 0 &&
        n + KAD_CRYPT_HEADER_LEN > size)
        abort();
    static const uint8_t hash[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
    if (ed2k_udp_crypt_decrypt(data, size, hash, 0x0100007Fu, plain, &n, NULL) == 0 &&
        n + ED2K_UDP_CRYPT_HEADER_LEN > size)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *plain = malloc(size + 1), *again = malloc(size + 1);
    fuzz_server(data, size, plain, again);
    fuzz_kad(data, size, plain);
    free(plain);
    free(again);
    return 0;
}
