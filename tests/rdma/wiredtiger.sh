# Run in the soft-RoCE guest (guest/run.sh): the WiredTiger workload of
# tests/engine/workload_mt.sh (4 threads, fsync per commit, checkpoints, in
# sync and async) unchanged, through the extension with
# transport=rdma (MOJIM_TRANSPORT in tests/engine/lib.sh's extension
# config and in the mirrors it starts): the primary reopens and verifies,
# and the mirror's replica, opened by stock WiredTiger, holds the same rows.
set -euo pipefail
export MOJIM_TRANSPORT=rdma
export MOJIM_CONNECT_TIMEOUT_MS=${MOJIM_CONNECT_TIMEOUT_MS:-8000}
export ENGINE_WORKLOAD_MODES=${ENGINE_WORKLOAD_MODES:-sync async}
bash "$(dirname "$0")/../engine/workload_mt.sh"
echo "rdma wiredtiger: passed"
