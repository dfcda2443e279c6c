# daemon/hooks/local.mk: programs and webhooks run on download events,
# heard on the bus (docs/hooks.md). Includes core only.
daemon_libmuleteerd_a_SOURCES += \
	daemon/hooks/hookargs.c daemon/hooks/hookargs.h \
	daemon/hooks/hookbody.c daemon/hooks/hookbody.h \
	daemon/hooks/webhook.c daemon/hooks/webhook.h \
	daemon/hooks/hooks.c daemon/hooks/hooks.h

check_PROGRAMS += tests/unit/check_hookargs
TESTS += tests/unit/check_hookargs
tests_unit_check_hookargs_SOURCES = tests/unit/check_hookargs.c
tests_unit_check_hookargs_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_hookargs_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)

EXTRA_DIST += daemon/hooks/.may_include

check_PROGRAMS += tests/unit/check_hooks
TESTS += tests/unit/check_hooks
tests_unit_check_hooks_SOURCES = tests/unit/check_hooks.c
tests_unit_check_hooks_CFLAGS = $(DAEMON_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_hooks_LDADD = $(DAEMON_LIBS) $(CHECK_LIBS)
