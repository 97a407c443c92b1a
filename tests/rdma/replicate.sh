# Run in the soft-RoCE guest (guest/run.sh): the randomized multi-thread
# gmsync workload over transport=rdma, in every replicated mode and with
# several connections; afterwards the mirror's replica equals the
# primary's byte for byte. Then the same over TCP in the same guest.
. "$(dirname "$0")/../proc/lib.sh"
# An emulated device takes seconds to connect, and the first offer of a
# ring registers its 64 MiB.
export MOJIM_CONNECT_TIMEOUT_MS=${MOJIM_CONNECT_TIMEOUT_MS:-8000}

run_mode() { # NAME MODE TRANSPORT CONNECTIONS MIN-BATCHES [mirror options...]
	local name=$1 mode=$2 tr=$3 nc=$4 min=$5
	shift 5
	local m=$T/m-$name p=$T/p-$name
	start_mirror "$m" 0 --transport "$tr" "$@"
	# Bounded: a link that corrupts frames makes the primary retry forever.
	timeout 90 "$MOJIM_TOOLS/mj_workload" --dir "$p" --mirror "$MIRROR_ADDR" \
		--transport "$tr" --mode "$mode" --threads 4 --ops 1500 \
		--connections "$nc" --seed 11 \
		>"$T/w-$name.out" 2>"$T/w-$name.log" || fail "$name: workload failed"
	local seq
	seq=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	[ "${seq:-0}" -ge "$min" ] || fail "$name: only ${seq:-0} batches were sent"
	wait_applied "$m" "$seq"
	# Over RDMA the primary places every batch in the log itself.
	local placed received
	placed=$(mirror_status "$m" bytes_placed)
	received=$(mirror_status "$m" bytes_received)
	if [ "$tr" = rdma ]; then
		[ "${placed:-0}" -gt 0 ] && [ "$placed" = "$received" ] ||
			fail "$name: $placed of $received bytes were placed in the log"
	else
		[ "${placed:-x}" = 0 ] || fail "$name: TCP placed $placed bytes"
	fi
	stop_mirror
	same_tree "$p" "$m/data"
	grep -q "conn 0 from .*: hello" "$m.log" || fail "$name: no hello logged"
	note "$name: $seq batches over $tr ($placed of $received bytes placed), replica identical"
}

# async coalesces sync points into few batches.
run_mode sync-rdma sync rdma 2 500
run_mode syncflush-rdma syncflush rdma 1 500
run_mode async-rdma async rdma 3 20
run_mode sync-tcp sync tcp 2 500
echo "rdma replicate: all modes passed"
