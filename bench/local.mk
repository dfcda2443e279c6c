# bench/local.mk: benchmarks that print Muleteer's figures beside a
# reference tool's. Not part of `make check`; run the scripts by hand, after
# `make bench-programs` (in a build configured without sanitizers).
noinst_PROGRAMS += bench/ed2k_hashfile
bench_ed2k_hashfile_SOURCES = bench/ed2k_hashfile.c
bench_ed2k_hashfile_CFLAGS = $(AM_CFLAGS) $(NETTLE_CFLAGS)
bench_ed2k_hashfile_LDADD = lib/libmted2k.a lib/libmtutil.a $(NETTLE_LIBS) $(EVENT_LIBS) \
	$(ZLIB_LIBS) $(PTHREAD_LIBS)
noinst_PROGRAMS += bench/ipfilter_bench
bench_ipfilter_bench_SOURCES = bench/ipfilter_bench.c
bench_ipfilter_bench_LDADD = lib/libmtutil.a $(ZLIB_LIBS) $(PTHREAD_LIBS)

# Everything the scripts run: the hasher, the daemon and its client, and the
# eD2K server fixture (a check program, so not built by plain `make`).
.PHONY: bench-programs
bench-programs: bench/ed2k_hashfile bench/ipfilter_bench bin/muleteerd bin/muleteer tests/fixtures/ed2k_server \
	cgi-bin/torznab.fcgi cgi-bin/history.fcgi

EXTRA_DIST += bench/bench_hash.sh bench/bench_http.sh bench/bench_transfer.sh bench/bench_torznab.sh \
	bench/bench_memory.sh bench/bench_lib.sh bench/bench_rollups.sh bench/bench_sync.sh \
	bench/bench_metrics.sh bench/bench_history.sh bench/bench_ws.sh bench/bench_ws.py \
	bench/bench_ipfilter.sh bench/bench_obfuscation.sh
EXTRA_DIST += bench/bench_kad.sh
