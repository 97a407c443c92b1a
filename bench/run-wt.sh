#!/usr/bin/env bash
# run-wt.sh [mojim-wtbench flags...]: builds build/ if the benchmark is
# missing or older than a source it depends on, then runs it.
#   bench/run-wt.sh --quick                 a smoke run (~20 s)
#   bench/run-wt.sh --csv /tmp/wt.csv       the full run (~1.5 min)
# See bench/wt/README.md for the table and flags.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/mojim-wtbench
mirror=build/mirror/mojim-mirror
ext=build/engine/libmojim_wt.so
# newer TARGET DIR...: a source or CMakeLists.txt under DIR is newer.
newer() {
	local t=$1
	shift
	[ -n "$(find "$@" -newer "$t" -type f \
		\( -name '*.[ch]' -o -name CMakeLists.txt \) -print -quit)" ]
}
stale() {
	[ ! -x "$bin" ] || [ ! -x "$mirror" ] || [ ! -f "$ext" ] && return 0
	newer "$bin" bench/wt bench/micro bench/CMakeLists.txt CMakeLists.txt ||
		newer "$mirror" repl mirror || newer "$ext" repl engine
}
if stale; then
	echo "run-wt.sh: building build/" >&2
	bash scripts/build.sh build >&2
fi
exec "$bin" "$@"
