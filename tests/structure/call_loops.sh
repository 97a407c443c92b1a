#!/usr/bin/env bash
# call_loops.sh ARCHIVE...: no loop of calls between the files of a library.
#
# For each static library, an edge A -> B for every function or object
# that A.c uses and B.c defines (from the symbol tables, so macros and
# comments do not count, and what the compiler inlined away does not
# either). The files must then have an order in which each calls only
# files below it (tsort finds one, or the loop). A loop means two files
# own one idea between them: the batch queue once lived in four.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 ARCHIVE..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for a in "$@"; do
	lib=$(basename "$a")
	# "file symbol" for every global a member defines, and for every one
	# it uses.
	nm -A --defined-only --extern-only "$a" |
		awk '{n=split($1,p,":"); o=p[n-1]; sub(/\.c\.o$/,"",o); print o, $NF}' \
		> "$tmp/defs"
	nm -A --undefined-only "$a" |
		awk '{n=split($1,p,":"); o=p[n-1]; sub(/\.c\.o$/,"",o); print o, $NF}' \
		> "$tmp/uses"
	nobj=$(cut -d' ' -f1 "$tmp/defs" | sort -u | wc -l)
	if [ "$nobj" -lt 2 ]; then
		echo "FAIL $lib: $nobj member(s) defining symbols; not a library?" >&2
		status=1
		continue
	fi
	awk 'NR == FNR { def[$2] = $1; next }
	     ($2 in def) && def[$2] != $1 { print $1, def[$2], $2 }' \
		"$tmp/defs" "$tmp/uses" | sort -u > "$tmp/calls"
	cut -d' ' -f1,2 "$tmp/calls" | sort -u > "$tmp/edges"
	# Files that call nobody still take part (tsort needs every node).
	cut -d' ' -f1 "$tmp/defs" | sort -u | awk '{ print $1, $1 }' >> "$tmp/edges"
	if tsort "$tmp/edges" > "$tmp/order" 2> "$tmp/loop"; then
		echo "ok $lib: $nobj files, $(cut -d' ' -f1,2 "$tmp/calls" | sort -u | wc -l) edges, lowest first: $(tac "$tmp/order" | tr '\n' ' ')"
		continue
	fi
	status=1
	echo "FAIL $lib: a loop of calls between its files:" >&2
	grep -v 'input contains a loop' "$tmp/loop" | sed 's/^tsort: //' |
		sort -u > "$tmp/members"
	# The calls between the files of the loop, to say what to move.
	awk 'NR == FNR { m[$1] = 1; next } ($1 in m) && ($2 in m) {
	         printf "  %s.c -> %s.c (%s)\n", $1, $2, $3 }' \
		"$tmp/members" "$tmp/calls" >&2
done
exit $status
