# lib/ed2k/local.mk
