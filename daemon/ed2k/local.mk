# daemon/ed2k/local.mk: the eD2K servers: the server list, the one server
# connection and its timing policy, searches. Includes core/, store/,
# net/ and transfer/.
daemon_libmuleteerd_a_SOURCES += \
	daemon/ed2k/srvpolicy.c daemon/ed2k/srvpolicy.h \
	daemon/ed2k/serverlist.c daemon/ed2k/serverlist.h \
	daemon/ed2k/srvround.c daemon/ed2k/srvround.h \
	daemon/ed2k/server.c daemon/ed2k/server.h \
	daemon/ed2k/search_results.c daemon/ed2k/search_results.h \
	daemon/ed2k/search.c daemon/ed2k/search.h

check_PROGRAMS += tests/unit/check_srvpolicy
TESTS += tests/unit/check_srvpolicy
tests_unit_check_srvpolicy_SOURCES = tests/unit/check_srvpolicy.c
tests_unit_check_srvpolicy_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_srvpolicy_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_search_merge
TESTS += tests/unit/check_search_merge
tests_unit_check_search_merge_SOURCES = tests/unit/check_search_merge.c
tests_unit_check_search_merge_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_search_merge_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_serverlist
TESTS += tests/unit/check_serverlist
tests_unit_check_serverlist_SOURCES = tests/unit/check_serverlist.c
tests_unit_check_serverlist_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_serverlist_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
