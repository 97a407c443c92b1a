#!/usr/bin/env bash
# run-micro.sh [mojim-bench flags...]: builds build/ if the benchmark is
# missing or older than a source it depends on, then runs it.
#   bench/run-micro.sh --quick                 a smoke run (< 20 s)
#   bench/run-micro.sh --csv /tmp/micro.csv    the full run (~1.5 min)
# See bench/micro/README.md for the tables and flags.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/mojim-bench
mirror=build/mirror/mojim-mirror
stale() {
	[ ! -x "$bin" ] || [ ! -x "$mirror" ] && return 0
	[ -n "$(find bench/micro repl mirror CMakeLists.txt bench/CMakeLists.txt \
		-newer "$bin" -type f \( -name '*.[ch]' -o -name CMakeLists.txt \) \
		-print -quit)" ]
}
if stale; then
	echo "run-micro.sh: building build/" >&2
	bash scripts/build.sh build >&2
fi
exec "$bin" "$@"
