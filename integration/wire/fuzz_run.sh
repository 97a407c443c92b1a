#!/usr/bin/env bash
# fuzz_run.sh SEEDGEN FUZZER: the bounded fuzz test (ctest fuzz_wire_bounded).
# The seed corpus is written by SEEDGEN from the library's builders into a
# temporary directory (nothing binary is committed); the fuzzer then runs
# for a bounded time on it and fails on any crash or sanitizer report.
set -euo pipefail
seedgen=$1 fuzzer=$2
dir=$(mktemp -d /tmp/mdw-fuzz-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus" "$dir/seeds"
"$seedgen" "$dir/seeds"
cd "$dir" # crash-* files, if any, land here and are shown below
if ! "$fuzzer" -max_total_time=20 -rss_limit_mb=1024 -timeout=10 \
	-print_final_stats=1 "$dir/corpus" "$dir/seeds"; then
	for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
		[ -e "$f" ] && { echo "== $f"; od -A d -t x1 "$f" | head -40; }
	done
	exit 1
fi
