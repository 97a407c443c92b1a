# Invariant 2: a batch with a flipped bit, a batch cut short, a batch
# without its end mark and a batch whose LAST fragment never comes are
# never acked and never applied, not by the running mirror and not by a
# replay of its log after SIGKILL. The same batch sent whole IS applied,
# so the test sees the difference.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
[ -x "$FUZZ" ] || fail "$FUZZ not built"
M=$T/m
DATA=$M/data
BAD_CASES="flip trunc noend nolast"

# expect_file FILE PATTERN SIZE: FILE holds PATTERN repeated, SIZE bytes.
expect_file() {
	local want=$T/want.bin n i
	n=$(($3 / ${#2} + 1))
	for ((i = 0; i < n; i++)); do printf %s "$2"; done | head -c "$3" >"$want"
	[ -f "$1" ] || fail "$1 missing"
	cmp -s "$want" "$1" || fail "$1 does not hold the $2 pattern"
}

# field LINE KEY: one key=value of mj_fuzz --send's line.
field() { sed -nE "s/.* $2=([0-9]+).*/\1/p" <<<"$1"; }

# send CASE NAME PATTERN: one batch; prints its result line.
send() {
	"$FUZZ" --addr "$MIRROR_ADDR" --send "$1" --name "$2" --pattern "$3" \
		--seconds 20 2>>"$T/send.log" || fail "send $1: no HELLO_ACK"
}

# send_bad CASE PATTERN: the damaged batch must get no ACK, and for the
# cases where the damage is in the bytes the mirror read, the mirror must
# refuse and close.
send_bad() {
	local line
	line=$(send "$1" victim "$2")
	note "$line"
	[ "$(field "$line" ack)" = 0 ] || fail "$1: damaged batch was acked"
	case $1 in
	flip | noend)
		[ "$(field "$line" closed)" = 1 ] || fail "$1: the mirror kept the connection"
		[ "$(field "$line" refuse)" = 1 ] || fail "$1: no REFUSE before the close"
		;;
	esac
}

# replay: SIGKILL the mirror, then replay its log into the replica.
replay() {
	kill_mirror
	timeout 60 "$MOJIM_BIN/mojim-mirror" --replay-only --dir "$M" \
		2>>"$T/replay.log" || fail "replay-only failed: $(tail -3 "$T/replay.log")"
}

no_bad_bytes() {
	! grep -rl BAD- "$DATA" >/dev/null 2>&1 ||
		fail "damaged batch bytes in the replica: $(grep -rl BAD- "$DATA")"
}

# 1. Damaged batches on a fresh mirror: nothing logged, nothing applied.
start_mirror "$M" 0
for c in $BAD_CASES; do
	send_bad "$c" "BAD-$c-"
	sleep 0.2 # the checkpointer runs within ckpt_idle_ms (10 ms)
	[ ! -e "$DATA/victim" ] || fail "$c: victim exists after the damaged batch"
done
[ "$(mirror_status "$M" seq_durable)" = 0 ] || fail "a damaged batch counted as durable"
[ "$(mirror_status "$M" seq_applied)" = 0 ] || fail "a damaged batch was applied"
rej=$(mirror_status "$M" frames_rejected)
[ "${rej:-0}" -ge 2 ] || fail "frames_rejected is ${rej:-empty}, want >= 2 (flip, noend)"
replay
[ ! -e "$DATA/victim" ] || fail "victim exists after replaying the log"

# 2. The control: the same batches, undamaged, are applied.
start_mirror "$M" 0
line=$(send valid victim GOOD-)
note "$line"
[ "$(field "$line" ack)" = 1 ] || fail "valid batch not acked"
wait_applied "$M" "$(field "$line" seq)"
expect_file "$DATA/victim" GOOD- 4096
line=$(send frag victim2 FRAG-)
note "$line"
[ "$(field "$line" ack)" = 1 ] || fail "valid two-fragment batch not acked"
wait_applied "$M" "$(field "$line" seq)"
expect_file "$DATA/victim2" FRAG- 4096

# 3. Damaged batches over an existing file leave it as it was, running
# and after a replay of the log.
for c in $BAD_CASES; do
	send_bad "$c" "BAD-$c-"
done
sleep 0.2
expect_file "$DATA/victim" GOOD- 4096
no_bad_bytes
replay
expect_file "$DATA/victim" GOOD- 4096
expect_file "$DATA/victim2" FRAG- 4096
no_bad_bytes
echo "bad_frames: passed"
