#!/usr/bin/env bash
# test.sh: the whole test suite. Installs what is missing, then builds and
# runs ctest three times: a plain build (every test), an ASan+UBSan build
# (every test but the RDMA ones, which run in a guest under emulation), and
# a TSan build (the tests labelled "threaded").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/js-deps.sh
export PMEM_IS_PMEM_FORCE=1
status=0
run() { # NAME BUILD-DIR CTEST-ARGS -- CMAKE-ARGS
	local name=$1 dir=$2
	shift 2
	local ctest_args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ctest_args+=("$1"); shift; done
	shift
	echo "=== $name: build in $dir"
	bash scripts/build.sh "$dir" "$@"
	echo "=== $name: ctest"
	# Two at a time; never two of the tests that want both cores
	# (RESOURCE_LOCK both_cores, tests/CMakeLists.txt).
	(cd "$dir" && ctest --output-on-failure --timeout 900 -j2 \
		"${ctest_args[@]}") ||
		status=1
}
run plain build -- -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOJIM_FAULT_HOOKS=ON \
	-DMOJIM_FUZZ=ON
# The sanitizer builds look for memory errors and races, not for loss
# statistics: engine_backup_loss_mt's 20 threshold rounds are the plain
# build's; they run 4 (the time stays well inside CI's 30 minutes).
export MOJIM_BACKUP_ROUNDS=4
# and the nemesis tests 7 fault steps each (the plain build runs 12 and 14),
# and the engine's crash, failover, restart and copy tests half their
# rounds (the plain build's counts are the ones that find losses).
export MOJIM_NEMESIS_STEPS=7 MOJIM_CRASHES=6 MOJIM_FAILOVERS=15
export MOJIM_RESTARTS=5 MOJIM_COPY_OPENS=150
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run asan+ubsan build-asan -LE rdma -- -DCMAKE_BUILD_TYPE=Debug \
	-DMOJIM_SANITIZE=address,undefined -DMOJIM_FAULT_HOOKS=ON
# TSan: the docd crash test kills the daemon 4 times, not 10 (each round
# is a TSan daemon's start, recovery and promotion).
MOJIM_DOCD_KILLS=4 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	run tsan build-tsan -L threaded -- -DCMAKE_BUILD_TYPE=Debug \
	-DMOJIM_SANITIZE=thread -DMOJIM_FAULT_HOOKS=ON
exit $status
