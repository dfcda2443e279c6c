# daemon/local.mk: muleteerd, the daemon that owns the eD2K network and
# writes its state into PostgreSQL. Built as bin/muleteerd.
bin_PROGRAMS += bin/muleteerd
bin_muleteerd_SOURCES = \
	daemon/main.c daemon/daemon.h \
	daemon/control.c daemon/control.h \
	daemon/db_worker.c daemon/db_worker.h \
	daemon/periodic.c daemon/periodic.h \
	daemon/status.c daemon/status.h
bin_muleteerd_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(PTHREAD_CFLAGS)
bin_muleteerd_LDADD = lib/libmtctl.a lib/libmtdb.a lib/libmtutil.a \
	$(EVENT_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(PTHREAD_LIBS)
