# daemon/storage.mk: part files, range sets and block selection (filled in
# by the storage module).
