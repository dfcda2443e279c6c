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
	cgi-bin/common/cgijson.c cgi-bin/common/cgijson.h \
	cgi-bin/common/cgistats.c cgi-bin/common/cgistats.h \
	cgi-bin/common/cgicache.c cgi-bin/common/cgicache.h
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
	cgi-bin/qbit/rowcache.c cgi-bin/qbit/rowcache.h \
	cgi-bin/qbit/infolist.c cgi-bin/qbit/infolist.h \
	cgi-bin/qbit/infomodel.c cgi-bin/qbit/infomodel.h
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

check_PROGRAMS += tests/unit/check_qbit_infolist
TESTS += tests/unit/check_qbit_infolist
tests_unit_check_qbit_infolist_SOURCES = tests/unit/check_qbit_infolist.c
tests_unit_check_qbit_infolist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_qbit_infolist_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_qbit_infolist_LDADD = cgi-bin/libqbitlogic.a lib/libmtutil.a $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/check_qbit_infomodel
TESTS += tests/unit/check_qbit_infomodel
tests_unit_check_qbit_infomodel_SOURCES = tests/unit/check_qbit_infomodel.c
tests_unit_check_qbit_infomodel_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_qbit_infomodel_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_qbit_infomodel_LDADD = cgi-bin/libqbitlogic.a lib/libmtutil.a $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

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

# /api/config, /api/config/status, /api/version and /api/item/detail: the
# web API's configuration, version and item routes, built as
# cgi-bin/config.fcgi (docs/web-api.md).
pkglibexec_PROGRAMS += cgi-bin/config.fcgi
cgi_bin_config_fcgi_SOURCES = cgi-bin/config/main.c cgi-bin/config/cfgapi.h \
	cgi-bin/config/settings.c cgi-bin/config/version.c cgi-bin/config/item.c \
	cgi-bin/config/checkpath.c
cgi_bin_config_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_config_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
cgi_bin_config_fcgi_LDADD = $(CGI_LIBS)

# /metrics: the Prometheus endpoint, built as cgi-bin/prom.fcgi. Its text
# format (promfmt.c) and access rules (access.c) are a library of their
# own for tests/unit/check_promfmt, which also tests the request counters'
# slot files (common/cgistats.c).
noinst_LIBRARIES += cgi-bin/libpromlogic.a
cgi_bin_libpromlogic_a_SOURCES = cgi-bin/prom/promfmt.c cgi-bin/prom/promfmt.h \
	cgi-bin/prom/access.c cgi-bin/prom/access.h
cgi_bin_libpromlogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libpromlogic_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)

pkglibexec_PROGRAMS += cgi-bin/prom.fcgi
cgi_bin_prom_fcgi_SOURCES = cgi-bin/prom/main.c cgi-bin/prom/render.c cgi-bin/prom/prom.h
cgi_bin_prom_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_prom_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
cgi_bin_prom_fcgi_LDADD = cgi-bin/libpromlogic.a $(CGI_LIBS) -lm

check_PROGRAMS += tests/unit/check_promfmt
TESTS += tests/unit/check_promfmt
tests_unit_check_promfmt_SOURCES = tests/unit/check_promfmt.c
tests_unit_check_promfmt_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_promfmt_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) \
	$(PQ_CFLAGS)
tests_unit_check_promfmt_LDADD = cgi-bin/libpromlogic.a $(CGI_LIBS) $(CHECK_LIBS) -lm

# /api/auth/... and /api/users: the web API's sessions (the amule.sid
# cookie), its user accounts and their capabilities, built as
# cgi-bin/auth.fcgi. The Set-Cookie values are a library of their own for
# tests/unit/check_webauth_cookie.
noinst_LIBRARIES += cgi-bin/libauthcookie.a
cgi_bin_libauthcookie_a_SOURCES = cgi-bin/auth/cookie.c cgi-bin/auth/cookie.h
cgi_bin_libauthcookie_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libauthcookie_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)

pkglibexec_PROGRAMS += cgi-bin/auth.fcgi
cgi_bin_auth_fcgi_SOURCES = cgi-bin/auth/main.c cgi-bin/auth/session.c cgi-bin/auth/users.c \
	cgi-bin/auth/auth.h
cgi_bin_auth_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_auth_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) \
	$(NETTLE_CFLAGS)
cgi_bin_auth_fcgi_LDADD = cgi-bin/libauthcookie.a $(CGI_LIBS)

check_PROGRAMS += tests/unit/check_webauth_cookie
TESTS += tests/unit/check_webauth_cookie
tests_unit_check_webauth_cookie_SOURCES = tests/unit/check_webauth_cookie.c
tests_unit_check_webauth_cookie_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_webauth_cookie_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PQ_CFLAGS)
tests_unit_check_webauth_cookie_LDADD = cgi-bin/libauthcookie.a lib/libmtutil.a $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

# /api/metrics/...: aMuTorrent's speed and transfer charts, built as
# cgi-bin/metrics.fcgi. Its ranges, buckets, statistics and JSON
# (series.c) are a library of their own for tests/unit/check_metrics.
noinst_LIBRARIES += cgi-bin/libmetricslogic.a
cgi_bin_libmetricslogic_a_SOURCES = cgi-bin/metrics/series.c cgi-bin/metrics/series.h
cgi_bin_libmetricslogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libmetricslogic_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)

pkglibexec_PROGRAMS += cgi-bin/metrics.fcgi
cgi_bin_metrics_fcgi_SOURCES = cgi-bin/metrics/main.c cgi-bin/metrics/query.c \
	cgi-bin/metrics/metrics.h
cgi_bin_metrics_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_metrics_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) \
	$(PQ_CFLAGS)
cgi_bin_metrics_fcgi_LDADD = cgi-bin/libmetricslogic.a $(CGI_LIBS)

check_PROGRAMS += tests/unit/check_metrics
TESTS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c
tests_unit_check_metrics_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(EVENT_CFLAGS)
tests_unit_check_metrics_LDADD = cgi-bin/libmetricslogic.a lib/libmtutil.a $(EVENT_LIBS) \
	$(CHECK_LIBS) $(PTHREAD_LIBS)

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
