/* opcodes.h: the numbers of the eD2K client-to-client protocol: protocol
 * bytes, TCP and client-UDP opcodes, CT_* hello tags and ET_* MuleInfo tags. */
#ifndef MT_ED2K_OPCODES_H
#define MT_ED2K_OPCODES_H

/* Protocol bytes (§1). packet.h has the same values as ED2K_PROTO_*. */
#define ED2K_PROT_EDONKEY 0xE3     /* classic eDonkey */
#define ED2K_PROT_EMULE 0xC5       /* eMule extended; client UDP too */
#define ED2K_PROT_PACKED 0xD4      /* zlib-packed payload */
#define ED2K_PROT_KAD 0xE4
#define ED2K_PROT_KAD_PACKED 0xE5
#define ED2K_PROT_ED2KV2 0xF4      /* aMule-only experiments; never sent */
#define ED2K_PROT_ED2KV2_PACKED 0xF5

/* eMule protocol version in OP_EMULEINFO (§5.2); 0xFF marks aMule's
 * recycled MuleInfo that carries only ET_OS_INFO. */
#define ED2K_EMULE_PROTOCOL 0x01
#define ED2K_EMULE_PROTOCOL_OSINFO 0xFF
/* CT_VERSION value every eMule-compatible client sends (§5.1). */
#define ED2K_EDONKEY_VERSION 0x3C
/* Highest OP_ANSWERSOURCES2 version (aMule's SOURCEEXCHANGE2_VERSION). */
#define ED2K_SX2_VERSION 4

/* Client <-> client TCP, protocol 0xE3 (§5). */
#define ED2K_OP_HELLO 0x01
#define ED2K_OP_SENDINGPART 0x46
#define ED2K_OP_REQUESTPARTS 0x47
#define ED2K_OP_FILEREQANSNOFIL 0x48
#define ED2K_OP_END_OF_DOWNLOAD 0x49
#define ED2K_OP_ASKSHAREDFILES 0x4A
#define ED2K_OP_ASKSHAREDFILESANSWER 0x4B
#define ED2K_OP_HELLOANSWER 0x4C
#define ED2K_OP_CHANGE_CLIENT_ID 0x4D
#define ED2K_OP_MESSAGE 0x4E
#define ED2K_OP_SETREQFILEID 0x4F
#define ED2K_OP_FILESTATUS 0x50
#define ED2K_OP_HASHSETREQUEST 0x51
#define ED2K_OP_HASHSETANSWER 0x52
#define ED2K_OP_STARTUPLOADREQ 0x54
#define ED2K_OP_ACCEPTUPLOADREQ 0x55
#define ED2K_OP_CANCELTRANSFER 0x56
#define ED2K_OP_OUTOFPARTREQS 0x57
#define ED2K_OP_REQUESTFILENAME 0x58
#define ED2K_OP_REQFILENAMEANSWER 0x59
#define ED2K_OP_CHANGE_SLOT 0x5B        /* Hybrid; ignore */
#define ED2K_OP_QUEUERANK 0x5C
#define ED2K_OP_ASKSHAREDDIRS 0x5D
#define ED2K_OP_ASKSHAREDFILESDIR 0x5E
#define ED2K_OP_ASKSHAREDDIRSANS 0x5F
#define ED2K_OP_ASKSHAREDFILESDIRANS 0x60
#define ED2K_OP_ASKSHAREDDENIEDANS 0x61

/* Client <-> client TCP, protocol 0xC5 (§5). */
#define ED2K_OP_EMULEINFO 0x01
#define ED2K_OP_EMULEINFOANSWER 0x02
#define ED2K_OP_COMPRESSEDPART 0x40
#define ED2K_OP_QUEUERANKING 0x60
#define ED2K_OP_FILEDESC 0x61
#define ED2K_OP_VERIFYUPSREQ 0x71       /* never used */
#define ED2K_OP_VERIFYUPSANSWER 0x72    /* never used */
#define ED2K_OP_UDPVERIFYUPREQ 0x73     /* never used */
#define ED2K_OP_UDPVERIFYUPA 0x74       /* never used */
#define ED2K_OP_REQUESTSOURCES 0x81
#define ED2K_OP_ANSWERSOURCES 0x82
#define ED2K_OP_REQUESTSOURCES2 0x83
#define ED2K_OP_ANSWERSOURCES2 0x84
#define ED2K_OP_PUBLICKEY 0x85          /* secure ident (§5.9); ignored */
#define ED2K_OP_SIGNATURE 0x86
#define ED2K_OP_SECIDENTSTATE 0x87
#define ED2K_OP_REQUESTPREVIEW 0x90     /* ignored */
#define ED2K_OP_PREVIEWANSWER 0x91      /* ignored */
#define ED2K_OP_MULTIPACKET 0x92
#define ED2K_OP_MULTIPACKETANSWER 0x93
#define ED2K_OP_PEERCACHE_QUERY 0x94    /* obsolete */
#define ED2K_OP_PEERCACHE_ANSWER 0x95   /* obsolete */
#define ED2K_OP_PEERCACHE_ACK 0x96      /* obsolete */
#define ED2K_OP_PUBLICIP_REQ 0x97
#define ED2K_OP_PUBLICIP_ANSWER 0x98
#define ED2K_OP_CALLBACK 0x99           /* Kad buddies */
#define ED2K_OP_REASKCALLBACKTCP 0x9A
#define ED2K_OP_AICHREQUEST 0x9B
#define ED2K_OP_AICHANSWER 0x9C
#define ED2K_OP_AICHFILEHASHANS 0x9D
#define ED2K_OP_AICHFILEHASHREQ 0x9E
#define ED2K_OP_BUDDYPING 0x9F
#define ED2K_OP_BUDDYPONG 0xA0
#define ED2K_OP_COMPRESSEDPART_I64 0xA1
#define ED2K_OP_SENDINGPART_I64 0xA2
#define ED2K_OP_REQUESTPARTS_I64 0xA3
#define ED2K_OP_MULTIPACKET_EXT 0xA4
#define ED2K_OP_CHATCAPTCHAREQ 0xA5
#define ED2K_OP_CHATCAPTCHARES 0xA6
#define ED2K_OP_FWCHECKUDPREQ 0xA7      /* Kad firewall check (§10.4) */
#define ED2K_OP_KAD_FWTCPCHECK_ACK 0xA8
/* eMule 0.50 "file identifier" packets, used only when both sides set
 * MISCOPTIONS2 bit 13; Muleteer never does (§5.4). */
#define ED2K_OP_MULTIPACKET_EXT2 0xA9
#define ED2K_OP_MULTIPACKETANSWER_EXT2 0xB0
#define ED2K_OP_HASHSETREQUEST2 0xB1
#define ED2K_OP_HASHSETANSWER2 0xB2

/* Client UDP, protocol 0xC5 (§5.5). */
#define ED2K_OP_REASKFILEPING 0x90
#define ED2K_OP_REASKACK 0x91
#define ED2K_OP_FILENOTFOUND 0x92
#define ED2K_OP_QUEUEFULL 0x93
#define ED2K_OP_REASKCALLBACKUDP 0x94
#define ED2K_OP_DIRECTCALLBACKREQ 0x95
#define ED2K_OP_PORTTEST 0xFE

/* Client tags of OP_HELLO / OP_HELLOANSWER (§2.2). */
#define ED2K_CT_NAME 0x01
#define ED2K_CT_SERVER_UDPSEARCH_FLAGS 0x0E
#define ED2K_CT_PORT 0x0F
#define ED2K_CT_VERSION 0x11
#define ED2K_CT_SERVER_FLAGS 0x20
#define ED2K_CT_MOD_VERSION 0x55
#define ED2K_CT_EMULECOMPAT_OPTIONS 0xEF
#define ED2K_CT_EMULE_UDPPORTS 0xF9
#define ED2K_CT_EMULE_MISCOPTIONS1 0xFA
#define ED2K_CT_EMULE_VERSION 0xFB
#define ED2K_CT_EMULE_BUDDYIP 0xFC
#define ED2K_CT_EMULE_BUDDYUDP 0xFD
#define ED2K_CT_EMULE_MISCOPTIONS2 0xFE

/* MuleInfo tags of OP_EMULEINFO / OP_EMULEINFOANSWER (§5.2). */
#define ED2K_ET_COMPRESSION 0x20
#define ED2K_ET_UDPPORT 0x21
#define ED2K_ET_UDPVER 0x22
#define ED2K_ET_SOURCEEXCHANGE 0x23
#define ED2K_ET_COMMENTS 0x24
#define ED2K_ET_EXTENDEDREQUEST 0x25
#define ED2K_ET_COMPATIBLECLIENT 0x26
#define ED2K_ET_FEATURES 0x27           /* bits 0-1 secure ident, bit 7 preview */
#define ED2K_ET_MOD_VERSION 0x55
#define ED2K_ET_OS_INFO 0x94            /* only with protocol 0xFF */

/* Compatible-client ids in CT_EMULE_VERSION / ET_COMPATIBLECLIENT. */
#define ED2K_SO_EMULE 0x00
#define ED2K_SO_CDONKEY 0x01
#define ED2K_SO_LXMULE 0x02
#define ED2K_SO_AMULE 0x03
#define ED2K_SO_SHAREAZA 0x04
#define ED2K_SO_EMULEPLUS 0x05
#define ED2K_SO_HYDRANODE 0x06
#define ED2K_SO_MLDONKEY 0x0A
#define ED2K_SO_LPHANT 0x14

#endif
