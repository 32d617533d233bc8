#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind: unlike wall-clock time these
# repeat to within about 1% on a loaded machine, so they show what a code change did.
#
#   Benchmarks/profile_codec.sh [N]      (default N = 500; run `make bench-codec` first,
#                                         which builds the two programs measured here)
#
# Each figure is (I(3N) - I(N)) / 2N for one task, so start-up work (loading and parsing
# the documents, lazy symbol binding) cancels out. The callgrind output of the 3N run is
# kept in Benchmarks/.build-bench/callgrind/ (as swift_decode_flat.1500.out and so on) for
# `callgrind_annotate`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
n=${1:-500}
[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 100000 ]] || { echo "N must be 1...100000" >&2; exit 2; }
swift_exe=$(cd "$here" && swift build -c release --scratch-path .build-bench --show-bin-path)/codec-compare
c_exe=$here/.build-bench/libbson_codec
python=$root/.venv-pymongo/bin/python
for program in "$swift_exe" "$c_exe" "$python"; do
    [[ -x $program ]] || { echo "missing $program: run make bench-codec first" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

out=$here/.build-bench/callgrind
mkdir -p "$out"
bson_dir=$(mktemp -d)
trap 'rm -rf "$bson_dir"' EXIT
"$swift_exe" emit "$bson_dir"

# instructions NAME COMMAND-WITH-@OPS@: runs the command under callgrind with N and 3N.
instructions() {
    local name=$1; shift
    local file=${name//[ \/]/_}
    local counts=()
    for ops in "$n" $((3 * n)); do
        local args=("${@//@OPS@/$ops}")
        local total
        total=$(valgrind --tool=callgrind --callgrind-out-file="$out/$file.$ops.out" "${args[@]}" 2>&1 >/dev/null \
            | awk '/Collected/ {print $4}') || true
        [[ -n $total ]] || { echo "callgrind failed for $name: ${args[*]}" >&2; exit 1; }
        counts+=("$total")
    done
    printf '| %s | %s |\n' "$name" "$(( (counts[1] - counts[0]) / (2 * n) ))"
}

echo "| task | instructions / operation |"
echo "|---|---:|"
for doc in flat deep full; do
    for task in decode encode validate; do
        instructions "swift $task/$doc" "$swift_exe" profile "$task/$doc" --ops @OPS@
    done
    for task in decode encode; do
        instructions "pymongo $task/$doc" "$python" "$here/python/pymongo_codec.py" run "$root/Data/driver-bench" \
            --ops @OPS@ --warmup 0 --doc "$doc" --task "$task"
    done
    for task in walk walk-utf8 rebuild; do
        instructions "C $task/$doc" "$c_exe" "$bson_dir" @OPS@ 0 "$doc" "$task"
    done
    for position in first middle last; do
        instructions "swift lookup-view/$doc/$position" "$swift_exe" profile "lookup-view/$doc/$position" --ops @OPS@
    done
    instructions "swift lookup-decode/$doc/last" "$swift_exe" profile "lookup-decode/$doc/last" --ops @OPS@
done
