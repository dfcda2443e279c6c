# lib/http/local.mk: FastCGI request parsing, responses, the route-table
# dispatcher and the serving loop shared by every program in cgi-bin/.
# Pure HTTP: no database (web authentication is lib/webauth).
noinst_LIBRARIES += lib/libmthttp.a
lib_libmthttp_a_SOURCES = \
	lib/http/http.h \
	lib/http/request.c lib/http/request.h \
	lib/http/response.c lib/http/response.h \
	lib/http/router.c lib/http/router.h \
	lib/http/server.c lib/http/server.h
# FUZZ_CFLAGS (empty unless --enable-fuzzers) gives libFuzzer coverage of
# the parsers themselves, not only of the fuzz target.
lib_libmthttp_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS)

HTTP_TEST_LIBS = lib/libmthttp.a lib/libmtutil.a $(FCGI_LIBS) $(EVENT_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/check_http
TESTS += tests/unit/check_http
tests_unit_check_http_SOURCES = tests/unit/check_http.c
tests_unit_check_http_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_http_LDADD = $(HTTP_TEST_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
# check_http runs http_echo as a CGI program.
EXTRA_tests_unit_check_http_DEPENDENCIES = tests/unit/http_echo$(EXEEXT)

# A tiny program on http_serve, run by check_http as a plain CGI program
# (and usable under a FastCGI server by hand).
check_PROGRAMS += tests/unit/http_echo
tests_unit_http_echo_SOURCES = tests/unit/http_echo.c
tests_unit_http_echo_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_unit_http_echo_LDADD = $(HTTP_TEST_LIBS) $(PTHREAD_LIBS)

# Fuzz target: replays its corpus in `make check`, or links with libFuzzer
# under --enable-fuzzers (then tests/fuzz/run-fuzzers.sh runs it).
MT_FUZZ_TARGETS += tests/fuzz/fuzz_http_request
check_PROGRAMS += tests/fuzz/fuzz_http_request
if !FUZZERS
TESTS += tests/fuzz/fuzz_http_request
endif
tests_fuzz_fuzz_http_request_SOURCES = tests/fuzz/fuzz_http_request.c $(FUZZ_MAIN)
tests_fuzz_fuzz_http_request_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/http_request"'
tests_fuzz_fuzz_http_request_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_http_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_http_request_LDADD = $(HTTP_TEST_LIBS) $(PTHREAD_LIBS)
