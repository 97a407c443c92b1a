#!/usr/bin/env bash
# run.sh TEST: runs tests/rdma/TEST (a process-level test that needs an
# RDMA device) inside the soft-RoCE guest; ctest's status is the test's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
guest_run "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
