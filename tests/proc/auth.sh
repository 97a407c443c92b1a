# Links are authenticated by the cluster key (mojim_link.h). A mirror with
# a key refuses a primary with another key, with none, or replaying a
# recorded handshake, and 1,200 such HELLOs change nothing: its state file,
# log/ (names and sizes), replica, epoch, cluster and descriptor count are
# what they were. A mirror without the key cannot serve a keyed primary:
# a real mirror without one refuses it, and impostors that answer anyway
# (no CHALLENGE, or a forged proof) are refused by the primary. With the
# right key, batches flow. Key files that are not private or not base64
# are refused at start. Real libmojim primaries (mj_primary), real mirrors,
# 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
PRIM=$MOJIM_TOOLS/mj_primary
M=$T/m

mk_key() { head -c 32 /dev/urandom | base64 >"$1"; chmod 600 "$1"; }
mk_key "$T/k1"
mk_key "$T/k2"

# Key files the mirror must refuse before it touches DIR.
bad_key() { # FILE WORDS-THE-MESSAGE-MUST-HOLD
	local rc=0
	"$MOJIM_BIN/mojim-mirror" --listen 127.0.0.1:0 --dir "$T/never" \
		--keyfile "$1" 2>"$T/badkey.out" || rc=$?
	[ "$rc" -eq 2 ] || fail "key file $1: exit $rc, not 2"
	grep -q -- "$2" "$T/badkey.out" || fail "key file $1: $(cat "$T/badkey.out")"
	[ ! -e "$T/never" ] || fail "a refused key file left $T/never"
}
cp "$T/k1" "$T/open.key"
chmod 640 "$T/open.key"
bad_key "$T/open.key" "group or others"
printf 'not*base64\n' >"$T/junk.key" && chmod 600 "$T/junk.key"
bad_key "$T/junk.key" "not base64"
printf 'c2hvcnQ=\n' >"$T/short.key" && chmod 600 "$T/short.key"
bad_key "$T/short.key" "shorter than 16"
bad_key "$T/missing.key" "No such file"

start_mirror "$M" 0 --keyfile "$T/k1"
[ "$(mirror_status "$M" keyed)" = 1 ] || fail "status does not say keyed"
MPID=$MIRROR_PID
MADDR=$MIRROR_ADDR

mirror_snapshot "$M" >"$T/before.snap"
fds0=$(mirror_fds "$MPID")

# A real primary with the wrong key, and with none.
primary() { # LOG DIR ARGS...: a primary life that must fail to open
	local log=$1 dir=$2 rc=0
	shift 2
	timeout 60 "$PRIM" --dir "$dir" --mirror "$MADDR" --policy block \
		--connections 1 --write a:refused --sync "$@" >/dev/null 2>"$log" || rc=$?
	[ "$rc" -ne 0 ] || fail "a primary ($*) was served: $(cat "$log")"
}
primary "$T/wrong.out" "$T/p-wrong" --keyfile "$T/k2"
grep -q "proof of the cluster key does not match" "$T/wrong.out" ||
	fail "wrong key: $(cat "$T/wrong.out")"
primary "$T/none.out" "$T/p-none"
grep -q "requires the cluster key" "$T/none.out" || fail "no key: $(cat "$T/none.out")"

# 1,200 refused HELLOs: 1,000 with another key, 200 without one.
"$FUZZ" --addr "$MADDR" --keyfile "$T/k2" --flood hello --count 1000 \
	--seconds 120 >"$T/flood.out"
grep -q "acked=0 refused=1000 auth_refused=1000" "$T/flood.out" ||
	fail "wrong-key flood: $(cat "$T/flood.out")"
"$FUZZ" --addr "$MADDR" --flood hello --count 200 --seconds 60 >"$T/flood0.out"
grep -q "acked=0 refused=200 auth_refused=200" "$T/flood0.out" ||
	fail "keyless flood: $(cat "$T/flood0.out")"

# A handshake recorded against another mirror with the same key, replayed.
start_mirror "$T/m2" 0 --keyfile "$T/k1"
"$FUZZ" --addr "$MIRROR_ADDR" --keyfile "$T/k1" --record "$T/hs.bin" >/dev/null ||
	fail "could not record a handshake"
stop_mirror
"$FUZZ" --addr "$MADDR" --replay "$T/hs.bin" >"$T/replay.out" ||
	fail "a replayed handshake was not refused: $(cat "$T/replay.out")"

mirror_refusals_left_nothing "$M" "$MPID" "$fds0" "$T/before.snap" \
	auth_refused 1203 "the primary's proof"
note "1,203 refused: state, log/ ($(du -sb "$M/log" | cut -f1) bytes), epoch, cluster and $fds0 descriptors unchanged"

# The right key: served, and the batch reaches the replica.
timeout 60 "$PRIM" --dir "$T/p" --mirror "$MADDR" --keyfile "$T/k1" \
	--connections 2 --write a:KEYED-OK --sync >"$T/ok.out" 2>"$T/ok.log" ||
	fail "the keyed primary failed: $(cat "$T/ok.log")"
for i in $(seq 1 100); do
	[ "$(head -c 8 "$M/data/a" 2>/dev/null)" = KEYED-OK ] && break
	sleep 0.1
done
[ "$(head -c 8 "$M/data/a" 2>/dev/null)" = KEYED-OK ] ||
	fail "the keyed primary's batch is not in the replica"
stop_mirror_pid() { kill -TERM "$1" && wait "$1" 2>/dev/null || true; }
stop_mirror_pid "$MPID"

# A mirror without the key refuses a keyed primary ...
start_mirror "$T/m3" 0
MADDR=$MIRROR_ADDR
primary "$T/nokey.out" "$T/p3" --keyfile "$T/k1"
grep -q "this mirror has none" "$T/nokey.out" || fail "unkeyed mirror: $(cat "$T/nokey.out")"
[ "$(mirror_status "$T/m3" cluster_id)" = 0000000000000000 ] ||
	fail "the unkeyed mirror adopted the refused primary's cluster"
stop_mirror

# ... and impostors that answer anyway are refused by the primary.
for mode in plain challenge; do
	"$FUZZ" --impostor "$T/imp.port" --impostor-mode $mode --count 1 \
		--seconds 30 >"$T/imp-$mode.out" 2>&1 &
	IMP=$!
	STARTED_PIDS+=("$IMP")
	for i in $(seq 1 100); do [ -s "$T/imp.port" ] && break; sleep 0.05; done
	MADDR=127.0.0.1:$(cat "$T/imp.port")
	primary "$T/imp-p-$mode.out" "$T/p-imp-$mode" --keyfile "$T/k1"
	wait "$IMP" || fail "the impostor ($mode) failed: $(cat "$T/imp-$mode.out")"
	rm -f "$T/imp.port"
	grep -q "hello_acks=1" "$T/imp-$mode.out" ||
		fail "the impostor ($mode) never answered: $(cat "$T/imp-$mode.out")"
done
grep -q "did not ask for the cluster key" "$T/imp-p-plain.out" ||
	fail "impostor without CHALLENGE: $(cat "$T/imp-p-plain.out")"
grep -q "could not prove it holds the cluster key" "$T/imp-p-challenge.out" ||
	fail "impostor with a forged proof: $(cat "$T/imp-p-challenge.out")"
echo "auth: passed"
