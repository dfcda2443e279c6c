# lib/webauth/local.mk: web authentication for the FastCGI programs:
# sessions and bans in PostgreSQL (auth.c, on lib/http's requests and
# lib/db), and the password strings and constant-time compares
# (password.c, nettle only).
noinst_LIBRARIES += lib/libmtwebauth.a
lib_libmtwebauth_a_SOURCES = \
	lib/webauth/auth.c lib/webauth/auth.h \
	lib/webauth/password.c lib/webauth/password.h \
	lib/webauth/caps.c lib/webauth/caps.h \
	lib/webauth/users.c lib/webauth/users.h
lib_libmtwebauth_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(NETTLE_CFLAGS) $(PTHREAD_CFLAGS)
# A program calling webauth/auth.h links these after lib/libmtwebauth.a
# (and lib/libmthttp.a); one that calls only webauth/password.h needs
# $(NETTLE_LIBS) alone.
WEBAUTH_LIBS = lib/libmtdb.a $(PQ_LIBS) $(NETTLE_LIBS)

# Sessions and bans against a private PostgreSQL cluster
# (tools/pgcluster.sh), password strings, constant-time compares.
check_PROGRAMS += tests/unit/check_auth
TESTS += tests/unit/check_auth
tests_unit_check_auth_SOURCES = tests/unit/check_auth.c tests/unit/pgtest.c tests/unit/pgtest.h
tests_unit_check_auth_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PQ_CFLAGS) $(NETTLE_CFLAGS) \
	$(EVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_auth_LDADD = lib/libmtwebauth.a $(WEBAUTH_LIBS) $(HTTP_TEST_LIBS) $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

# The pure rules: capability names, user names, the retry delay, the
# loopback test (caps.c); no database.
check_PROGRAMS += tests/unit/check_webcaps
TESTS += tests/unit/check_webcaps
tests_unit_check_webcaps_SOURCES = tests/unit/check_webcaps.c
tests_unit_check_webcaps_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_webcaps_LDADD = lib/libmtwebauth.a lib/libmtutil.a $(CHECK_LIBS) $(PTHREAD_LIBS)
