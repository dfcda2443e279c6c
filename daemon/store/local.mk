# daemon/store/local.mk: the database: the writer thread, every SQL
# statement of the daemon (the modules hand over their rows), and the
# download history (which hears the bus). Includes core/ only.
daemon_libmuleteerd_a_SOURCES += \
	daemon/store/db_worker.c daemon/store/db_worker.h \
	daemon/store/statement.c daemon/store/statement.h \
	daemon/store/history.c daemon/store/history.h \
	daemon/store/download_tables.c daemon/store/download_tables.h \
	daemon/store/category_table.c daemon/store/category_table.h \
	daemon/store/tag_table.c daemon/store/tag_table.h \
	daemon/store/search_tables.c daemon/store/search_tables.h \
	daemon/store/server_tables.c daemon/store/server_tables.h \
	daemon/store/status_table.c daemon/store/status_table.h \
	daemon/store/finished_import.c daemon/store/finished_import.h
# The command relay between nodes (docs/cluster.md).
daemon_libmuleteerd_a_SOURCES += \
	daemon/store/command_table.c daemon/store/command_table.h \
	daemon/store/relay.c daemon/store/relay.h
# The relay's SQL protocol and thread, against a real PostgreSQL.
check_PROGRAMS += tests/unit/check_cmdrelay
TESTS += tests/unit/check_cmdrelay
tests_unit_check_cmdrelay_SOURCES = tests/unit/check_cmdrelay.c tests/unit/pgtest.c tests/unit/pgtest.h
tests_unit_check_cmdrelay_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_cmdrelay_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
