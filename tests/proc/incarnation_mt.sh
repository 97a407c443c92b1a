# Defect 1 of issue 9: a restarted primary's acknowledged batch must never
# be replaced by a stale one. With 2 connections, a primary killed
# mid-stream can leave the mirror with durable = D and batch D+2 logged
# but D+1 missing (hand-made here: mj_fuzz speaks for the primary's
# cluster and sends the dead incarnation's D+2 on connection index 1).
# The next opening of the region numbers on from D+1; the old D+2 must
# never be applied, whatever the new one sends:
#   a. the region says it closed cleanly (so the restart rule asks for no
#      copy): only the mirror's incarnation check stands between the old
#      D+2 and the replica;
#   b. the realistic case: the dead opening left clean = 0 (a crash on
#      this boot), so the restart rule and the incarnation check both act.
# Then an older incarnation is refused for good.
. "$(dirname "$0")/lib.sh"
P=$MOJIM_TOOLS/mj_primary
FUZZ=$MOJIM_TOOLS/mj_fuzz
[ -x "$P" ] && [ -x "$FUZZ" ] || fail "mj_primary or mj_fuzz not built"

prim() {
	local dir=$1
	shift
	"$P" --dir "$dir" --mirror "$MIRROR_ADDR" --mode sync --connections 2 \
		--block-timeout-ms 20000 "$@" 2>>"$T/primary.log"
}

node_field() { sed -n "s/^$2 //p" "$1/.mojim-node"; }

# scenario NAME CLEAN: the dead incarnation's leftovers, then a restart.
scenario() {
	local name=$1 clean=$2 dir=$T/p-$1 mdir=$T/m-$1
	start_mirror "$mdir" 0
	prim "$dir" --write z:FIRSTFIR --sync >/dev/null || fail "$name: first life failed"
	local d inc cluster line
	d=$(mirror_status "$mdir" seq_durable)
	inc=$(node_field "$dir" incarnation)
	cluster=$(node_field "$dir" cluster_id)
	# The next opening (inc + 1) sent D+1 on connection 0 (lost) and D+2
	# on connection 1 (logged), then died.
	line=$("$FUZZ" --addr "$MIRROR_ADDR" --send valid --cluster "$cluster" \
		--incarnation $((inc + 1)) --conn 1 --seq $((d + 2)) --name z \
		--pattern OLDOLDOL --size 8 --seconds 20) || fail "$name: mj_fuzz failed"
	[[ $line == *"ack=1"* ]] || fail "$name: the dead incarnation's D+2 was not logged: $line"
	[ "$(mirror_status "$mdir" seq_durable)" = "$d" ] || fail "$name: durable moved"
	sed -i "s/^incarnation .*/incarnation $((inc + 1))/; s/^clean .*/clean $clean/" \
		"$dir/.mojim-node"
	# The restart: two sync points, D+1 and D+2 of the new incarnation.
	prim "$dir" --write y:NEW1NEW1 --write z:NEW2NEW2 --sync >/dev/null ||
		fail "$name: the restarted primary failed: $(tail -3 "$T/primary.log")"
	wait_applied "$mdir" "$(mirror_status "$mdir" seq_durable)"
	[ "$(cat "$mdir/data/z")" = NEW2NEW2 ] ||
		fail "$name: the mirror applied the dead incarnation's batch: z is $(cat "$mdir/data/z"), the primary's NEW2NEW2"
	same_tree "$dir" "$mdir/data"
	grep -q "incarnation $((inc + 2)) of the primary takes over: 1 batches" "$mdir.log" ||
		fail "$name: the mirror did not say it dropped the old batch"
	note "$name: the dead incarnation's D+2 was dropped; replica equals the primary"
}

scenario clean 1
# An older incarnation is refused for good (REPLACED): a HELLO of the dead
# one that was still on its way must not take over again.
cl=$(node_field "$T/p-clean" cluster_id)
line=$("$FUZZ" --addr "$MIRROR_ADDR" --send valid --cluster "$cl" --incarnation 1 \
	--name z --pattern STALESTA --size 8 --seconds 5 2>&1 || true)
[[ $line == *"refused, code 8"* ]] || fail "an older incarnation was not refused: $line"
[ "$(cat "$T/m-clean/data/z")" = NEW2NEW2 ] || fail "the older incarnation changed the replica"
stop_mirror
scenario crashed 0
stop_mirror
echo "incarnation: passed"
