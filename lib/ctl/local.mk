# lib/ctl/local.mk
