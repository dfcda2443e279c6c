# cli/local.mk: muleteer, the command-line client of the control socket.
# Built as bin/muleteer.
bin_PROGRAMS += bin/muleteer
bin_muleteer_SOURCES = cli/muleteer.c cli/cli.h cli/show.c cli/show.h \
	cli/passwd.c cli/passwd.h cli/user.c cli/user.h \
	cli/remote.c cli/remote.h
# Password hashing (hash-password, passwd) is lib/webauth/password.c:
# nettle; `muleteer user` writes web_users through lib/webauth/users.c and
# lib/db: libpq.
bin_muleteer_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(NETTLE_CFLAGS) $(PQ_CFLAGS)
bin_muleteer_LDADD = lib/libmtwebauth.a lib/libmtctl.a lib/libmtdb.a lib/libmtutil.a $(JSONC_LIBS) \
	$(PQ_LIBS) $(NETTLE_LIBS) $(PTHREAD_LIBS)

# The client as a user runs it, against a fake daemon.
check_PROGRAMS += tests/unit/check_cli
TESTS += tests/unit/check_cli
tests_unit_check_cli_SOURCES = tests/unit/check_cli.c
tests_unit_check_cli_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_cli_LDADD = lib/libmtutil.a $(JSONC_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
