/* partmet.h: the binary file records of aMule and eMule: a download's
 * .part.met (hash set, tags, gaps) and the known-files list known.met,
 * read with bounds checks (the files are untrusted input). */
#ifndef MT_ED2K_PARTMET_H
#define MT_ED2K_PARTMET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Versions (first byte). part.met: 0xE0, or 0xE2 when the file is over
 * 4 GiB and its size and gap tags are 64-bit; eMule's 0xE1 ("splitted")
 * and eDonkey's older layouts are refused (MT_ERR_UNSUPPORTED).
 * known.met: 0x0E, or 0x0F when it may hold 64-bit tags. */
#define ED2K_PARTMET_VERSION 0xE0
#define ED2K_PARTMET_VERSION_LARGE 0xE2
#define ED2K_KNOWNMET_VERSION 0x0E
#define ED2K_KNOWNMET_VERSION_I64 0x0F

/* Tag ids of these files (aMule's and eMule's FT_ names). A gap is two
 * string-named tags: FT_GAPSTART or FT_GAPEND as the first byte of the name
 * followed by the gap's number in decimal ("\x09" "0", "\x0A" "0", ...);
 * the end is exclusive on disk. */
#define ED2K_FT_TRANSFERRED 0x08
#define ED2K_FT_GAPSTART 0x09
#define ED2K_FT_GAPEND 0x0A
#define ED2K_FT_PARTFILENAME 0x12
#define ED2K_FT_STATUS 0x14
#define ED2K_FT_DLPRIORITY 0x18
#define ED2K_FT_AICH_HASH 0x27
#define ED2K_FT_CATEGORY 0x53

/* The most tags one record may hold (a download with many gaps has two
 * per gap), and the most records read from one known.met. */
#define ED2K_PARTMET_MAX_TAGS 100000
#define ED2K_KNOWNMET_MAX_FILES 1000000

/* aMule's download priorities (FT_DLPRIORITY). */
enum {
    ED2K_PRIO_LOW = 0,
    ED2K_PRIO_NORMAL = 1,
    ED2K_PRIO_HIGH = 2,
    ED2K_PRIO_VERYHIGH = 3,
    ED2K_PRIO_VERYLOW = 4,
    ED2K_PRIO_AUTO = 5,
};

/* A missing range [start, end) of a download. */
typedef struct ed2k_gap {
    uint64_t start, end;
} ed2k_gap_t;

/* One file record: a .part.met, or an entry of known.met. Strings are
 * NUL-terminated copies (NULL when absent); part_hashes holds
 * n_part_hashes hashes as read (the caller checks them against the file
 * hash with ed2k_parthashes_md4 and ed2k_hash_count). */
typedef struct ed2k_file_record {
    uint8_t version;      /* the file's version byte */
    uint32_t date;        /* modification time the client recorded */
    uint8_t hash[16];
    uint8_t (*part_hashes)[16];
    size_t n_part_hashes;
    char *name;           /* FT_FILENAME */
    char *part_name;      /* FT_PARTFILENAME ("001.part"), part.met only */
    uint64_t size;        /* FT_FILESIZE (+ FT_FILESIZE_HI); 0 if absent */
    uint64_t transferred; /* FT_TRANSFERRED */
    ed2k_gap_t *gaps;     /* sorted, merged, within [0, size) */
    size_t n_gaps;
    uint32_t category;    /* FT_CATEGORY: 0 none, else the client's index */
    int dl_priority;      /* FT_DLPRIORITY (ED2K_PRIO_*), -1 if absent */
    uint32_t status;      /* FT_STATUS: non-zero for a paused download */
    bool has_aich;
    uint8_t aich[20];     /* FT_AICH_HASH (base32 in the file) */
} ed2k_file_record_t;

/* ed2k_partmet_parse: reads a .part.met image into *out (clear it with
 * ed2k_file_record_clear, also after an error). The size must be 1 ..
 * ED2K_MAX_FILE_SIZE and the name present. Gap tags without their other
 * half are ignored; gaps are clipped to the size. MT_ERR_UNSUPPORTED for
 * another version, MT_ERR_PROTOCOL for a truncated or damaged file,
 * MT_ERR_INVALID for a size or name missing or out of range. */
int ed2k_partmet_parse(const uint8_t *p, size_t len, ed2k_file_record_t *out,
                       mt_error_t **err);

/* ed2k_knownmet_parse: reads a known.met image into a new array *out of *n
 * records (free with ed2k_file_records_free). The count in the header is
 * never trusted: reading stops at the first damaged record, keeping the
 * complete ones before it (*truncated says so, may be NULL); records with
 * no name or a size out of range are skipped. MT_ERR_UNSUPPORTED for
 * another version, MT_ERR_PROTOCOL for a file shorter than its header. */
int ed2k_knownmet_parse(const uint8_t *p, size_t len, ed2k_file_record_t **out, size_t *n,
                        bool *truncated, mt_error_t **err);

void ed2k_file_record_clear(ed2k_file_record_t *r);
void ed2k_file_records_free(ed2k_file_record_t *v, size_t n);

#endif
