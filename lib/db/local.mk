# lib/db/local.mk: libpq helpers and the migrations runner, with the
# migrations from sql/ compiled in.
noinst_LIBRARIES += lib/libmtdb.a
lib_libmtdb_a_SOURCES = \
	lib/db/db.c lib/db/db.h \
	lib/db/migrate.c lib/db/migrate.h \
	lib/db/prep.c lib/db/prep.h \
	lib/db/command.c lib/db/command.h
nodist_lib_libmtdb_a_SOURCES = lib/db/migrations_data.c
lib_libmtdb_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
BUILT_SOURCES += lib/db/migrations_data.c
CLEANFILES += lib/db/migrations_data.c

lib/db/migrations_data.c: $(MIGRATIONS) $(top_srcdir)/build-aux/embed-sql.sh $(top_srcdir)/sql/local.mk
	$(AM_V_GEN)$(MKDIR_P) lib/db && $(SHELL) $(top_srcdir)/build-aux/embed-sql.sh $@ $(top_srcdir) $(MIGRATIONS)

check_PROGRAMS += tests/unit/check_db
TESTS += tests/unit/check_db
tests_unit_check_db_SOURCES = tests/unit/check_db.c tests/unit/pgtest.c tests/unit/pgtest.h
tests_unit_check_db_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_db_LDADD = lib/libmtdb.a lib/libmtutil.a $(PQ_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
