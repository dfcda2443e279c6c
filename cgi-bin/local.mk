# cgi-bin/local.mk: the FastCGI programs, one per route family, and the
# code they share. Each also works as a plain CGI program.
noinst_LIBRARIES += cgi-bin/libcgicommon.a
cgi_bin_libcgicommon_a_SOURCES = cgi-bin/common/cgienv.c cgi-bin/common/cgienv.h
cgi_bin_libcgicommon_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_libcgicommon_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS)

CGI_LIBS = cgi-bin/libcgicommon.a lib/libmthttp.a lib/libmtctl.a lib/libmtdb.a lib/libmtutil.a \
	$(FCGI_LIBS) $(EVENT_LIBS) $(JSONC_LIBS) $(PQ_LIBS) $(PTHREAD_LIBS)

# /api/v2: the qBittorrent-compatible API, built as cgi-bin/qbit.fcgi (the
# name works for FastCGI and, with a .fcgi/.cgi handler, for plain CGI).
pkglibexec_PROGRAMS = cgi-bin/qbit.fcgi
cgi_bin_qbit_fcgi_SOURCES = cgi-bin/qbit/main.c cgi-bin/qbit/app.c cgi-bin/qbit/qbit.h
cgi_bin_qbit_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin
cgi_bin_qbit_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS) $(EVENT_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(ZLIB_CFLAGS)
cgi_bin_qbit_fcgi_LDADD = $(CGI_LIBS) $(ZLIB_LIBS)
