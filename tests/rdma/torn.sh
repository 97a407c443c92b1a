# Run in the soft-RoCE guest (guest/run.sh): torn RDMA writes never reach
# the log, and a frame rewritten after its ack is never used (see
# rewrite_run). MOJIM_RDMA_TEAR=N (repl/link/rdma.c) makes the primary's N-th
# placed frame a torn write: its last 64 bytes are never written, as a
# link cut mid-write leaves a frame, yet its completion arrives. The
# mirror must find it by its end mark or CRC, refuse it as a bad frame
# and never log or apply it; the primary reconnects and resends, and the
# replica ends equal to the primary's. Each seed tears a different frame
# (single and multi-fragment batches, several connections).
# needs: fault hooks
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

# A hostile primary rewrites its own frame after the mirror acknowledged
# it (MOJIM_RDMA_REWRITE=N: before its N-th placed frame, the first
# record's length of the one before becomes 2^40). One thread, one sync
# point at a time: that frame's batch was acknowledged. The checkpointer
# waits 3 s after the last batch, so the rewrite lands before the apply.
# Parsed in place, that length made the mirror read 2^40 bytes from the
# ring (a crash); now the reader's checked copy refuses the batch: the
# mirror stays up, says why, applies nothing from it on, and the primary's
# bytes were never used.
rewrite_run() { # REWRITE-AT
	local at=$1 m=$T/m-rewrite p=$T/p-rewrite
	start_mirror "$m" 0 --transport rdma --checkpoint-thresh 1000000 \
		--checkpoint-idle-ms 3000
	MOJIM_RDMA_REWRITE=$at timeout 90 "$MOJIM_TOOLS/mj_workload" --dir "$p" \
		--mirror "$MIRROR_ADDR" --transport rdma --mode sync --threads 1 \
		--ops 120 --connections 1 --seed "$at" --block-timeout-ms 20000 \
		>"$T/w-rewrite.out" 2>"$T/w-rewrite.log" ||
		fail "rewrite: the workload failed: $(tail -3 "$T/w-rewrite.log")"
	local seq i health=""
	seq=$(sed -n 's/^seq_sent //p' "$T/w-rewrite.out")
	for i in $(seq 1 300); do
		health=$(mirror_status "$m" health)
		[ "$health" = unhealthy ] && break
		kill -0 "$MIRROR_PID" 2>/dev/null || fail "rewrite: the mirror died"
		sleep 0.1
	done
	[ "$health" = unhealthy ] ||
		fail "rewrite: the rewritten batch was not refused (health $health)"
	local bad applied
	bad=$(mirror_status "$m" health_batch)
	applied=$(mirror_status "$m" seq_applied)
	[ "$applied" -eq $((bad - 1)) ] && [ "$bad" -le "$seq" ] ||
		fail "rewrite: batch $bad refused but $applied applied of $seq"
	grep -q "batch $bad no longer reads as it was acknowledged" "$m.log" ||
		fail "rewrite: no reason in the log: $(tail -3 "$m.log")"
	stop_mirror
	note "rewrite: frame $((at - 1)) rewritten after its ack; batch $bad of $seq refused ($(mirror_why "$m.log" "$bad")), $applied applied, mirror up"
}
mirror_why() { grep -m1 -o "batch $2 no longer reads as it was acknowledged ([^)]*)" "$1" | sed 's/.*(//; s/)$//'; }

rewrite_run 41
echo "rdma torn: every torn write rejected, the rewritten batch refused"
