# lib/db/local.mk
