#!/usr/bin/env bash
# setup-and-run.sh: installs what is missing, builds, runs the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
bash scripts/demo.sh
