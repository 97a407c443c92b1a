# Run in the soft-RoCE guest (guest/run.sh): the randomized multi-thread
# gmsync workload over transport=rdma, in the replicated modes and with
# several connections, through the whole tier over mixed transports: the
# primary places its batches in the mirror's log (one-sided writes), and
# the mirror forwards them to a backup over TCP in one run
# (--backup-transport tcp) and over RDMA in another (its forwarder places
# them in the backup's log). Afterwards the replicas of mirror and backup
# equal the primary's byte for byte, and every byte that came over RDMA
# was placed (bytes_placed), none over TCP.
. "$(dirname "$0")/../proc/lib.sh"
# An emulated device takes seconds to connect, and the first offer of a
# ring registers its 64 MiB.
export MOJIM_CONNECT_TIMEOUT_MS=${MOJIM_CONNECT_TIMEOUT_MS:-8000}

# placed_all DIR TRANSPORT: placed/received bytes, checked.
placed_all() {
	local placed received
	placed=$(mirror_status "$1" bytes_placed)
	received=$(mirror_status "$1" bytes_received)
	if [ "$2" = rdma ]; then
		[ "${placed:-0}" -gt 0 ] && [ "$placed" = "$received" ] ||
			fail "$1: $placed of $received bytes were placed in the log"
	else
		[ "${placed:-x}" = 0 ] || fail "$1: $placed bytes placed over $2"
	fi
	echo "$placed/$received"
}

run_mode() { # NAME MODE CONNECTIONS MIN-BATCHES BACKUP-TRANSPORT
	local name=$1 mode=$2 nc=$3 min=$4 bt=$5
	local b=$T/b-$name m=$T/m-$name p=$T/p-$name
	start_mirror "$b" 0 --transport "$bt" --role backup
	local bpid=$MIRROR_PID
	start_mirror "$m" 0 --transport rdma --backup "$MIRROR_ADDR" \
		--backup-transport "$bt"
	# Bounded: a link that corrupts frames makes the primary retry forever.
	timeout 90 "$MOJIM_TOOLS/mj_workload" --dir "$p" --mirror "$MIRROR_ADDR" \
		--transport rdma --mode "$mode" --threads 4 --ops 1000 \
		--connections "$nc" --seed 11 \
		>"$T/w-$name.out" 2>"$T/w-$name.log" || fail "$name: workload failed"
	local seq mp bp
	seq=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	[ "${seq:-0}" -ge "$min" ] || fail "$name: only ${seq:-0} batches were sent"
	wait_applied "$m" "$seq"
	wait_applied "$b" "$seq"
	mp=$(placed_all "$m" rdma)
	bp=$(placed_all "$b" "$bt")
	stop_mirror
	MIRROR_PID=$bpid
	stop_mirror
	same_tree "$p" "$m/data"
	same_tree "$p" "$b/data"
	grep -q "conn 0 from .*: hello" "$m.log" || fail "$name: no hello logged"
	note "$name: $seq batches, backup over $bt; bytes placed/received: mirror $mp, backup $bp; replicas identical"
}

# wait_logged DIR SEQ: until the mirror in DIR logged batch SEQ (60 s).
wait_logged() {
	local i
	for i in $(seq 1 600); do
		[ "$(mirror_status "$1" seq_durable)" -ge "$2" ] 2>/dev/null && return
		sleep 0.1
	done
	fail "$1 did not log batch $2 within 60 s"
}

# The same bytes in the log whichever transport wrote them: the primary
# places its batches in the mirror's log over RDMA, the mirror forwards
# those frames to a backup over TCP, where its receiver writes them. Both
# hold their checkpointers back so the logs keep every batch; both are
# SIGKILLed; a copy of each log is decoded as a replay and the
# checkpointer read it (mj_logdump), and the two decodings must be equal
# to the byte: frames (length, CRC of every byte) and records.
same_log() {
	local b=$T/b-log m=$T/m-log p=$T/p-log seq
	local hold=(--checkpoint-thresh 1000000 --checkpoint-idle-ms 3600000)
	start_mirror "$b" 0 --transport tcp --role backup "${hold[@]}"
	local bpid=$MIRROR_PID
	start_mirror "$m" 0 --transport rdma --backup "$MIRROR_ADDR" \
		--backup-transport tcp "${hold[@]}"
	timeout 90 "$MOJIM_TOOLS/mj_workload" --dir "$p" --mirror "$MIRROR_ADDR" \
		--transport rdma --mode sync --threads 2 --ops 200 --connections 2 \
		--seed 7 >"$T/w-log.out" 2>"$T/w-log.log" ||
		fail "same log: workload failed: $(tail -3 "$T/w-log.log")"
	seq=$(sed -n 's/^seq_sent //p' "$T/w-log.out")
	wait_logged "$b" "$seq"
	local mp
	mp=$(placed_all "$m" rdma)
	kill_mirror
	MIRROR_PID=$bpid
	kill_mirror
	cp -r "$m/log" "$T/log-m" && cp -r "$b/log" "$T/log-b" || fail "copy"
	"$MOJIM_TOOLS/mj_logdump" "$T/log-m" >"$T/dump-m" ||
		fail "same log: the mirror's log does not decode"
	"$MOJIM_TOOLS/mj_logdump" "$T/log-b" >"$T/dump-b" ||
		fail "same log: the backup's log does not decode"
	local nb nr
	nb=$(sed -n 's/^batches //p' "$T/dump-m")
	nr=$(grep -c '^  rec ' "$T/dump-m" || true)
	[ "$nb" -ge "$seq" ] && [ "$nr" -gt 0 ] ||
		fail "same log: $nb batches ($nr records) decoded of $seq"
	cmp -s "$T/dump-m" "$T/dump-b" ||
		fail "same log: the logs differ: $(diff "$T/dump-m" "$T/dump-b" | head -5)"
	note "same log: $nb batches, $nr records, identical in the log written over rdma (placed/received $mp) and the one written over tcp"
}

same_log
# async coalesces sync points into batches as the link keeps up: how many
# depends on the load (19 were seen with another test beside the guest),
# so it only has to send several.
run_mode sync sync 2 300 tcp
# async: nobody waits for a batch, so a slow shipper may carry every sync
# point in one; only one batch is certain.
run_mode async async 3 1 rdma
echo "rdma replicate: all modes passed"
