# bench/local.mk: benchmarks that print Muleteer's figures beside a
# reference tool's. Not part of `make check`; run the scripts by hand.
noinst_PROGRAMS += bench/ed2k_hashfile
bench_ed2k_hashfile_SOURCES = bench/ed2k_hashfile.c
bench_ed2k_hashfile_CFLAGS = $(AM_CFLAGS) $(NETTLE_CFLAGS)
bench_ed2k_hashfile_LDADD = lib/libmted2k.a lib/libmtutil.a $(NETTLE_LIBS) $(EVENT_LIBS) \
	$(ZLIB_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += bench/bench_hash.sh
EXTRA_DIST += bench/bench_http.sh
