# daemon/transfer/local.mk: files and what moves them: part files (range
# sets, block selection, attributes, the descriptor cache), shared files,
# downloads and their sources, uploads, finished downloads, categories,
# and the downloads table's sync. Includes core/, store/ and net/.
daemon_libmuleteerd_a_SOURCES += \
	daemon/transfer/dlattr.c daemon/transfer/dlattr.h \
	daemon/transfer/rangeset.c daemon/transfer/rangeset.h \
	daemon/transfer/partfile.h daemon/transfer/partfile_int.h \
	daemon/transfer/partfile_meta.c daemon/transfer/partfile_fields.c \
	daemon/transfer/partfile_data.c daemon/transfer/partfile_save.c \
	daemon/transfer/partfile_verify.c daemon/transfer/partfile_complete.c \
	daemon/transfer/fdcache.c daemon/transfer/fdcache.h \
	daemon/transfer/blocksel.c daemon/transfer/blocksel.h \
	daemon/transfer/shared.c daemon/transfer/shared.h \
	daemon/transfer/category.c daemon/transfer/category.h \
	daemon/transfer/taglist.c daemon/transfer/taglist.h \
	daemon/transfer/finished.c daemon/transfer/finished.h \
	daemon/transfer/sharelimit.c daemon/transfer/sharelimit.h \
	daemon/transfer/srcpolicy.c daemon/transfer/srcpolicy.h \
	daemon/transfer/source.c daemon/transfer/source.h \
	daemon/transfer/download.c daemon/transfer/download.h daemon/transfer/download_int.h \
	daemon/transfer/credits.c daemon/transfer/credits.h \
	daemon/transfer/ident.c daemon/transfer/ident.h \
	daemon/transfer/upload_queue.c daemon/transfer/upload_queue.h \
	daemon/transfer/upload.c daemon/transfer/upload.h \
	daemon/transfer/aichdata.c daemon/transfer/aichdata.h \
	daemon/transfer/dbsync.c daemon/transfer/dbsync.h \
	daemon/transfer/import_part.c daemon/transfer/import_part.h

check_PROGRAMS += tests/unit/check_finished tests/unit/check_upload
TESTS += tests/unit/check_upload
tests_unit_check_upload_SOURCES = tests/unit/check_upload.c
tests_unit_check_upload_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_upload_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
TESTS += tests/unit/check_finished
tests_unit_check_finished_SOURCES = tests/unit/check_finished.c
tests_unit_check_finished_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_finished_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# The share-limit decision, with a fake clock.
check_PROGRAMS += tests/unit/check_sharelimit
TESTS += tests/unit/check_sharelimit
tests_unit_check_sharelimit_SOURCES = tests/unit/check_sharelimit.c
tests_unit_check_sharelimit_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_sharelimit_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# The download state machine: the queue and its sources against real part
# files, the bus and workers; the test fakes the peer layer (peer.h) itself.
check_PROGRAMS += tests/unit/check_download
TESTS += tests/unit/check_download
tests_unit_check_download_SOURCES = tests/unit/check_download.c
tests_unit_check_download_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_download_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

STORAGE_UNIT_TESTS = \
	tests/unit/check_rangeset \
	tests/unit/check_partfile \
	tests/unit/check_fdcache \
	tests/unit/check_blocksel
check_PROGRAMS += $(STORAGE_UNIT_TESTS)
TESTS += $(STORAGE_UNIT_TESTS)
# DAEMON_CFLAGS/DAEMON_LIBS (daemon/local.mk) carry nettle and the eD2K
# library the module needs.
STORAGE_CHECK_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
STORAGE_CHECK_LINK = $(DAEMON_LIBS) $(CHECK_LIBS)
tests_unit_check_rangeset_SOURCES = tests/unit/check_rangeset.c
tests_unit_check_rangeset_CFLAGS = $(STORAGE_CHECK_CFLAGS)
tests_unit_check_rangeset_LDADD = $(STORAGE_CHECK_LINK)
tests_unit_check_partfile_SOURCES = tests/unit/check_partfile.c
tests_unit_check_partfile_CFLAGS = $(STORAGE_CHECK_CFLAGS)
tests_unit_check_partfile_LDADD = $(STORAGE_CHECK_LINK)
tests_unit_check_fdcache_SOURCES = tests/unit/check_fdcache.c
tests_unit_check_fdcache_CFLAGS = $(STORAGE_CHECK_CFLAGS)
tests_unit_check_fdcache_LDADD = $(STORAGE_CHECK_LINK)
tests_unit_check_blocksel_SOURCES = tests/unit/check_blocksel.c
tests_unit_check_blocksel_CFLAGS = $(STORAGE_CHECK_CFLAGS)
tests_unit_check_blocksel_LDADD = $(STORAGE_CHECK_LINK)

# Fuzz target for the metadata parser. partfile_meta.c, dlattr.c and
# rangeset.c are compiled into it (with FUZZ_CFLAGS) rather than taken
# from the daemon library, so libFuzzer sees their coverage.
MT_FUZZ_TARGETS += tests/fuzz/fuzz_partfile_met
check_PROGRAMS += tests/fuzz/fuzz_partfile_met
if !FUZZERS
TESTS += tests/fuzz/fuzz_partfile_met
endif
tests_fuzz_fuzz_partfile_met_SOURCES = tests/fuzz/fuzz_partfile_met.c \
	daemon/transfer/partfile_meta.c daemon/transfer/dlattr.c daemon/transfer/rangeset.c \
	$(FUZZ_MAIN)
tests_fuzz_fuzz_partfile_met_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/partfile_met"'
tests_fuzz_fuzz_partfile_met_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(JSONC_CFLAGS) \
	$(NETTLE_CFLAGS) $(PTHREAD_CFLAGS)
tests_fuzz_fuzz_partfile_met_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_partfile_met_LDADD = lib/libmted2k.a lib/libmtutil.a $(JSONC_LIBS) \
	$(NETTLE_LIBS) $(PTHREAD_LIBS)

# The credit table: aMule's score modifier, the state file, expiry.
check_PROGRAMS += tests/unit/check_credits
TESTS += tests/unit/check_credits
tests_unit_check_credits_SOURCES = tests/unit/check_credits.c
tests_unit_check_credits_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_credits_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
