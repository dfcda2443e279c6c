# daemon/kad/local.mk: the Kad node: its routing table and the node on the
# client UDP port. Includes core/, net/ and transfer/ (the UDP socket).
daemon_libmuleteerd_a_SOURCES += \
	daemon/kad/routing.c daemon/kad/routing.h \
	daemon/kad/lookup.c daemon/kad/lookup.h \
	daemon/kad/index.c daemon/kad/index.h \
	daemon/kad/firewall.c daemon/kad/firewall.h \
	daemon/kad/kad.c daemon/kad/kad.h \
	daemon/kad/nodesurl.c daemon/kad/nodesurl.h

check_PROGRAMS += tests/unit/check_kad_routing
TESTS += tests/unit/check_kad_routing
tests_unit_check_kad_routing_SOURCES = tests/unit/check_kad_routing.c
tests_unit_check_kad_routing_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_routing_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# The node over a fake client UDP port (the test replaces upload.h's hook).
check_PROGRAMS += tests/unit/check_kad_node
TESTS += tests/unit/check_kad_node
tests_unit_check_kad_node_SOURCES = tests/unit/check_kad_node.c
tests_unit_check_kad_node_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_node_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_kad_lookup
TESTS += tests/unit/check_kad_lookup
tests_unit_check_kad_lookup_SOURCES = tests/unit/check_kad_lookup.c
tests_unit_check_kad_lookup_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_lookup_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_kad_index
TESTS += tests/unit/check_kad_index
tests_unit_check_kad_index_SOURCES = tests/unit/check_kad_index.c
tests_unit_check_kad_index_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_index_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# Node lookups started on demand (kad-lookup), over the same kind of fake
# client UDP port.
check_PROGRAMS += tests/unit/check_kad_probe
TESTS += tests/unit/check_kad_probe
tests_unit_check_kad_probe_SOURCES = tests/unit/check_kad_probe.c
tests_unit_check_kad_probe_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_probe_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

# Kad buddies (firewalled operation), over a fake datagram hook.
daemon_libmuleteerd_a_SOURCES += daemon/kad/buddy.c daemon/kad/buddy.h
check_PROGRAMS += tests/unit/check_kad_buddy
TESTS += tests/unit/check_kad_buddy
tests_unit_check_kad_buddy_SOURCES = tests/unit/check_kad_buddy.c
tests_unit_check_kad_buddy_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_kad_buddy_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
