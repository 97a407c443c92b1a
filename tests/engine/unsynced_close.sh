# Writes WiredTiger never syncs reach the mirror when the file closes, as
# a file system's writes reach the medium at the latest at close. With the
# background writeback off (writeback_ms=0), only the close can ship them:
# 1. Debian's wt loads 20,000 rows with checkpoint_sync=false (the
#    checkpoint writes WiredTiger.wt and the table, never fsyncs them);
# 2. wt salvage, which writes its result without an fsync.
# After each, a copy of the mirror's replica verifies in stock wt (no
# extension) and dumps the same as the primary through the extension.
. "$(dirname "$0")/lib.sh"

start_mirror "$T/m" 0
P=$T/p
mkdir "$P"
EXT=$(ext_config sync "$MIRROR_ADDR" writeback_ms=0)
wtx() { wt_run -h "$P" -C "$EXT" "$@"; }

# replica_matches NAME: the mirror applied everything; a copy of its
# replica (stock wt writes into a home it opens) verifies and dumps the
# same as the primary.
replica_matches() {
	local seq
	seq=$(mirror_status "$T/m" seq_durable)
	wait_applied "$T/m" "$seq"
	rm -rf "$T/copy"
	cp -a "$T/m/data" "$T/copy"
	timeout 120 wt -h "$T/copy" verify table:x 2>"$T/$1-verify.log" ||
		fail "$1: stock wt verify of the mirror's copy: $(head -3 "$T/$1-verify.log")"
	timeout 120 wt -h "$T/copy" dump table:x >"$T/$1.replica" 2>"$T/$1-rd.log" ||
		fail "$1: stock wt cannot dump the mirror's copy"
	wtx dump table:x >"$T/$1.primary" 2>"$T/$1-pd.log" ||
		fail "$1: the primary does not dump"
	[ "$(wc -l <"$T/$1.primary")" -eq 40006 ] ||
		fail "$1: the primary dumps $(wc -l <"$T/$1.primary") lines, want 40006"
	cmp -s "$T/$1.primary" "$T/$1.replica" ||
		fail "$1: the mirror's copy dumps $(wc -l <"$T/$1.replica") lines, differently"
}

{
	printf 'WiredTiger Dump (WiredTiger Version 3.2.1)\nFormat=print\nHeader\n'
	printf 'table:x\nkey_format=S,value_format=S\nData\n'
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "key%06d\nvalue %d\n", i, i }'
} >"$T/load.dump"
wt_run -h "$P" -C "checkpoint_sync=false,$EXT" load -f "$T/load.dump" \
	2>"$T/load.log" || fail "wt load failed: $(cat "$T/load.log")"
replica_matches load

wtx salvage table:x 2>"$T/salvage.log" || fail "wt salvage failed: $(cat "$T/salvage.log")"
replica_matches salvage
stop_mirror
echo "unsynced_close: passed"
