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
	libmicrohttpd-dev                  # the mirror's metrics endpoint (--metrics)
	check libsubunit-dev               # C unit tests
	libwiredtiger-dev wiredtiger       # the engine issue, and the wt utility
	libibverbs-dev librdmacm-dev       # RDMA transport (rdma-core)
	rdma-core ibverbs-providers        # RDMA tests: rdma tool, soft-RoCE's provider
	ibverbs-utils rdmacm-utils         # RDMA tests: ibv_devinfo, rping (sanity)
	qemu-system-x86 busybox-static     # RDMA tests: the soft-RoCE guest (tests/rdma/guest)
	kmod cpio                          # RDMA tests: the guest's modules, its initramfs
	libbson-dev                        # MongoDB documents for the benchmarks
	clang libclang-rt-14-dev           # integration/wire's fuzzer: clang and its libFuzzer runtime
	python3-pymongo libmongoc-dev      # integration/tests: pymongo and a libmongoc client against mojim-docd
	gnuplot-nox                        # bench/ycsb plots (PNG, no X)
	iproute2 procps diffutils          # process tests: namespaces, kill, diff
	prometheus curl                    # proc_metrics: promtool check metrics, HTTP
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

# Debian's prometheus package is here for promtool only, but its postinst
# starts the prometheus daemon (invoke-rc.d or deb-systemd-invoke). Both
# ask /usr/sbin/policy-rc.d first, and 101 means "do not start": one that
# says so is put in place for this install only, and only if the machine
# has none (a container's own policy is left as it is).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap 'rm -f "$policy"' EXIT
	printf '#!/bin/sh\n# mojim scripts/deps.sh: no daemon starts while it installs\nexit 101\n' >"$policy"
	chmod 755 "$policy"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# Nor at the next boot, where systemd would start what it just enabled.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	systemctl disable prometheus.service >/dev/null 2>&1 || true
fi
