/* ed2k_hashfile.c: prints the ed2k hash and AICH root of the files given as
 * arguments, using lib/ed2k; the Muleteer side of bench/bench_hash.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "ed2k/hash.h"

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        ed2k_hash_result_t r;
        mt_error_t *err = NULL;
        if (ed2k_hash_file(argv[i], &r, &err) < 0) {
            fprintf(stderr, "%s\n", err->message);
            mt_error_free(err);
            rc = 1;
            continue;
        }
        char hex[ED2K_HASH_HEX_LEN + 1], b32[ED2K_AICH_B32_LEN + 1];
        ed2k_hash_to_hex(r.file_hash, hex);
        ed2k_aich_to_base32(r.aich_root, b32);
        printf("%s %s %s\n", hex, b32, argv[i]);
        ed2k_hash_result_clear(&r);
    }
    return rc;
}
