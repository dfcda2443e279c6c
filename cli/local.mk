# cli/local.mk: muleteer, the command-line client of the control socket.
# Built as bin/muleteer.
bin_PROGRAMS += bin/muleteer
bin_muleteer_SOURCES = cli/muleteer.c
bin_muleteer_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
bin_muleteer_LDADD = lib/libmtctl.a lib/libmtutil.a $(JSONC_LIBS) $(PTHREAD_LIBS)
