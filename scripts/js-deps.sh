#!/usr/bin/env bash
# js-deps.sh: the MongoDB clients the integration tests drive (mongosh and
# the Node driver, pinned in integration/tests/js/package-lock.json), with
# the machine's Node.js and npm; Debian's are installed only where there
# are none (Debian 12's Node.js 18 is too old for the Node driver 7.x,
# which needs 20.19 or later: the tests then fail and say so). Only the
# npm registry is needed.
set -euo pipefail
cd "$(dirname "$0")/../integration/tests/js"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "js-deps: no Node.js here; installing Debian's nodejs and npm"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
	if (a < 20 || (a === 20 && b < 19)) { console.error("js-deps: Node.js " +
	process.versions.node + " is older than 20.19, which the Node driver 7.x needs"); process.exit(1); }'
# npm ci only when what is installed is not what the lock file says.
if [ ! -x node_modules/.bin/mongosh ] ||
	! cmp -s package-lock.json node_modules/.mojim-lock; then
	npm ci --no-audit --no-fund --loglevel=error
	cp package-lock.json node_modules/.mojim-lock
fi
