#!/usr/bin/env bash
# run-wire.sh: issue 13's benchmark. YCSB A-F and the insert micro
# benchmark over the wire against mojim-docd, with 1, 4 and 16 client
# threads, in modes unreplicated, sync and syncflush (sync modes against a
# mojim-mirror on loopback), each with j:true on every write ("journal")
# and beside it w:1 (no journal wait); then the in-process benchmark in
# mode sync with the same sizes, for the over-the-wire ratio.
#
#   bench/ycsb/run-wire.sh [--records N] [--ops N] [--threads "1 4 16"]
#                          [--modes "unreplicated sync syncflush"]
#                          [--out DIR] [--build DIR] [--repeat N]
#                          [--no-plot]
#
# The whole matrix runs --repeat times (default 3). Writes OUT/wire.csv
# (mojim-ycsb's rows, mode docd-MODE/wire_WC, and a run column),
# OUT/wire-summary.md (medians over the runs: ops/s, p50 and p99 per
# step, and the two targets: 16 threads, YCSB-A in sync, j:true at least
# 70% of w:1; over the wire at least half of in-process) and, with gnuplot, OUT/wire-*.png
# (plot-wire.sh; --no-plot skips them).
# Every server it starts it stops, and it removes its /dev/shm folders.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
records=20000 ops=20000 threads="1 4 16" modes="unreplicated sync syncflush"
out=$here/results build=$root/build plot=1 repeat=3
while [ $# -gt 0 ]; do
	case $1 in
	--records) records=${2:?}; shift ;;
	--ops) ops=${2:?}; shift ;;
	--threads) threads=${2:?}; shift ;;
	--modes) modes=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--build) build=${2:?}; shift ;;
	--repeat) repeat=${2:?}; shift ;;
	--no-plot) plot=0 ;;
	*) echo "run-wire.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
ycsb=$build/bench/ycsb/mojim-ycsb docd=$build/integration/docd/mojim-docd
mirror=$build/mirror/mojim-mirror
for b in "$ycsb" "$docd" "$mirror"; do
	[ -x "$b" ] || { echo "run-wire.sh: $b is not built" >&2; exit 2; }
done
export PMEM_IS_PMEM_FORCE=1
mkdir -p "$out"
csv=$out/wire.csv
rm -f "$csv"
# mktemp replaces the X's of its template with random letters.
tmp=$(mktemp -d /dev/shm/mojim-wire.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_line LOG: the port of the first "listening on HOST:PORT" (15 s).
wait_port() {
	local i line
	for i in $(seq 1 300); do
		line=$(grep -m1 'listening on' "$1" 2>/dev/null || true)
		[ -n "$line" ] && { sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$line"; return; }
		sleep 0.05
	done
	echo "run-wire.sh: no 'listening on' in $1" >&2
	return 1
}

steps=load,a,b,c,f,d,load,e,insert

# run_ycsb RUN ARGS...: one mojim-ycsb run into a fresh CSV, its rows then
# added to wire.csv with the run number (the second load, before E, as
# step "reload", so medians never mix the two). A failed run stops the
# benchmark: its figures would be a failure's.
run_ycsb() {
	local r=$1 one=$tmp/one.csv
	shift
	rm -f "$one"
	"$ycsb" "$@" --recordcount "$records" --operationcount "$ops" \
		--steps "$steps" --csv "$one" >"$tmp/one.out" ||
		{ cat "$tmp/one.out" >&2; echo "run-wire.sh: mojim-ycsb $* failed" >&2; exit 1; }
	grep -E ' ALL ' "$tmp/one.out" || true
	awk -F, -v OFS=, -v r="$r" -v head="$([ -s "$csv" ] && echo 0 || echo 1)" '
	NR == 1 { if (head) print $0, "run"; next }
	$3 != "load" { other = 1 }
	$3 == "load" && other { $3 = "reload" }
	{ print $0, r }' "$one" >>"$csv"
}

# run_docd RUN MODE THREADS WC: YCSB against a fresh mojim-docd (and mirror).
run_docd() {
	local r=$1 mode=$2 t=$3 wc=$4 run=$tmp/$2-$3-$4 dpid port
	local args=(--mode "$mode")
	mkdir -p "$run"
	if [ "$mode" != unreplicated ]; then
		"$mirror" --listen 127.0.0.1:0 --dir "$run/m" 2>"$run/m.log" &
		pids+=($!)
		args+=(--mirror "127.0.0.1:$(wait_port "$run/m.log")")
	fi
	"$docd" --dbpath "$run/db" --port 0 --max-conns 64 "${args[@]}" \
		2>"$run/d.log" &
	dpid=$!
	pids+=("$dpid")
	port=$(wait_port "$run/d.log")
	echo "== run $r: docd $mode, $t threads, $wc"
	run_ycsb "$r" --target "mongodb://127.0.0.1:$port/?directConnection=true" \
		--write-concern "$wc" --threads "$t" --size "docd-$mode"
	# The daemon first: its last checkpoint still reaches the mirror.
	kill -TERM "$dpid" 2>/dev/null || true
	wait "$dpid" 2>/dev/null || true
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
	rm -rf "$run"
}

# Each run goes through the whole matrix, so the figures a median pairs
# (j:true beside w:1, wire beside in-process) were taken minutes apart,
# not a run apart.
for r in $(seq 1 "$repeat"); do
	for mode in $modes; do
		for t in $threads; do
			for wc in journal w1; do
				run_docd "$r" "$mode" "$t" "$wc"
			done
		done
	done
	for t in $threads; do
		echo "== run $r: in-process sync, $t threads"
		run_ycsb "$r" --mode sync --threads "$t" --size in-process
	done
done
bash "$here/report-wire.sh" "$csv" >"$out/wire-summary.md"
if [ $plot = 1 ]; then bash "$here/plot-wire.sh" "$csv" "$out"; fi
cat "$out/wire-summary.md"
