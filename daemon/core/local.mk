# daemon/core/local.mk: the loop's services every other folder may use:
# the daemon's state (daemon.h), the event bus, periodic jobs, the worker
# threads, the user hash. Includes nothing of the daemon's other folders.
daemon_libmuleteerd_a_SOURCES += \
	daemon/core/daemon.h \
	daemon/core/bus.c daemon/core/bus.h \
	daemon/core/periodic.c daemon/core/periodic.h \
	daemon/core/worker.c daemon/core/worker.h \
	daemon/core/identity.c daemon/core/identity.h \
	daemon/core/logtap.c daemon/core/logtap.h \
	daemon/core/logring.c daemon/core/logring.h

check_PROGRAMS += tests/unit/check_bus
TESTS += tests/unit/check_bus
tests_unit_check_bus_SOURCES = tests/unit/check_bus.c
tests_unit_check_bus_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_bus_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_logring
TESTS += tests/unit/check_logring
tests_unit_check_logring_SOURCES = tests/unit/check_logring.c
tests_unit_check_logring_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_logring_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
