#!/bin/bash
# init2.sh: runs in the RDMA test guest on the host's (read-only)
# root, after init.sh. Mounts what a system needs, loads soft-RoCE on a
# dummy interface, runs the job and writes its output and exit code to the
# job's folder, then powers off.
# init.sh mounted /proc, /sys, /dev and /run. /tmp stays the host's (read-
# only: the build may be under it); scratch space is /dev/shm (TMPDIR).
work=$1
addr=$2
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
off() {
	sync
	echo 1 >/proc/sys/kernel/sysrq
	echo o >/proc/sysrq-trigger
	sleep 30
}
setup() {
	# rxe asks the kernel for crc32 on its own: modprobe must look in the
	# unpacked tree, not in the host's /lib/modules.
	echo "$work/modprobe" >/proc/sys/kernel/modprobe
	"$work/modprobe" rdma_rxe && "$work/modprobe" rdma_ucm &&
		"$work/modprobe" dummy || return 1
	ip link set lo up &&
		ip link add dummy0 type dummy &&
		ip addr add "$addr/24" dev dummy0 &&
		ip link set dummy0 up &&
		rdma link add rxe0 type rxe netdev dummy0
}
if ! setup >"$work/out" 2>&1; then
	echo "guest: soft-RoCE setup failed" >>"$work/out"
	echo 95 >"$work/rc"
	off
fi
ulimit -l unlimited
export TMPDIR=/dev/shm PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
bash "$work/job.sh" >>"$work/out" 2>&1
echo $? >"$work/rc"
off
