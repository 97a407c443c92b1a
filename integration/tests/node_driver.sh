# The Node driver (npm mongodb 7.x), unmodified, against mojim-docd:
# js/node_crud.js's checks (CRUD, a 10,000-document cursor over getMore,
# bulkWrite, duplicate keys raising 11000, write concerns w:1, j:true and
# majority, an unknown command raising 59), in mode unreplicated and in
# mode sync with a mirror; and js/concurrent.js, writers on separate
# connections racing on the same documents (no lost update, no
# duplicate _id).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
run_checks() { # NAME
	node_run "$here/js/node_crud.js" "$DOCD_URI" >"$T/$1.out" 2>&1 ||
		fail "$1: $(tail -20 "$T/$1.out")"
	[ "$(grep -c '^ok ' "$T/$1.out")" -eq 11 ] ||
		fail "$1: $(grep -c '^ok ' "$T/$1.out") of 11 checks: $(cat "$T/$1.out")"
}
start_docd "$T/u" --mode unreplicated
run_checks unreplicated
# Writers on separate connections racing on the same documents.
node_run "$here/js/concurrent.js" "$DOCD_URI" >"$T/conc.out" 2>&1 ||
	fail "concurrent writers: $(tail -20 "$T/conc.out")"
[ "$(grep -c '^ok ' "$T/conc.out")" -eq 2 ] || fail "concurrent: $(cat "$T/conc.out")"
stop_docd
start_mirror "$T/m" 0
start_docd "$T/s" --mode sync --mirror "$MIRROR_ADDR"
run_checks sync
stop_docd
stop_mirror
echo "node driver: 10 checks passed in unreplicated and in sync"
