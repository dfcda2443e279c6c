# lib/util/local.mk: allocation, errors, logging, configuration file, whole
# files, hex digits, random identifiers, UTF-8, user-given directory paths,
# command lines split without a shell, IP filter lists.
noinst_LIBRARIES += lib/libmtutil.a
lib_libmtutil_a_SOURCES = \
	lib/util/clock.h \
	lib/util/xalloc.c lib/util/xalloc.h \
	lib/util/argv.c lib/util/argv.h \
	lib/util/error.c lib/util/error.h \
	lib/util/log.c lib/util/log.h \
	lib/util/conf.c lib/util/conf.h \
	lib/util/confrt.c lib/util/confrt.h \
	lib/util/file.c lib/util/file.h \
	lib/util/hex.c lib/util/hex.h \
	lib/util/random.c lib/util/random.h \
	lib/util/utf8.c lib/util/utf8.h \
	lib/util/path.c lib/util/path.h \
	lib/util/bug.c lib/util/bug.h \
	lib/util/ipfilter.c lib/util/ipfilter.h \
	lib/util/sched.c lib/util/sched.h
# FUZZ_CFLAGS: the fuzz targets see coverage of the UTF-8 decoder too.
lib_libmtutil_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(PTHREAD_CFLAGS) $(ZLIB_CFLAGS)

check_PROGRAMS += tests/unit/check_util
TESTS += tests/unit/check_util
tests_unit_check_util_SOURCES = tests/unit/check_util.c
tests_unit_check_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_util_LDADD = lib/libmtutil.a $(CHECK_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/check_ipfilter
TESTS += tests/unit/check_ipfilter
tests_unit_check_ipfilter_SOURCES = tests/unit/check_ipfilter.c
tests_unit_check_ipfilter_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_check_ipfilter_LDADD = lib/libmtutil.a $(ZLIB_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)

# The IP filter list parser's fuzz target (see lib/ed2k/local.mk).
check_PROGRAMS += tests/fuzz/fuzz_ipfilter
if !FUZZERS
TESTS += tests/fuzz/fuzz_ipfilter
endif
tests_fuzz_fuzz_ipfilter_SOURCES = tests/fuzz/fuzz_ipfilter.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ipfilter_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ipfilter"'
tests_fuzz_fuzz_ipfilter_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ipfilter_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ipfilter_LDADD = lib/libmtutil.a $(ZLIB_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/check_sched
TESTS += tests/unit/check_sched
tests_unit_check_sched_SOURCES = tests/unit/check_sched.c
tests_unit_check_sched_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_sched_LDADD = lib/libmtutil.a $(CHECK_LIBS) $(PTHREAD_LIBS)
