# ws/local.mk: muleteer-ws, the WebSocket server of aMuTorrent's protocol
# (docs/websocket.md), on libwebsockets. Its pure parts (the action
# decoder, the items, the deltas) are a library of their own for
# tests/unit/check_ws and the decoder's fuzz target.
noinst_LIBRARIES += ws/libwslogic.a
ws_libwslogic_a_SOURCES = ws/action.c ws/action.h ws/item.c ws/item.h ws/delta.c ws/delta.h \
	ws/owner.c ws/owner.h
ws_libwslogic_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
ws_libwslogic_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(JSONC_CFLAGS)

bin_PROGRAMS += bin/muleteer-ws
bin_muleteer_ws_SOURCES = ws/main.c ws/server.c ws/feed.c ws/handlers.c ws/admin.c \
	ws/search.c ws/task.c ws/wsd.h
bin_muleteer_ws_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
bin_muleteer_ws_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
bin_muleteer_ws_LDADD = ws/libwslogic.a lib/libmtwebauth.a lib/libmthttp.a lib/libmtctl.a \
	lib/libmtdb.a lib/libmtutil.a $(LWS_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(NETTLE_LIBS) \
	$(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/check_ws
TESTS += tests/unit/check_ws
tests_unit_check_ws_SOURCES = tests/unit/check_ws.c
tests_unit_check_ws_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_unit_check_ws_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_ws_LDADD = ws/libwslogic.a lib/libmtutil.a $(JSONC_LIBS) $(CHECK_LIBS) \
	$(PTHREAD_LIBS)

# Fuzz target of the action decoder: replays its corpus in `make check`,
# or links with libFuzzer under --enable-fuzzers.
MT_FUZZ_TARGETS += tests/fuzz/fuzz_ws_action
check_PROGRAMS += tests/fuzz/fuzz_ws_action
if !FUZZERS
TESTS += tests/fuzz/fuzz_ws_action
endif
tests_fuzz_fuzz_ws_action_SOURCES = tests/fuzz/fuzz_ws_action.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ws_action_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ws_action"'
tests_fuzz_fuzz_ws_action_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(JSONC_CFLAGS)
tests_fuzz_fuzz_ws_action_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ws_action_LDADD = ws/libwslogic.a lib/libmtutil.a $(JSONC_LIBS) $(PTHREAD_LIBS)

# The tasks (ws/task.c) against a real libwebsockets context.
check_PROGRAMS += tests/unit/check_ws_task
TESTS += tests/unit/check_ws_task
tests_unit_check_ws_task_SOURCES = tests/unit/check_ws_task.c ws/task.c
tests_unit_check_ws_task_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_unit_check_ws_task_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LWS_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS)
tests_unit_check_ws_task_LDADD = lib/libmtctl.a lib/libmtdb.a lib/libmtutil.a $(LWS_LIBS) \
	$(JSONC_LIBS) $(PQ_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
