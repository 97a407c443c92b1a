#!/usr/bin/env bash
# lib.sh: runs a job inside a qemu guest that has a soft-RoCE device, for
# the RDMA tests (no machine here has an RDMA NIC, and the host kernel has
# no rdma_rxe). Sourced by run.sh.
#
# The guest is Debian's own kernel (apt-get download, cached in the build
# folder) with a busybox initramfs that mounts the host's root read-only
# over 9p and switch_roots into it, so the guest runs this build's binaries
# and the host's libraries at the same paths. A writable 9p folder (the
# job's) carries the job in and its output and exit code out. Inside,
# init2.sh loads rdma_rxe on a dummy interface (rxe0, 10.77.0.1) and
# runs the job; then the guest powers off.
#
#   guest_run JOB_SCRIPT [ARGS...]  runs bash JOB_SCRIPT ARGS in the guest,
#                                   its output on stdout; returns its status
#
# Environment: MOJIM_BUILD (the build folder; the cache goes in
# MOJIM_BUILD/rdma-guest), MOJIM_GUEST_TIMEOUT (seconds for the whole
# guest, default 600). A guest that cannot start is a failure (status 90
# and up), never a skip.
set -euo pipefail
RDMA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MOJIM_BUILD:?MOJIM_BUILD must name the build folder}"
GUEST_CACHE=$MOJIM_BUILD/rdma-guest
GUEST_ADDR=10.77.0.1
# Modules the initramfs loads itself, in dependency order: virtio's PCI
# transport and 9p over it. Everything later is loaded from the full tree.
GUEST_EARLY_MODULES="virtio_ring virtio virtio_pci_legacy_dev
virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

guest_fail() { # CODE MESSAGE
	echo "rdma guest: $2" >&2
	return "$1"
}

# The kernel version Debian's linux-image-amd64 depends on, e.g.
# 6.1.0-57-amd64.
guest_kver() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\([0-9].*\)/\1/p' | head -n1
}

# Downloads and unpacks the kernel package once; the tree gets its own
# modules.dep (depmod -b) so that modprobe -d finds everything in it.
guest_kernel() {
	local kver
	kver=$(guest_kver)
	[ -n "$kver" ] || guest_fail 91 "apt-cache names no linux-image-amd64 kernel" || return
	GUEST_KVER=$kver
	GUEST_TREE=$GUEST_CACHE/kernel-$kver
	[ -f "$GUEST_TREE/.done" ] && return 0
	rm -rf "$GUEST_TREE" "$GUEST_CACHE/deb"
	mkdir -p "$GUEST_CACHE/deb"
	(cd "$GUEST_CACHE/deb" && apt-get download -q "linux-image-$kver" >/dev/null 2>&1) ||
		guest_fail 92 "apt-get download linux-image-$kver failed" || return
	dpkg -x "$GUEST_CACHE"/deb/linux-image-"$kver"_*.deb "$GUEST_TREE" ||
		guest_fail 92 "dpkg -x of linux-image-$kver failed" || return
	depmod -b "$GUEST_TREE" "$kver" || guest_fail 92 "depmod -b failed" || return
	rm -rf "$GUEST_CACHE/deb"
	touch "$GUEST_TREE/.done"
}

# Builds the initramfs (busybox, the early modules, init.sh) when it is
# missing or older than init.sh.
guest_initramfs() {
	GUEST_INITRD=$GUEST_CACHE/initrd-$GUEST_KVER.gz
	[ "$GUEST_INITRD" -nt "$RDMA_DIR/init.sh" ] && return 0
	local root=$GUEST_CACHE/initramfs m path
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/modules" "$root/proc" "$root/sys" \
		"$root/dev" "$root/newroot"
	cp /bin/busybox "$root/bin/busybox" ||
		guest_fail 93 "no /bin/busybox (busybox-static)" || return
	for m in $GUEST_EARLY_MODULES; do
		path=$(modprobe -d "$GUEST_TREE" -S "$GUEST_KVER" -n -v "$m" 2>/dev/null |
			awk '$1 == "insmod" { p = $2 } END { print p }')
		[ -n "$path" ] || guest_fail 93 "module $m not in the kernel tree" || return
		cp "$path" "$root/modules/$m.ko"
	done
	echo "$GUEST_EARLY_MODULES" | tr ' ' '\n' | sed '/^$/d' >"$root/modules/order"
	cp "$RDMA_DIR/init.sh" "$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$GUEST_INITRD.tmp" ||
		guest_fail 93 "cannot pack the initramfs" || return
	mv "$GUEST_INITRD.tmp" "$GUEST_INITRD"
}

guest_accel() {
	if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
		echo "-enable-kvm -cpu host"
	else
		echo "-accel tcg,thread=multi -cpu max"
	fi
}

guest_run() {
	local job=$1
	shift
	command -v qemu-system-x86_64 >/dev/null ||
		guest_fail 90 "qemu-system-x86_64 is not installed (scripts/deps.sh)" || return
	mkdir -p "$GUEST_CACHE"
	guest_kernel || return
	guest_initramfs || return
	local work
	work=$(mktemp -d "$GUEST_CACHE/job.XXXXXX")
	# The job runs as root in the guest, from this folder, with the
	# test's MOJIM_* and PMEM_* environment.
	{
		printf 'cd %q\n' "$work"
		local v
		for v in $(compgen -e | grep -E '^(MOJIM_|PMEM_)'); do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
		printf 'export MOJIM_HOST=%q\n' "$GUEST_ADDR"
		printf 'exec bash %q' "$job"
		printf ' %q' "$@"
		printf '\n'
	} >"$work/job.sh"
	printf '#!/bin/sh\nexec /sbin/modprobe -d %q "$@"\n' "$GUEST_TREE" >"$work/modprobe"
	chmod 755 "$work/modprobe"
	local vmlinuz=$GUEST_TREE/boot/vmlinuz-$GUEST_KVER rc=0
	# shellcheck disable=SC2046
	# ctest ends a test by killing its process group: timeout must stay in
	# it (--foreground; by default it makes a group of its own, which ctest
	# never reaches), and qemu dies with timeout whatever kills that
	# (--pdeathsig).
	timeout --foreground -k 10 "${MOJIM_GUEST_TIMEOUT:-600}" \
		setpriv --pdeathsig KILL qemu-system-x86_64 \
		$(guest_accel) -smp 2 -m 2048M -nographic -no-reboot -nic none \
		-kernel "$vmlinuz" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 mojim_work=$work mojim_init=$RDMA_DIR/init2.sh mojim_addr=$GUEST_ADDR" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$work,mount_tag=work,security_model=none" \
		</dev/null >"$work/console" 2>&1 &
	local qpid=$!
	# A TERM (ctest's first word) or an exit of this shell ends the guest.
	trap 'kill -9 $qpid 2>/dev/null; pkill -9 -P $qpid 2>/dev/null' EXIT
	trap 'exit 143' TERM INT
	wait "$qpid" || rc=$?
	trap - EXIT TERM INT
	cat "$work/out" 2>/dev/null || true
	if [ ! -f "$work/rc" ]; then
		echo "rdma guest: the guest left no exit code (qemu status $rc); its console:" >&2
		tail -n 40 "$work/console" >&2
		cp "$work/console" "$GUEST_CACHE/last-console"
		rm -rf "$work"
		return 94
	fi
	cp "$work/console" "$GUEST_CACHE/last-console"
	rc=$(cat "$work/rc")
	[ "$rc" = 0 ] || { echo "rdma guest: console tail:" >&2; tail -n 15 "$work/console" >&2; }
	rm -rf "$work"
	return "$rc"
}
