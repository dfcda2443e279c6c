# cgi-bin/local.mk: the FastCGI programs, one per route family, and the
# code they share. Each also works as a plain CGI program.
# cgi-bin/common: the configuration, database connection and daemon
# connection of a program (cgienv), its queries and read-your-writes waits
# (cgidb), its daemon calls with their HTTP statuses (cgictl), and large
# answers handed to the web server as files (cgifile).
noinst_LIBRARIES += cgi-bin/libcgicommon.a
cgi_bin_libcgicommon_a_SOURCES = cgi-bin/common/cgienv.c cgi-bin/common/cgienv.h \
	cgi-bin/common/cgidb.c cgi-bin/common/cgidb.h \
	cgi-bin/common/cgictl.c cgi-bin/common/cgictl.h \
	cgi-bin/common/cgifile.c cgi-bin/common/cgifile.h \
	cgi-bin/common/cgijson.c cgi-bin/common/cgijson.h
cgi_bin_libcgicommon_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libcgicommon_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS)

CGI_LIBS = cgi-bin/libcgicommon.a lib/libmtwebauth.a lib/libmthttp.a lib/libmtctl.a \
	lib/libmtdb.a lib/libmtutil.a \
	$(FCGI_LIBS) $(EVENT_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(NETTLE_LIBS) $(PTHREAD_LIBS)

# /api/v2: the qBittorrent-compatible API, built as cgi-bin/qbit.fcgi (the
# name works for FastCGI and, with a .fcgi/.cgi handler, for plain CGI).
# Its pure rules (hashes, links, states, names) are a library of their own
# so tests/unit/check_qbit links them without FastCGI or PostgreSQL.
noinst_LIBRARIES += cgi-bin/libqbitlogic.a
cgi_bin_libqbitlogic_a_SOURCES = cgi-bin/qbit/logic.c cgi-bin/qbit/logic.h \
	cgi-bin/qbit/prefs.c cgi-bin/qbit/prefs.h \
	cgi-bin/qbit/rowcache.c cgi-bin/qbit/rowcache.h
cgi_bin_libqbitlogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libqbitlogic_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)

# sync/maindata's delta computation (what changed between two states),
# pure as well: tests/unit/check_qbit_sync.
noinst_LIBRARIES += cgi-bin/libqbitsync.a
cgi_bin_libqbitsync_a_SOURCES = cgi-bin/qbit/syncdiff.c cgi-bin/qbit/syncdiff.h
cgi_bin_libqbitsync_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libqbitsync_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(NETTLE_CFLAGS)

pkglibexec_PROGRAMS = cgi-bin/qbit.fcgi
cgi_bin_qbit_fcgi_SOURCES = cgi-bin/qbit/main.c cgi-bin/qbit/app.c cgi-bin/qbit/auth.c \
	cgi-bin/qbit/info.c cgi-bin/qbit/actions.c cgi-bin/qbit/sync.c cgi-bin/qbit/qbit.h \
	cgi-bin/qbit/pieces.c cgi-bin/qbit/speed.c cgi-bin/qbit/log.c
cgi_bin_qbit_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_qbit_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(ZLIB_CFLAGS)
cgi_bin_qbit_fcgi_LDADD = cgi-bin/libqbitlogic.a cgi-bin/libqbitsync.a lib/libmted2k.a $(CGI_LIBS) $(ZLIB_LIBS) -lm

check_PROGRAMS += tests/unit/check_qbit
TESTS += tests/unit/check_qbit
tests_unit_check_qbit_SOURCES = tests/unit/check_qbit.c
tests_unit_check_qbit_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_qbit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_qbit_LDADD = cgi-bin/libqbitlogic.a $(ED2K_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS) \
	$(JSONC_LIBS) -lm

check_PROGRAMS += tests/unit/check_qbit_sync
TESTS += tests/unit/check_qbit_sync
tests_unit_check_qbit_sync_SOURCES = tests/unit/check_qbit_sync.c
tests_unit_check_qbit_sync_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_qbit_sync_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_qbit_sync_LDADD = cgi-bin/libqbitsync.a lib/libmtutil.a $(NETTLE_LIBS) \
	$(EVENT_LIBS) $(JSONC_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)

# cgi-bin/common without a network or PostgreSQL: failures as statuses, a
# fake daemon on a Unix socket, the request's clean-up.
check_PROGRAMS += tests/unit/check_cgicommon
TESTS += tests/unit/check_cgicommon
tests_unit_check_cgicommon_SOURCES = tests/unit/check_cgicommon.c
tests_unit_check_cgicommon_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_cgicommon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
tests_unit_check_cgicommon_LDADD = $(CGI_LIBS) $(CHECK_LIBS)

# /indexer/<name>/api: the Torznab indexer (Sonarr, Radarr, Prowlarr),
# built as cgi-bin/torznab.fcgi. Its pure rules (query.c: parameters,
# classes, expressions) and its XML (feed.c, libxml2) are a library of
# their own for tests/unit/check_torznab and the query parser's fuzz
# target.
noinst_LIBRARIES += cgi-bin/libtorznablogic.a
cgi_bin_libtorznablogic_a_SOURCES = cgi-bin/torznab/query.c cgi-bin/torznab/query.h \
	cgi-bin/torznab/feed.c cgi-bin/torznab/feed.h
cgi_bin_libtorznablogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libtorznablogic_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(XML_CFLAGS)

pkglibexec_PROGRAMS += cgi-bin/torznab.fcgi
cgi_bin_torznab_fcgi_SOURCES = cgi-bin/torznab/main.c cgi-bin/torznab/search.c \
	cgi-bin/torznab/torznab.h
cgi_bin_torznab_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_torznab_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) \
	$(PQ_CFLAGS) $(XML_CFLAGS)
cgi_bin_torznab_fcgi_LDADD = cgi-bin/libtorznablogic.a lib/libmted2k.a $(CGI_LIBS) $(XML_LIBS) \
	$(ZLIB_LIBS) -lm

check_PROGRAMS += tests/unit/check_torznab
TESTS += tests/unit/check_torznab
tests_unit_check_torznab_SOURCES = tests/unit/check_torznab.c
tests_unit_check_torznab_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_torznab_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(XML_CFLAGS)
tests_unit_check_torznab_LDADD = cgi-bin/libtorznablogic.a lib/libmtutil.a $(XML_LIBS) \
	$(CHECK_LIBS) $(PTHREAD_LIBS)

# Fuzz target of the query parser: replays its corpus in `make check`, or
# links with libFuzzer under --enable-fuzzers.
MT_FUZZ_TARGETS += tests/fuzz/fuzz_torznab_query
check_PROGRAMS += tests/fuzz/fuzz_torznab_query
if !FUZZERS
TESTS += tests/fuzz/fuzz_torznab_query
endif
tests_fuzz_fuzz_torznab_query_SOURCES = tests/fuzz/fuzz_torznab_query.c $(FUZZ_MAIN)
tests_fuzz_fuzz_torznab_query_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/torznab_query"'
tests_fuzz_fuzz_torznab_query_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(XML_CFLAGS)
tests_fuzz_fuzz_torznab_query_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_torznab_query_LDADD = cgi-bin/libtorznablogic.a lib/libmtutil.a $(XML_LIBS) \
	$(PTHREAD_LIBS)

# /api/history: the download history of aMuTorrent's web API, built as
# cgi-bin/history.fcgi. Its pure rules (parameters, SQL text, CSV) are a
# library of their own for tests/unit/check_history.
noinst_LIBRARIES += cgi-bin/libhistorylogic.a
cgi_bin_libhistorylogic_a_SOURCES = cgi-bin/history/query.c cgi-bin/history/query.h
cgi_bin_libhistorylogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libhistorylogic_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)

pkglibexec_PROGRAMS += cgi-bin/history.fcgi
cgi_bin_history_fcgi_SOURCES = cgi-bin/history/main.c cgi-bin/history/handlers.c \
	cgi-bin/history/history.h
cgi_bin_history_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_history_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
cgi_bin_history_fcgi_LDADD = cgi-bin/libhistorylogic.a $(CGI_LIBS)

check_PROGRAMS += tests/unit/check_history
TESTS += tests/unit/check_history
tests_unit_check_history_SOURCES = tests/unit/check_history.c
tests_unit_check_history_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_history_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(EVENT_CFLAGS)
tests_unit_check_history_LDADD = cgi-bin/libhistorylogic.a lib/libmtutil.a $(EVENT_LIBS) \
	$(CHECK_LIBS) $(PTHREAD_LIBS)
