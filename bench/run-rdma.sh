#!/usr/bin/env bash
# run-rdma.sh [mojim-bench flags...]: the transport section of mojim-bench
# (sync msync of 4 KB and 64 KB, one thread, TCP against RDMA, alternated)
# inside the soft-RoCE guest of tests/rdma/guest, on its rxe0 device. It
# shows that the RDMA path works and what it costs under emulation, not
# what a NIC does: qemu emulates the CPU, and soft-RoCE is a driver.
#   bench/run-rdma.sh            (the full run; builds build/ if needed)
#   bench/run-rdma.sh --quick    (about 70 s here, the guest boot included)
# On a machine with an RDMA NIC run the benchmark itself, on the NIC's
# address: build/bench/mojim-bench --only rdma --host ADDR.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --in-guest ]; then # the guest's job (guest_run below)
	shift
	exec "$MOJIM_BUILD/bench/mojim-bench" --only rdma --host "$MOJIM_HOST" \
		--connect-timeout-ms 20000 --scratch /dev/shm "$@"
fi
[ -x build/bench/mojim-bench ] && [ -x build/mirror/mojim-mirror ] ||
	bash scripts/build.sh build >&2
export MOJIM_BUILD=$PWD/build
. tests/rdma/guest/lib.sh
guest_run "$PWD/bench/run-rdma.sh" --in-guest "$@"
