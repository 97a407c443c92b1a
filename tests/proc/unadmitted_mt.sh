# Invariants 5 and 9: what a peer sends before it is admitted costs the
# mirror nothing that stays. HELLOs of another cluster create no ring file
# and keep no descriptor; a repeated COPY_BEGIN leaks nothing; idle and
# trickling connections (no HELLO) are cut after 2 s in all, at most 32 are
# kept, and a real primary gets in at once whatever they do.
. "$(dirname "$0")/lib.sh"

FUZZ=$MOJIM_TOOLS/mj_fuzz
M=$T/m
fds() { ls "/proc/$MIRROR_PID/fd" | wc -l; }
log_bytes() { du -sb "$M/log" | cut -f1; }
field() { sed -nE "s/.* $2=([0-9]+).*/\1/p" <<<"$1"; }

start_mirror "$M" 0 --log-size 1M --slot-size 256K
"$FUZZ" --addr "$MIRROR_ADDR" --probe --seconds 20 >/dev/null || fail "probe not acked"
sleep 0.3 # the probe's connection is gone
fd0=$(fds) log0=$(log_bytes)

line=$("$FUZZ" --addr "$MIRROR_ADDR" --flood foreign-hello --count 64 --seconds 60)
note "$line"
[ "$(field "$line" refused)" = 64 ] || fail "not every foreign HELLO was refused"
sleep 0.3
fd1=$(fds) log1=$(log_bytes)
note "foreign HELLOs: fds $fd0 -> $fd1, log/ $log0 -> $log1 bytes"
[ "$log1" = "$log0" ] || fail "foreign HELLOs grew log/ from $log0 to $log1 bytes"
[ "$fd1" -le "$fd0" ] || fail "foreign HELLOs left descriptors: $fd0 -> $fd1"

line=$("$FUZZ" --addr "$MIRROR_ADDR" --flood copy-begin --count 1000 --seconds 60)
note "$line"
[ "$(field "$line" acked)" = 1000 ] || fail "COPY_BEGINs not all acked"
sleep 0.3
fd2=$(fds)
note "1000 COPY_BEGINs: fds $fd0 -> $fd2"
[ "$fd2" -le "$((fd0 + 1))" ] || fail "repeated COPY_BEGINs leaked descriptors: $fd0 -> $fd2"
stop_mirror

# Idle and trickling connections, then a primary.
start_mirror "$T/m2" 0
port=$MIRROR_PORT
(
	exec 2>/dev/null
	for k in 1 2 3 4; do exec {fd}<>"/dev/tcp/127.0.0.1/$port" || exit 0; t[k]=$fd; done
	for _ in $(seq 1 20); do
		for k in 1 2 3 4; do printf 'M' >&"${t[k]}" || true; done
		sleep 1
	done
) &
STARTED_PIDS+=("$!")
sleep 0.2
idle=()
for _ in $(seq 1 200); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || fail "cannot open idle connection"
	idle+=("$fd")
done
t0=$(now_s)
"$MOJIM_TOOLS/mj_workload" --dir "$T/p" --mirror "$MIRROR_ADDR" --mode sync \
	--policy block --block-timeout-ms 2000 --threads 2 --ops 200 \
	>"$T/w.out" 2>"$T/w.log" || fail "the primary did not get in: $(tail -3 "$T/w.log")"
t1=$(now_s)
grep -q "degraded 0" "$T/w.out" || fail "the primary degraded"
note "primary in and 200 sync points done in $(ms_between "$t0" "$t1") ms beside 200 idle + 4 trickling connections"
for fd in "${idle[@]}"; do exec {fd}>&-; done
evicted=$(grep -c "too many connections without a HELLO\|no HELLO within" "$T/m2.log" || true)
note "unadmitted connections cut: $evicted"
[ "$evicted" -ge 168 ] || fail "only $evicted unadmitted connections were cut"
counted=$(mirror_status "$T/m2" evicted)
[ "$counted" -ge "$evicted" ] || fail "status counts $counted evictions, the log $evicted"
wait_applied "$T/m2" "$(sed -n 's/^seq_sent //p' "$T/w.out")"
same_tree "$T/p" "$T/m2/data"
echo "unadmitted: passed"
