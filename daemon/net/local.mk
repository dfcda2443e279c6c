# daemon/net/local.mk: addresses, listening sockets, host names, and the
# peer connections (handshake, framing, rate limits, bans). Includes core/.
daemon_libmuleteerd_a_SOURCES += \
	daemon/net/net.c daemon/net/net.h \
	daemon/net/listener.c daemon/net/listener.h \
	daemon/net/resolve.c daemon/net/resolve.h \
	daemon/net/peer.c daemon/net/peer.h \
	daemon/net/speedlimit.c daemon/net/speedlimit.h \
	daemon/net/ipblock.c daemon/net/ipblock.h \
	daemon/net/limitsched.c daemon/net/limitsched.h \
	daemon/net/portmap.c daemon/net/portmap.h \
	daemon/net/portmap_igd.c daemon/net/portmap_igd.h \
	daemon/net/urlfetch.c daemon/net/urlfetch.h

check_PROGRAMS += tests/unit/check_speedlimit
TESTS += tests/unit/check_speedlimit
tests_unit_check_speedlimit_SOURCES = tests/unit/check_speedlimit.c
tests_unit_check_speedlimit_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_speedlimit_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_ipblock
TESTS += tests/unit/check_ipblock
tests_unit_check_ipblock_SOURCES = tests/unit/check_ipblock.c
tests_unit_check_ipblock_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_ipblock_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_portmap
TESTS += tests/unit/check_portmap
tests_unit_check_portmap_SOURCES = tests/unit/check_portmap.c
tests_unit_check_portmap_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_portmap_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# urlfetch against an HTTP server on loopback in the test itself.
check_PROGRAMS += tests/unit/check_urlfetch
TESTS += tests/unit/check_urlfetch
tests_unit_check_urlfetch_SOURCES = tests/unit/check_urlfetch.c
tests_unit_check_urlfetch_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_urlfetch_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
