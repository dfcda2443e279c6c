# daemon/local.mk: muleteerd, the daemon that owns the eD2K network and
# writes its state into PostgreSQL. Built as bin/muleteerd; everything but
# main.c is also a library so unit tests can link the modules.
DAEMON_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(NETTLE_CFLAGS) \
	$(ZLIB_CFLAGS) $(CURL_CFLAGS) $(PTHREAD_CFLAGS)
DAEMON_LIBS = daemon/libmuleteerd.a lib/libmtctl.a lib/libmtdb.a lib/libmted2k.a lib/libmtutil.a \
	$(EVENT_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(NETTLE_LIBS) $(ZLIB_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)

noinst_LIBRARIES += daemon/libmuleteerd.a
daemon_libmuleteerd_a_SOURCES = \
	daemon/daemon.h \
	daemon/bus.c daemon/bus.h \
	daemon/control.c daemon/control.h \
	daemon/db_worker.c daemon/db_worker.h \
	daemon/dbsync.c daemon/dbsync.h \
	daemon/history.c daemon/history.h \
	daemon/category.c daemon/category.h \
	daemon/identity.c daemon/identity.h \
	daemon/listener.c daemon/listener.h \
	daemon/net.c daemon/net.h \
	daemon/periodic.c daemon/periodic.h \
	daemon/peer.c daemon/peer.h \
	daemon/download.c daemon/download.h \
	daemon/finished.c daemon/finished.h \
	daemon/upload.c daemon/upload.h \
	daemon/cmd_transfer.c daemon/cmd_transfer.h \
	daemon/cmd_category.c daemon/cmd_category.h \
	daemon/server.c daemon/server.h \
	daemon/serverlist.c daemon/serverlist.h \
	daemon/search.c daemon/search.h \
	daemon/resolve.c daemon/resolve.h \
	daemon/shared.c daemon/shared.h \
	daemon/srvpolicy.c daemon/srvpolicy.h \
	daemon/status.c daemon/status.h \
	daemon/worker.c daemon/worker.h \
	daemon/store/search_tables.c daemon/store/search_tables.h \
	daemon/store/server_tables.c daemon/store/server_tables.h \
	daemon/store/category_table.c daemon/store/category_table.h \
	daemon/store/status_table.c daemon/store/status_table.h \
	daemon/store/finished_import.c daemon/store/finished_import.h \
	daemon/store/download_tables.c daemon/store/download_tables.h \
	daemon/ctl/cmd_search.c daemon/ctl/cmd_search.h \
	daemon/ctl/cmd_server.c daemon/ctl/cmd_server.h
daemon_libmuleteerd_a_CFLAGS = $(DAEMON_CFLAGS)

include daemon/storage.mk

bin_PROGRAMS += bin/muleteerd
bin_muleteerd_SOURCES = daemon/main.c
bin_muleteerd_CFLAGS = $(DAEMON_CFLAGS)
bin_muleteerd_LDADD = $(DAEMON_LIBS)

check_PROGRAMS += tests/unit/check_bus
TESTS += tests/unit/check_bus
tests_unit_check_bus_SOURCES = tests/unit/check_bus.c
tests_unit_check_bus_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_bus_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_control
TESTS += tests/unit/check_control
tests_unit_check_control_SOURCES = tests/unit/check_control.c
tests_unit_check_control_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_control_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_daemon_base
TESTS += tests/unit/check_daemon_base
tests_unit_check_daemon_base_SOURCES = tests/unit/check_daemon_base.c
tests_unit_check_daemon_base_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_daemon_base_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_finished
TESTS += tests/unit/check_finished
tests_unit_check_finished_SOURCES = tests/unit/check_finished.c
tests_unit_check_finished_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_finished_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_srvpolicy
TESTS += tests/unit/check_srvpolicy
tests_unit_check_srvpolicy_SOURCES = tests/unit/check_srvpolicy.c
tests_unit_check_srvpolicy_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_srvpolicy_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
