# libmojim's threads never call into WiredTiger. A full copy to a new
# mirror runs on libmojim's supervisor thread while wiredtiger_open goes on
# with the connection's default session on the main thread; the copy's
# messages ("full copy to ...", "... done") once went through WiredTiger's
# msg_printf with a NULL session, i.e. that same default session, whose
# scratch buffers are not thread-safe (a crash in wiredtiger_open about one
# open in 100-300). Here one process opens and closes a home (with some
# data, so there is a copy to make) MOJIM_COPY_OPENS times (default 300),
# each time to a new, empty mirror: it must never crash (ASan build: never
# report), and the copy's messages must be on stderr as "mojim: ..."
# lines, never in WiredTiger's message stream (stdout, where the messages
# of the thread inside wiredtiger_open do go).
. "$(dirname "$0")/lib.sh"
: "${MOJIM_ENGINE_TOOLS:?MOJIM_ENGINE_TOOLS must point at tests/engine of the build}"
W=$MOJIM_ENGINE_TOOLS/wt_workload
OPENS=${MOJIM_COPY_OPENS:-300}

H=$T/home
mkdir "$H"
timeout 120 wt -h "$H" create -c key_format=S,value_format=S table:x ||
	fail "cannot create the home"
args=()
for i in $(seq 1 500); do
	args+=("$(printf 'key%04d' "$i")" "value $i")
done
timeout 120 wt -h "$H" write table:x "${args[@]}" || fail "cannot fill the home"

# One process for every open: WiredTiger's first open in a process costs
# about 0.3 s of set-up, later ones a fraction of that.
coproc OPENER { exec "$W" opens "$H" 2>"$T/opens.log"; }
opener=$OPENER_PID # bash unsets OPENER_PID once the coprocess ends
STARTED_PIDS+=("$opener")
t0=$(now_s)
for i in $(seq 1 "$OPENS"); do
	start_mirror "$T/m" 0 --log-size 1M --slot-size 256K
	seen=$(wc -l <"$T/opens.log")
	echo "$(ext_config sync "$MIRROR_ADDR" policy=block)" >&"${OPENER[1]}"
	# WiredTiger's message stream: messages from the thread inside
	# wiredtiger_open (the region's open) belong there, the copy's not
	reply=""
	while [ "$reply" != closed ]; do
		read -r -t 60 reply <&"${OPENER[0]}" ||
			fail "#$i: the opener died or hung"
		[[ $reply != *"full copy to"* ]] ||
			fail "#$i: the copy's message went to WiredTiger: $reply"
	done
	tail -n +"$((seen + 1))" "$T/opens.log" >"$T/new.log"
	grep -q "^mojim: full copy to $MIRROR_ADDR done" "$T/new.log" ||
		fail "#$i: no 'mojim: full copy ... done' line on stderr: $(head -3 "$T/new.log")"
	kill_mirror # cheaper than a clean stop (~0.2 s), and its copy is not used
	rm -rf "$T/m" "$T/m.log"
done
exec {OPENER[1]}>&-
wait "$opener" || fail "the opener failed at the end"
note "$OPENS opens, each with a full copy to a new mirror, in" \
	"$(ms_between "$t0" "$(now_s)") ms"
echo "copy_messages: passed"
