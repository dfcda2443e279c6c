# daemon/ctl/local.mk: the control socket and its commands (each checks
# its arguments and calls the modules), and what the daemon says of
# itself. May include every other folder.
daemon_libmuleteerd_a_SOURCES += \
	daemon/ctl/control.c daemon/ctl/control.h \
	daemon/ctl/status.c daemon/ctl/status.h \
	daemon/ctl/cmd_transfer.c daemon/ctl/cmd_transfer.h \
	daemon/ctl/cmd_category.c daemon/ctl/cmd_category.h \
	daemon/ctl/cmd_search.c daemon/ctl/cmd_search.h \
	daemon/ctl/cmd_server.c daemon/ctl/cmd_server.h \
	daemon/ctl/cmd_kad.c daemon/ctl/cmd_kad.h \
	daemon/ctl/cmd_ipfilter.c daemon/ctl/cmd_ipfilter.h \
	daemon/ctl/cmd_log.c daemon/ctl/cmd_log.h \
	daemon/ctl/cmd_config.c daemon/ctl/cmd_config.h \
	daemon/ctl/cmd_metrics.c daemon/ctl/cmd_metrics.h \
	daemon/ctl/cmd_hooks.c daemon/ctl/cmd_hooks.h \
	daemon/ctl/cmd_import.c daemon/ctl/cmd_import.h \
	daemon/ctl/import_src.c daemon/ctl/import_src.h \
	daemon/ctl/evstream.c daemon/ctl/evstream.h

check_PROGRAMS += tests/unit/check_control
TESTS += tests/unit/check_control
tests_unit_check_control_SOURCES = tests/unit/check_control.c
tests_unit_check_control_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_control_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_import_src
TESTS += tests/unit/check_import_src
tests_unit_check_import_src_SOURCES = tests/unit/check_import_src.c
tests_unit_check_import_src_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_import_src_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
