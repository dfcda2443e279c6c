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
