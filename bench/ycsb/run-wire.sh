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
#                          [--out DIR] [--build DIR]
#
# Writes OUT/wire.csv (mojim-ycsb's rows; mode is docd-MODE/wire_WC),
# OUT/wire-summary.md (ops/s, p50 and p99 per step, and the two targets:
# 16 threads, YCSB-A in sync, j:true at least 70% of w:1; over the wire at
# least half of in-process). No plots yet.
# Every server it starts it stops, and it removes its /dev/shm folders.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
records=20000 ops=20000 threads="1 4 16" modes="unreplicated sync syncflush"
out=$here/results build=$root/build
while [ $# -gt 0 ]; do
	case $1 in
	--records) records=${2:?}; shift ;;
	--ops) ops=${2:?}; shift ;;
	--threads) threads=${2:?}; shift ;;
	--modes) modes=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--build) build=${2:?}; shift ;;
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
for mode in $modes; do
	for t in $threads; do
		for wc in journal w1; do
			run=$tmp/$mode-$t-$wc
			mkdir -p "$run"
			args=(--mode "$mode")
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
			echo "== docd $mode, $t threads, $wc"
			"$ycsb" --target "mongodb://127.0.0.1:$port/?directConnection=true" \
				--write-concern "$wc" --threads "$t" --recordcount "$records" \
				--operationcount "$ops" --steps "$steps" --size "docd-$mode" \
				--csv "$csv" | grep -E ' ALL ' || true
			# The daemon first: its last checkpoint still reaches the mirror.
			kill -TERM "$dpid" 2>/dev/null || true
			wait "$dpid" 2>/dev/null || true
			for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
			wait 2>/dev/null || true
			pids=()
			rm -rf "$run"
		done
	done
done
for t in $threads; do
	echo "== in-process sync, $t threads"
	"$ycsb" --mode sync --threads "$t" --recordcount "$records" \
		--operationcount "$ops" --steps "$steps" --size in-process \
		--csv "$csv" | grep -E ' ALL ' || true
done
bash "$here/report-wire.sh" "$csv" >"$out/wire-summary.md"
cat "$out/wire-summary.md"
