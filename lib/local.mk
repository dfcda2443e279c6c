# lib/local.mk: the shared libraries under lib/, one static library per
# module; each module's fragment lists its sources, unit tests and fuzz
# targets.
include lib/util/local.mk
include lib/ed2k/local.mk
include lib/ctl/local.mk
include lib/db/local.mk
include lib/http/local.mk
include lib/webauth/local.mk
