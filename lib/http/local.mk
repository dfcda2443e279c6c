# lib/http/local.mk
