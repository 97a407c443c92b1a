# The mirror's local surfaces belong to its user: DIR, its log and its
# replica are 0700, their files 0600, the control socket 0600. Another
# user (nobody, through setpriv) cannot reach the socket; and when the
# modes are loosened by hand, the mirror still refuses that user by
# SO_PEERCRED (status and promote alike), logs and counts the refusal, and
# promotes nothing. A restart narrows the loosened DIR to 0700 again.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
M=$T/m
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
[ "$(id -u)" -eq 0 ] || fail "this test runs as root (it switches to nobody)"

# mojimctl where nobody can run it (the build tree may be out of its reach).
PUB=$(mktemp -d /dev/shm/mojim-pub.XXXXXX)
CLEANUP_HOOKS+=("rm -rf $PUB")
chmod 755 "$PUB"
cp "$MOJIM_BIN/mojimctl" "$PUB/mojimctl"
chmod 755 "$PUB/mojimctl"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$PUB/mojimctl" --socket "$M/control.sock" "$@" 2>&1 || true
}

start_mirror "$M" 0
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name probe --seconds 20 >/dev/null ||
	fail "the first batch was not acked"
wait_applied "$M" 1
[ -f "$M/data/probe" ] || fail "the probe file is not in the replica"

mode() { stat -c %a "$1"; }
for d in "$M" "$M/log" "$M/data"; do
	[ "$(mode "$d")" = 700 ] || fail "$d is mode $(mode "$d"), not 700"
done
[ "$(mode "$M/control.sock")" = 600 ] ||
	fail "control.sock is mode $(mode "$M/control.sock"), not 600"
open=$(find "$M" \( -type f -o -type d \) -perm /077)
[ -z "$open" ] || fail "open to other users: $open"

# As created: nobody cannot even reach the socket.
out=$(as_nobody status)
if grep -q "role: mirror" <<<"$out"; then fail "nobody read the status"; fi

# Loosened by hand: the socket is reachable, the uid check still refuses.
chmod 711 "$T"
chmod 755 "$M"
chmod 666 "$M/control.sock"
out=$(as_nobody status)
grep -q "permission denied: uid $(id -u nobody)" <<<"$out" ||
	fail "nobody's status was answered: $out"
out=$(as_nobody promote --force)
grep -q "permission denied" <<<"$out" || fail "nobody's promote: $out"
[ "$(mirror_status "$M" promoted)" = 0 ] || fail "nobody promoted the replica"
[ "$(mirror_status "$M" control_refused)" = 2 ] ||
	fail "control_refused is $(mirror_status "$M" control_refused), not 2"
grep -q "control: refused uid $(id -u nobody)" "$M.log" ||
	fail "the refusal is not in the mirror's log"
[ "$(mirror_status "$M" role)" = mirror ] || fail "root's status failed"

# A restart narrows DIR again.
stop_mirror
start_mirror "$M" 0
[ "$(mode "$M")" = 700 ] || fail "a restart left DIR mode $(mode "$M")"
grep -q "made 0700" "$M.log" || fail "the narrowing is not logged"
"$FUZZ" --addr "$MIRROR_ADDR" --probe --name after --seconds 20 >/dev/null ||
	fail "the mirror no longer acks"
stop_mirror
echo "control_perm: passed"
