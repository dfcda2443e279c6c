#!/bin/sh
# check-layering.sh: fails when lib/ includes a header from daemon/ or
# cgi-bin/, when cgi-bin/ includes one from daemon/, or when lib/http (pure
# HTTP) includes the database or web authentication (lib/db, lib/webauth,
# libpq).
top=${1:-.}
rc=0
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*(daemon|cgi-bin)/' "$top/lib" 2>/dev/null)
if [ -n "$bad" ]; then echo "lib/ must not include daemon/ or cgi-bin/ headers:"; echo "$bad"; rc=1; fi
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*daemon/' "$top/cgi-bin" 2>/dev/null)
if [ -n "$bad" ]; then echo "cgi-bin/ must not include daemon/ headers:"; echo "$bad"; rc=1; fi
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*("(db|webauth)/|<libpq)' "$top/lib/http" 2>/dev/null)
if [ -n "$bad" ]; then echo "lib/http/ must not include lib/db, lib/webauth or libpq:"; echo "$bad"; rc=1; fi
exit $rc
