# daemon/local.mk: muleteerd, the daemon that owns the eD2K network and
# writes its state into PostgreSQL. Built as bin/muleteerd; everything but
# main.c is also a library so unit tests can link the modules. Each folder
# is a layer with its own fragment (docs/architecture.md has the map, and
# build-aux/check-layering.sh the rules of who includes whom).
DAEMON_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(NETTLE_CFLAGS) \
	$(ZLIB_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS) \
	$(MINIUPNPC_CFLAGS)
DAEMON_LIBS = daemon/libmuleteerd.a lib/libmtctl.a lib/libmtdb.a lib/libmted2k.a lib/libmtutil.a \
	$(EVENT_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(NETTLE_LIBS) $(ZLIB_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS) -lm \
	$(MINIUPNPC_LIBS) $(NATPMP_LIBS)

noinst_LIBRARIES += daemon/libmuleteerd.a
daemon_libmuleteerd_a_SOURCES =
daemon_libmuleteerd_a_CFLAGS = $(DAEMON_CFLAGS)

include daemon/core/local.mk
include daemon/store/local.mk
include daemon/net/local.mk
include daemon/transfer/local.mk
include daemon/ed2k/local.mk
include daemon/kad/local.mk
include daemon/hooks/local.mk
include daemon/ctl/local.mk

# main.c puts the modules together: it may include every folder.
bin_PROGRAMS += bin/muleteerd
bin_muleteerd_SOURCES = daemon/main.c
bin_muleteerd_CFLAGS = $(DAEMON_CFLAGS)
bin_muleteerd_LDADD = $(DAEMON_LIBS)

# Unit tests of the daemon as a whole (modules from several folders).
check_PROGRAMS += tests/unit/check_daemon_base
TESTS += tests/unit/check_daemon_base
tests_unit_check_daemon_base_SOURCES = tests/unit/check_daemon_base.c
tests_unit_check_daemon_base_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_daemon_base_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# What each folder may include (build-aux/check-layering.sh, make check).
EXTRA_DIST += daemon/.may_include daemon/core/.may_include daemon/store/.may_include \
	daemon/net/.may_include daemon/transfer/.may_include daemon/ed2k/.may_include \
	daemon/ctl/.may_include daemon/kad/.may_include
