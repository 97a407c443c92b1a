#!/bin/busybox sh
# init.sh: the RDMA test guest's first process (see lib.sh). Loads virtio
# and 9p, mounts the host's root read-only and the job's folder writable at
# its host path, and switch_roots into init2.sh on the host's root.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev
die() {
	echo "init: $*"
	$bb poweroff -f
}
for m in $($bb cat /modules/order); do
	$bb insmod "/modules/$m.ko" || die "insmod $m failed"
done
arg() { $bb sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
work=$(arg mojim_work)
ginit=$(arg mojim_init)
addr=$(arg mojim_addr)
opts=trans=virtio,version=9p2000.L,msize=512000
$bb mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot ||
	die "cannot mount the host's root"
# The host's /proc, /sys and /dev show through the 9p export: the guest's
# own go over them before the switch.
$bb umount /proc
$bb umount /dev
for fs in proc:/proc sysfs:/sys devtmpfs:/dev tmpfs:/run; do
	$bb mount -t "${fs%%:*}" "${fs%%:*}" "/newroot${fs#*:}" ||
		die "cannot mount ${fs%%:*} on ${fs#*:}"
done
# After the tmpfs mounts: the work folder may lie under one of them.
$bb mount -t 9p -o "$opts,cache=none" work "/newroot$work" ||
	die "cannot mount the work folder $work"
exec $bb switch_root /newroot /bin/bash "$ginit" "$work" "$addr"
