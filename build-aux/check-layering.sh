#!/bin/sh
# check-layering.sh: fails when an #include goes the wrong way.
#  - lib/ includes nothing from daemon/ or cgi-bin/, cgi-bin/ nothing from
#    daemon/, and lib/http (pure HTTP) not the database or web
#    authentication (lib/db, lib/webauth, libpq).
#  - In daemon/, each folder has a .may_include file (after Tor's): one
#    pattern per line ("util/*", "daemon/core/*", "config.h"; '#' starts a
#    comment) that every "..." include of the folder's files must match.
#  - No #include cycle among the daemon's modules (a module is a .c file
#    and its .h).
top=${1:-.}
rc=0
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*(daemon|cgi-bin)/' "$top/lib" 2>/dev/null)
if [ -n "$bad" ]; then echo "lib/ must not include daemon/ or cgi-bin/ headers:"; echo "$bad"; rc=1; fi
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*"[^"]*daemon/' "$top/cgi-bin" 2>/dev/null)
if [ -n "$bad" ]; then echo "cgi-bin/ must not include daemon/ headers:"; echo "$bad"; rc=1; fi
bad=$(grep -rnE '#[[:space:]]*include[[:space:]]*("(db|webauth)/|<libpq)' "$top/lib/http" 2>/dev/null)
if [ -n "$bad" ]; then echo "lib/http/ must not include lib/db, lib/webauth or libpq:"; echo "$bad"; rc=1; fi

# The daemon's folders and their allow-lists.
for dir in "$top/daemon" "$top"/daemon/*/; do
  dir=${dir%/}
  rules="$dir/.may_include"
  if [ ! -f "$rules" ]; then
    echo "$dir has no .may_include (every folder of daemon/ says what it may include)"
    rc=1
    continue
  fi
  for f in "$dir"/*.c "$dir"/*.h; do
    [ -f "$f" ] || continue
    out=$(awk -v rules="$rules" -v file="$f" '
      BEGIN {
        while ((getline line < rules) > 0) {
          sub(/#.*/, "", line); gsub(/[ \t]/, "", line)
          if (line != "") pat[++n] = line
        }
      }
      /^[ \t]*#[ \t]*include[ \t]*"/ {
        inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
        ok = 0
        for (i = 1; i <= n && !ok; i++) {
          p = pat[i]
          if (p ~ /\*$/) { if (index(inc, substr(p, 1, length(p) - 1)) == 1) ok = 1 }
          else if (inc == p) ok = 1
        }
        if (!ok) printf "%s:%d: includes \"%s\", which %s does not allow\n", file, NR, inc, rules
      }' "$f")
    if [ -n "$out" ]; then echo "$out"; rc=1; fi
  done
done

# Include cycles among daemon modules: edges "module -> module" from every
# daemon/ include, then a depth-first search for a back edge.
edges=$(for f in "$top"/daemon/*/*.c "$top"/daemon/*/*.h; do
  [ -f "$f" ] || continue
  m=${f#"$top"/}; m=${m%.*}
  sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\(daemon\/[^"]*\)\.h".*/\1/p' "$f" |
    while read -r to; do [ "$to" != "$m" ] && echo "$m $to"; done
done | sort -u)
cycle=$(printf '%s\n' "$edges" | awk '
  NF == 2 { adj[$1] = adj[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
  function visit(n,    k, list, i, m) {
    state[n] = 1; stack[++depth] = n
    k = split(adj[n], list, " ")
    for (i = 1; i <= k; i++) {
      m = list[i]
      if (state[m] == 1) {
        path = m
        for (j = depth; j >= 1 && stack[j] != m; j--) path = stack[j] " -> " path
        print m " -> " path; found = 1; return
      }
      if (state[m] == 0) { visit(m); if (found) return }
    }
    depth--; state[n] = 2
  }
  END { for (n in nodes) if (state[n] == 0 && !found) visit(n) }')
if [ -n "$cycle" ]; then echo "an #include cycle among daemon modules: $cycle"; rc=1; fi
exit $rc
