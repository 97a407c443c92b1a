# Bad extension config keys and values make wiredtiger_open fail with a
# message naming them; nothing is created and no mirror is needed.
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
mkdir "$T/db"

refused() { # CONFIG-INSIDE-BRACES WORD-THE-MESSAGE-MUST-NAME
	local ext="extensions=[$MOJIM_ENGINE=(early_load=true,config={$1})]" rc=0
	timeout 60 "$W" open "$T/db" "create,$ext" >/dev/null 2>"$T/err.log" || rc=$?
	[ "$rc" -ne 0 ] || fail "config {$1} was accepted"
	grep -q -- "$2" "$T/err.log" || fail "config {$1}: message does not name '$2': $(cat "$T/err.log")"
}

refused 'mode=sync,mirror="127.0.0.1:1",bogus=1' 'unknown key "bogus"'
refused 'mod=sync' 'unknown key "mod"'
refused 'mode=fast,mirror="127.0.0.1:1"' 'mode=fast'
refused 'mode=sync,mirror="127.0.0.1:1",policy=maybe' 'policy=maybe'
refused 'mode=sync,mirror="127.0.0.1:1",connections=0' 'connections=0'
refused 'mode=sync,mirror="127.0.0.1:1",connections=65' 'connections=65'
refused 'mode=sync,mirror="127.0.0.1:1",block_timeout_ms=-5' 'block_timeout_ms=-5'
refused 'mode=sync,mirror="127.0.0.1:1",ack_timeout_ms=soon' 'ack_timeout_ms=soon'
refused 'mode=sync,mirror="127.0.0.1:1",heartbeat_ms=0' 'heartbeat_ms=0'
refused 'mode=sync,mirror="127.0.0.1:1",writeback_ms=-1' 'writeback_ms=-1'
refused 'mode=sync,mirror=nowhere' 'mirror=nowhere'
refused 'mode=sync' 'needs mirror'
refused 'mode=sync,mirror=127.0.0.1:1' 'quote the mirror address'
refused 'mode=sync,mirror=(host=127.0.0.1)' 'want (host=HOST,port=1..65535)'
refused 'mode=sync,mirror=(host=127.0.0.1,port=70000)' 'want (host=HOST,port=1..65535)'
refused 'mode=sync,mirror=(host=127.0.0.1,port=1,zone=a)' 'want (host=HOST,port=1..65535)'
refused 'mode=sync,mirror=(host=127.0.0.1,port=1),transport=udp' 'unknown transport'
refused "mode=sync,mirror=(host=127.0.0.1,port=1),keyfile=$T/no.key" "key file $T/no.key"
printf 'c2hvcnQ=\n' >"$T/short.key"
chmod 644 "$T/short.key"
refused "mode=sync,mirror=(host=127.0.0.1,port=1),keyfile=$T/short.key" 'group or others'
refused 'mode=sync,mirror=(host=127.0.0.1,port=1),tls=maybe' 'want on or off'
refused 'mode=sync,mirror=(host=127.0.0.1,port=1),tls=on' 'tls=on needs tls_cert, tls_key and tls_ca'
refused "mode=sync,mirror=(host=127.0.0.1,port=1),tls_ca=$T/ca.pem" 'need tls=on'
refused "mode=sync,mirror=(host=127.0.0.1,port=1),tls=on,tls_cert=$T/no.pem,tls_key=$T/short.key,tls_ca=$T/no.pem" 'group or others'
[ -z "$(ls -A "$T/db")" ] || fail "a refused open left files: $(ls "$T/db")"
rm -f "$T/short.key"

# and a good one opens (unreplicated: no mirror needed)
timeout 60 "$W" open "$T/db" \
	"create,extensions=[$MOJIM_ENGINE=(early_load=true,config={mode=unreplicated})]" \
	2>"$T/good.log" || fail "a good config was refused: $(cat "$T/good.log")"
[ -e "$T/db/WiredTiger" ] || fail "the good open created no database"
echo "bad_config: passed"
