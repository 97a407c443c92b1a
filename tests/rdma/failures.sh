# Run in the soft-RoCE guest (guest/run.sh): the process-level tests of
# the failure policy, of fencing and of a mirror killed mid-stream, as they
# are, over transport=rdma (MOJIM_TRANSPORT: the mirrors they start and the
# primaries of their tools):
#   policy_mt       the mirror SIGKILLed under block (sync points fail
#                   after the block timeout) and degrade (DEGRADED, going on)
#   promote_mt      promotion refused and forced; the RDMA primary fenced;
#                   offline promotion holds every acknowledged sync point
#   mirror_kill_mt  the mirror SIGKILLed mid-stream again and again: never a
#                   partly applied batch, every acknowledged stamp replayed
#   primary_kill    the primary SIGKILLed mid-stream, life after life
#                   (cases/primary_kill.sh): the same two checks
set -euo pipefail
proc=$(cd "$(dirname "$0")/../proc" && pwd)
export MOJIM_TRANSPORT=rdma MOJIM_KILLS=${MOJIM_KILLS:-12}
export MOJIM_CONNECT_TIMEOUT_MS=${MOJIM_CONNECT_TIMEOUT_MS:-8000}
export MOJIM_DEGRADE_SECONDS=${MOJIM_DEGRADE_SECONDS:-12}
for t in policy_mt promote_mt mirror_kill_mt; do
	echo "== $t over rdma"
	bash "$proc/$t.sh" || { echo "FAIL: $t over rdma"; exit 1; }
done
echo "== primary_kill over rdma"
bash "$(dirname "$0")/cases/primary_kill.sh" ||
	{ echo "FAIL: primary_kill over rdma"; exit 1; }
echo "rdma failures: policy, fencing, mirror and primary kills passed"
