# sql/local.mk
