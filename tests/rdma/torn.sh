# Run in the soft-RoCE guest (guest/run.sh): torn RDMA writes never reach
# the log. MOJIM_RDMA_TEAR=N (repl/link/rdma.c) makes the primary's N-th
# placed frame a torn write: its last 64 bytes are never written, as a
# link cut mid-write leaves a frame, yet its completion arrives. The
# mirror must find it by its end mark or CRC, refuse it as a bad frame
# and never log or apply it; the primary reconnects and resends, and the
# replica ends equal to the primary's. Each seed tears a different frame
# (single and multi-fragment batches, several connections).
. "$(dirname "$0")/../proc/lib.sh"
export MOJIM_CONNECT_TIMEOUT_MS=${MOJIM_CONNECT_TIMEOUT_MS:-8000}

tear_run() { # NAME TEAR-AT CONNECTIONS [mirror options...]
	local name=$1 at=$2 nc=$3
	shift 3
	local m=$T/m-$name p=$T/p-$name
	start_mirror "$m" 0 --transport rdma "$@"
	MOJIM_RDMA_TEAR=$at timeout 90 "$MOJIM_TOOLS/mj_workload" --dir "$p" \
		--mirror "$MIRROR_ADDR" --transport rdma --mode sync --threads 2 \
		--ops 300 --connections "$nc" --seed "$at" --block-timeout-ms 20000 \
		>"$T/w-$name.out" 2>"$T/w-$name.log" ||
		fail "$name: the workload failed: $(tail -3 "$T/w-$name.log")"
	local seq
	seq=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	wait_applied "$m" "$seq"
	local rejected
	rejected=$(mirror_status "$m" frames_rejected)
	[ "${rejected:-0}" -ge 1 ] || fail "$name: the torn frame was not rejected"
	grep -E "rejected frame: .*(end mark|crc|CRC)" "$m.log" >"$T/why" ||
		fail "$name: no end mark or CRC rejection in the log: $(grep rejected "$m.log" | head -3)"
	stop_mirror
	same_tree "$p" "$m/data"
	note "$name: frame $at torn, $(head -1 "$T/why" | sed 's/.*rejected frame: //'); $seq batches, replica identical"
}

tear_run small 37 2
# A slot of 64 KiB cuts the larger batches into fragments, so the torn frame
# may follow fragments of its batch already logged: they are rewound, never
# applied.
tear_run fragments 23 1 --slot-size 64K
echo "rdma torn: every torn write rejected"
