# A randomized multi-thread gmsync workload (writes, creates, resizes,
# renames, removes) in every mode; afterwards the mirror's replica
# directory must equal the primary's byte for byte.
. "$(dirname "$0")/lib.sh"

# The fewest batches a run must have sent. In sync modes each writer waits
# for its own sync point, so a batch holds at most one per writer and one
# of the namespace thread: 3000 ops make 600 batches or more. In async
# nobody waits, and a slow shipper may carry every sync point in a few
# batches: one is all that is certain there (a CI run once sent 60).
min_batches() { # MODE
	case $1 in async) echo 1 ;; *) echo 100 ;; esac
}

run_mode() { # NAME MODE [mirror options...]
	local name=$1 mode=$2 min
	min=$(min_batches "$mode")
	shift 2
	local m=$T/m-$name p=$T/p-$name
	start_mirror "$m" 0 "$@"
	"$MOJIM_TOOLS/mj_workload" --dir "$p" --mirror "$MIRROR_ADDR" \
		--mode "$mode" --threads 4 --ops 3000 --connections 2 --seed 7 \
		>"$T/w-$name.out" 2>"$T/w-$name.log" || fail "$name: workload failed"
	local seq
	seq=$(sed -n 's/^seq_sent //p' "$T/w-$name.out")
	[ "${seq:-0}" -ge "$min" ] || fail "$name: only ${seq:-0} batches were sent"
	wait_applied "$m" "$seq"
	local data=$m/data
	[ -n "${DATA_DIR:-}" ] && data=$DATA_DIR
	stop_mirror
	same_tree "$p" "$data"
	note "$name: $seq batches, replica identical"
}

for mode in sync syncflush async; do
	run_mode "$mode" "$mode"
done

# M-syncdisk: the log in pmem, the replica on an ordinary file system.
DISK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mojim-disk.XXXXXX")
DATA_DIR=$DISK_DIR/data
run_mode syncdisk sync --data-on-disk --data-dir "$DATA_DIR"
DATA_DIR=

# unreplicated: no mirror; the files must hold what was written.
"$MOJIM_TOOLS/mj_workload" --dir "$T/p-unrep" --mode unreplicated \
	--threads 2 --ops 500 >/dev/null || fail "unreplicated workload failed"
[ -s "$T/p-unrep/file-0" ] || fail "unreplicated: no data"
echo "replicate: all modes passed"
