# lib/ctl/local.mk: the control-socket protocol codec, the readers of a
# request's arguments, and the client.
noinst_LIBRARIES += lib/libmtctl.a
lib_libmtctl_a_SOURCES = \
	lib/ctl/proto.c lib/ctl/proto.h \
	lib/ctl/args.c lib/ctl/args.h \
	lib/ctl/client.c lib/ctl/client.h
lib_libmtctl_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(JSONC_CFLAGS)

check_PROGRAMS += tests/unit/check_ctl
TESTS += tests/unit/check_ctl
tests_unit_check_ctl_SOURCES = tests/unit/check_ctl.c
tests_unit_check_ctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_ctl_LDADD = lib/libmtctl.a lib/libmtutil.a $(JSONC_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)

MT_FUZZ_TARGETS += tests/fuzz/fuzz_ctl_request
check_PROGRAMS += tests/fuzz/fuzz_ctl_request
if !FUZZERS
TESTS += tests/fuzz/fuzz_ctl_request
endif
tests_fuzz_fuzz_ctl_request_SOURCES = tests/fuzz/fuzz_ctl_request.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ctl_request_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ctl_request"'
tests_fuzz_fuzz_ctl_request_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_ctl_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ctl_request_LDADD = lib/libmtctl.a lib/libmtutil.a $(JSONC_LIBS) $(PTHREAD_LIBS)
