# daemon/net/local.mk: addresses, listening sockets, host names, and the
# peer connections (handshake, framing, rate limits, bans). Includes core/.
daemon_libmuleteerd_a_SOURCES += \
	daemon/net/net.c daemon/net/net.h \
	daemon/net/listener.c daemon/net/listener.h \
	daemon/net/resolve.c daemon/net/resolve.h \
	daemon/net/peer.c daemon/net/peer.h
