# cgi-bin/local.mk: the FastCGI programs, one per route family, and the
# code they share. Each also works as a plain CGI program.
# cgi-bin/common: the configuration, database connection and daemon
# connection of a program (cgienv), its queries and read-your-writes waits
# (cgidb), and its daemon calls with their HTTP statuses (cgictl).
noinst_LIBRARIES += cgi-bin/libcgicommon.a
cgi_bin_libcgicommon_a_SOURCES = cgi-bin/common/cgienv.c cgi-bin/common/cgienv.h \
	cgi-bin/common/cgidb.c cgi-bin/common/cgidb.h \
	cgi-bin/common/cgictl.c cgi-bin/common/cgictl.h
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
cgi_bin_libqbitlogic_a_SOURCES = cgi-bin/qbit/logic.c cgi-bin/qbit/logic.h
cgi_bin_libqbitlogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin

# sync/maindata's delta computation (what changed between two states),
# pure as well: tests/unit/check_qbit_sync.
noinst_LIBRARIES += cgi-bin/libqbitsync.a
cgi_bin_libqbitsync_a_SOURCES = cgi-bin/qbit/syncdiff.c cgi-bin/qbit/syncdiff.h
cgi_bin_libqbitsync_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libqbitsync_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(NETTLE_CFLAGS)

pkglibexec_PROGRAMS = cgi-bin/qbit.fcgi
cgi_bin_qbit_fcgi_SOURCES = cgi-bin/qbit/main.c cgi-bin/qbit/app.c cgi-bin/qbit/auth.c \
	cgi-bin/qbit/info.c cgi-bin/qbit/actions.c cgi-bin/qbit/sync.c cgi-bin/qbit/qbit.h
cgi_bin_qbit_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_qbit_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(ZLIB_CFLAGS)
cgi_bin_qbit_fcgi_LDADD = cgi-bin/libqbitlogic.a cgi-bin/libqbitsync.a lib/libmted2k.a $(CGI_LIBS) $(ZLIB_LIBS) -lm

check_PROGRAMS += tests/unit/check_qbit
TESTS += tests/unit/check_qbit
tests_unit_check_qbit_SOURCES = tests/unit/check_qbit.c
tests_unit_check_qbit_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
tests_unit_check_qbit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_qbit_LDADD = cgi-bin/libqbitlogic.a $(ED2K_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)

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
