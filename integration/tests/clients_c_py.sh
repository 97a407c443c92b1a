# Debian's pymongo 3.11 (py/pymongo_client.py: insert with j:true, find,
# count, update, 11000, 59) and a small libmongoc 1.23 C client
# (mongoc_client.c: insert with j:true, find, count, update), unmodified,
# against mojim-docd in mode sync with a mirror.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
: "${MOJIM_MONGOC_CLIENT:?MOJIM_MONGOC_CLIENT must name the mongoc_client binary}"
start_mirror "$T/m" 0
start_docd "$T/db" --mode sync --mirror "$MIRROR_ADDR"
# Debian's python3: pymongo is its package (another python3 may come first
# on PATH).
timeout 120 /usr/bin/python3 "$here/py/pymongo_client.py" "$DOCD_URI" >"$T/py.out" 2>&1 ||
	fail "pymongo: $(tail -15 "$T/py.out")"
[ "$(grep -c '^ok ' "$T/py.out")" -eq 6 ] || fail "pymongo: $(cat "$T/py.out")"
timeout 120 "$MOJIM_MONGOC_CLIENT" "$DOCD_URI" >"$T/c.out" 2>&1 ||
	fail "libmongoc: $(tail -5 "$T/c.out")"
[ "$(grep -c '^ok ' "$T/c.out")" -eq 4 ] || fail "libmongoc: $(cat "$T/c.out")"
stop_docd
stop_mirror
echo "clients: pymongo $(/usr/bin/python3 -c 'import pymongo; print(pymongo.version)') 6 checks, libmongoc 4 checks, in sync mode"
