#!/usr/bin/env bash
# deps.sh: installs the Debian packages mojim needs, if any is missing.
# Run as root on Debian 12. Only Debian's package registry is needed.
set -euo pipefail
PKGS=(
	build-essential cmake pkg-config   # compiler and build
	libpmem-dev                        # persistent memory mappings (PMDK)
	libisal-dev                        # CRC32C of every batch (Intel ISA-L)
	libssl-dev                         # link keys (HMAC-SHA256, nonces, base64), TLS
	openssl                            # TLS tests: a CA and certificates
	check libsubunit-dev               # C unit tests
	libwiredtiger-dev wiredtiger       # the engine issue, and the wt utility
	libibverbs-dev librdmacm-dev       # RDMA transport (rdma-core)
	libbson-dev                        # MongoDB documents for the benchmarks
	gnuplot-nox                        # bench/ycsb plots (PNG, no X)
	iproute2 procps diffutils          # process tests: namespaces, kill, diff
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
