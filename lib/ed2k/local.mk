# lib/ed2k/local.mk: the eD2K wire codec (hashes, links, packet framing,
# tags, search expressions and results), its unit tests and its fuzz targets.
noinst_LIBRARIES += lib/libmted2k.a
lib_libmted2k_a_SOURCES = \
	lib/ed2k/aich.c lib/ed2k/aich.h \
	lib/ed2k/c2c.c lib/ed2k/c2c.h lib/ed2k/opcodes.h \
	lib/ed2k/c2s.c lib/ed2k/c2s.h \
	lib/ed2k/clientsmet.c lib/ed2k/clientsmet.h \
	lib/ed2k/hash.c lib/ed2k/hash.h \
	lib/ed2k/kadcrypt.c lib/ed2k/kadcrypt.h \
	lib/ed2k/kadbuddy.c lib/ed2k/kadbuddy.h \
	lib/ed2k/kadid.c lib/ed2k/kadid.h \
	lib/ed2k/kadpkt.c lib/ed2k/kadpkt.h \
	lib/ed2k/kadsearch.c lib/ed2k/kadsearch.h \
	lib/ed2k/rc4.c lib/ed2k/rc4.h \
	lib/ed2k/rc4ahead.c lib/ed2k/rc4ahead.h \
	lib/ed2k/link.c lib/ed2k/link.h \
	lib/ed2k/nodesdat.c lib/ed2k/nodesdat.h \
	lib/ed2k/obfs.c lib/ed2k/obfs.h \
	lib/ed2k/obfs_bev.c lib/ed2k/obfs_bev.h \
	lib/ed2k/packet.c lib/ed2k/packet.h \
	lib/ed2k/partmet.c lib/ed2k/partmet.h \
	lib/ed2k/search.c lib/ed2k/search.h \
	lib/ed2k/secident.c lib/ed2k/secident.h \
	lib/ed2k/search_expr.c lib/ed2k/search_expr.h \
	lib/ed2k/servermet.c lib/ed2k/servermet.h \
	lib/ed2k/tag.c lib/ed2k/tag.h \
	lib/ed2k/text.c lib/ed2k/text.h
# FUZZ_CFLAGS is empty unless --enable-fuzzers: then the library carries the
# coverage instrumentation libFuzzer needs.
lib_libmted2k_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(NETTLE_CFLAGS) $(EVENT_CFLAGS) $(ZLIB_CFLAGS)

ED2K_LIBS = lib/libmted2k.a lib/libmtutil.a $(NETTLE_LIBS) $(EVENT_LIBS) $(ZLIB_LIBS)

ED2K_UNIT_TESTS = \
	tests/unit/check_ed2k_aich \
	tests/unit/check_ed2k_c2c \
	tests/unit/check_ed2k_c2s \
	tests/unit/check_ed2k_hash \
	tests/unit/check_ed2k_kadcrypt \
	tests/unit/check_ed2k_rc4 \
	tests/unit/check_ed2k_kadbuddy \
	tests/unit/check_ed2k_kadid \
	tests/unit/check_ed2k_kadpkt \
	tests/unit/check_ed2k_kadsearch \
	tests/unit/check_ed2k_nodesdat \
	tests/unit/check_ed2k_link \
	tests/unit/check_ed2k_obfs \
	tests/unit/check_ed2k_obfs_bev \
	tests/unit/check_ed2k_packet \
	tests/unit/check_ed2k_search \
	tests/unit/check_ed2k_secident \
	tests/unit/check_ed2k_servermet \
	tests/unit/check_ed2k_tag \
	tests/unit/check_ed2k_partmet \
	tests/unit/check_ed2k_clientsmet
check_PROGRAMS += $(ED2K_UNIT_TESTS)
TESTS += $(ED2K_UNIT_TESTS)
ED2K_CHECK_CC_FLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(NETTLE_CFLAGS) $(EVENT_CFLAGS) $(ZLIB_CFLAGS)
ED2K_CHECK_LINK = $(ED2K_LIBS) $(CHECK_LIBS) $(PTHREAD_LIBS)
tests_unit_check_ed2k_aich_SOURCES = tests/unit/check_ed2k_aich.c
tests_unit_check_ed2k_aich_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_aich_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_c2s_SOURCES = tests/unit/check_ed2k_c2s.c
tests_unit_check_ed2k_c2s_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_c2s_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_c2c_SOURCES = tests/unit/check_ed2k_c2c.c
tests_unit_check_ed2k_c2c_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_c2c_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_hash_SOURCES = tests/unit/check_ed2k_hash.c
tests_unit_check_ed2k_hash_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_hash_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_link_SOURCES = tests/unit/check_ed2k_link.c
tests_unit_check_ed2k_link_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_link_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_secident_SOURCES = tests/unit/check_ed2k_secident.c
tests_unit_check_ed2k_secident_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_secident_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_obfs_SOURCES = tests/unit/check_ed2k_obfs.c
tests_unit_check_ed2k_obfs_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_obfs_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_obfs_bev_SOURCES = tests/unit/check_ed2k_obfs_bev.c
tests_unit_check_ed2k_obfs_bev_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_obfs_bev_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_packet_SOURCES = tests/unit/check_ed2k_packet.c
tests_unit_check_ed2k_packet_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_packet_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_search_SOURCES = tests/unit/check_ed2k_search.c
tests_unit_check_ed2k_search_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_search_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_servermet_SOURCES = tests/unit/check_ed2k_servermet.c
tests_unit_check_ed2k_servermet_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_servermet_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_tag_SOURCES = tests/unit/check_ed2k_tag.c
tests_unit_check_ed2k_tag_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_tag_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_kadcrypt_SOURCES = tests/unit/check_ed2k_kadcrypt.c
tests_unit_check_ed2k_kadcrypt_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_kadcrypt_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_rc4_SOURCES = tests/unit/check_ed2k_rc4.c
tests_unit_check_ed2k_rc4_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_rc4_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_kadbuddy_SOURCES = tests/unit/check_ed2k_kadbuddy.c
tests_unit_check_ed2k_kadbuddy_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_kadbuddy_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_kadid_SOURCES = tests/unit/check_ed2k_kadid.c
tests_unit_check_ed2k_kadid_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_kadid_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_kadpkt_SOURCES = tests/unit/check_ed2k_kadpkt.c
tests_unit_check_ed2k_kadpkt_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_kadpkt_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_kadsearch_SOURCES = tests/unit/check_ed2k_kadsearch.c
tests_unit_check_ed2k_kadsearch_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_kadsearch_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_nodesdat_SOURCES = tests/unit/check_ed2k_nodesdat.c
tests_unit_check_ed2k_nodesdat_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_nodesdat_LDADD = $(ED2K_CHECK_LINK)

# Fuzz targets: replayed over their corpus by `make check` in normal builds,
# run by tests/fuzz/run-fuzzers.sh when built with --enable-fuzzers.
ED2K_FUZZERS = \
	tests/fuzz/fuzz_ed2k_link \
	tests/fuzz/fuzz_ed2k_obfs \
	tests/fuzz/fuzz_ed2k_tag \
	tests/fuzz/fuzz_ed2k_packet \
	tests/fuzz/fuzz_ed2k_c2c \
	tests/fuzz/fuzz_ed2k_c2s \
	tests/fuzz/fuzz_ed2k_search \
	tests/fuzz/fuzz_ed2k_servermet \
	tests/fuzz/fuzz_ed2k_kadpkt \
	tests/fuzz/fuzz_ed2k_nodesdat \
	tests/fuzz/fuzz_ed2k_aich \
	tests/fuzz/fuzz_ed2k_partmet \
	tests/fuzz/fuzz_ed2k_knownmet \
	tests/fuzz/fuzz_ed2k_clientsmet \
	tests/fuzz/fuzz_ed2k_udpcrypt
check_PROGRAMS += $(ED2K_FUZZERS)
if !FUZZERS
TESTS += $(ED2K_FUZZERS)
endif
ED2K_FUZZ_CC_FLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(EVENT_CFLAGS)
ED2K_FUZZ_LD_FLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
ED2K_FUZZ_LINK = $(ED2K_LIBS) $(PTHREAD_LIBS)
tests_fuzz_fuzz_ed2k_link_SOURCES = tests/fuzz/fuzz_ed2k_link.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_link_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_link"'
tests_fuzz_fuzz_ed2k_link_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_link_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_link_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_tag_SOURCES = tests/fuzz/fuzz_ed2k_tag.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_tag_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_tag"'
tests_fuzz_fuzz_ed2k_tag_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_tag_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_tag_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_packet_SOURCES = tests/fuzz/fuzz_ed2k_packet.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_packet_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_packet"'
tests_fuzz_fuzz_ed2k_packet_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_packet_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_packet_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_c2c_SOURCES = tests/fuzz/fuzz_ed2k_c2c.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_c2c_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_c2c"'
tests_fuzz_fuzz_ed2k_c2c_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_c2c_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_c2c_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_c2s_SOURCES = tests/fuzz/fuzz_ed2k_c2s.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_c2s_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_c2s"'
tests_fuzz_fuzz_ed2k_c2s_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_c2s_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_c2s_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_search_SOURCES = tests/fuzz/fuzz_ed2k_search.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_search_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_search"'
tests_fuzz_fuzz_ed2k_search_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_search_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_search_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_servermet_SOURCES = tests/fuzz/fuzz_ed2k_servermet.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_servermet_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_servermet"'
tests_fuzz_fuzz_ed2k_servermet_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_servermet_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_servermet_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_kadpkt_SOURCES = tests/fuzz/fuzz_ed2k_kadpkt.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_kadpkt_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_kadpkt"'
tests_fuzz_fuzz_ed2k_kadpkt_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_kadpkt_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_kadpkt_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_nodesdat_SOURCES = tests/fuzz/fuzz_ed2k_nodesdat.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_nodesdat_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_nodesdat"'
tests_fuzz_fuzz_ed2k_nodesdat_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_nodesdat_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_nodesdat_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_obfs_SOURCES = tests/fuzz/fuzz_ed2k_obfs.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_obfs_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_obfs"'
tests_fuzz_fuzz_ed2k_obfs_CFLAGS = $(ED2K_FUZZ_CC_FLAGS) $(NETTLE_CFLAGS)
tests_fuzz_fuzz_ed2k_obfs_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_obfs_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_aich_SOURCES = tests/fuzz/fuzz_ed2k_aich.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_aich_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_aich"'
tests_fuzz_fuzz_ed2k_aich_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_aich_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_aich_LDADD = $(ED2K_FUZZ_LINK)
tests_unit_check_ed2k_partmet_SOURCES = tests/unit/check_ed2k_partmet.c
tests_unit_check_ed2k_partmet_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_partmet_LDADD = $(ED2K_CHECK_LINK)
tests_unit_check_ed2k_clientsmet_SOURCES = tests/unit/check_ed2k_clientsmet.c
tests_unit_check_ed2k_clientsmet_CFLAGS = $(ED2K_CHECK_CC_FLAGS)
tests_unit_check_ed2k_clientsmet_LDADD = $(ED2K_CHECK_LINK)
tests_fuzz_fuzz_ed2k_partmet_SOURCES = tests/fuzz/fuzz_ed2k_partmet.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_partmet_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_partmet"'
tests_fuzz_fuzz_ed2k_partmet_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_partmet_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_partmet_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_knownmet_SOURCES = tests/fuzz/fuzz_ed2k_knownmet.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_knownmet_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_knownmet"'
tests_fuzz_fuzz_ed2k_knownmet_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_knownmet_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_knownmet_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_clientsmet_SOURCES = tests/fuzz/fuzz_ed2k_clientsmet.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_clientsmet_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_clientsmet"'
tests_fuzz_fuzz_ed2k_clientsmet_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_clientsmet_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_clientsmet_LDADD = $(ED2K_FUZZ_LINK)
tests_fuzz_fuzz_ed2k_udpcrypt_SOURCES = tests/fuzz/fuzz_ed2k_udpcrypt.c $(FUZZ_MAIN)
tests_fuzz_fuzz_ed2k_udpcrypt_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/ed2k_udpcrypt"'
tests_fuzz_fuzz_ed2k_udpcrypt_CFLAGS = $(ED2K_FUZZ_CC_FLAGS)
tests_fuzz_fuzz_ed2k_udpcrypt_LDFLAGS = $(ED2K_FUZZ_LD_FLAGS)
tests_fuzz_fuzz_ed2k_udpcrypt_LDADD = $(ED2K_FUZZ_LINK)
