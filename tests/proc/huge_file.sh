# Invariant 5: one batch asking for 16 files of 2^44 - 4096 bytes and a
# write at the end of each is refused at receipt (--max-file-size, by
# default the replica's file system size): never logged, acked or applied,
# the mirror stays up and a legitimate client still works. With the bound
# lifted to 16T the same batch reaches the replica: it fails to apply
# (no disk or address space holds it) and the mirror says so, alive.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
M=$T/m
field() { sed -nE "s/.* $2=([0-9]+).*/\1/p" <<<"$1"; }

start_mirror "$M" 0
line=$("$FUZZ" --addr "$MIRROR_ADDR" --send setsize-huge --seconds 20 2>>"$T/send.log") ||
	fail "setsize-huge: no HELLO_ACK"
note "$line"
[ "$(field "$line" ack)" = 0 ] || fail "the huge batch was acked"
[ "$(field "$line" refuse)" = 1 ] || fail "the huge batch was not refused"
kill -0 "$MIRROR_PID" 2>/dev/null || fail "the mirror died"
grep -q "over --max-file-size" "$M.log" || fail "the refusal does not name the bound"
[ "$(mirror_status "$M" seq_durable)" = 0 ] || fail "the huge batch was logged"
ls "$M/data" | grep -q fzhuge && fail "the huge batch left files in the replica"
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name after --seconds 20 >/dev/null ||
	fail "a legitimate batch after the huge one was not acked"
stop_mirror

# The bound lifted: the batch is logged, cannot be applied, the mirror lives.
M=$T/m2
start_mirror "$M" 0 --max-file-size 16384G
line=$("$FUZZ" --addr "$MIRROR_ADDR" --send setsize-huge --seconds 20 2>>"$T/send.log") ||
	fail "setsize-huge (16T): no HELLO_ACK"
note "16T: $line"
for _ in $(seq 1 50); do
	[ "$(mirror_status "$M" health)" = unhealthy ] && break
	sleep 0.1
done
kill -0 "$MIRROR_PID" 2>/dev/null || fail "the mirror died applying the huge batch"
[ "$(mirror_status "$M" health)" = unhealthy ] || fail "the failed batch left the replica healthy"
note "status: $(mirror_status "$M" health_error)"
ls "$M/data" | grep -q fzhuge && fail "files the failed records created are still there"
stop_mirror
echo "huge_file: passed"
