#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each in turn.
#
#   Fuzz/run.sh [--seconds N] [--runs N] [target ...]
#
# Each target runs for N seconds (default 60) or N executions, whichever ends first, from
# its seeds in Fuzz/Corpus/<target>/ plus what earlier runs found in fuzz-out/<target>/
# (ignored by git; FUZZ_OUT=dir puts it elsewhere). Crash, leak and timeout inputs are written to fuzz-out/<target>-*;
# the log of each run is fuzz-out/<target>.log. Prints one line per target and exits
# non-zero if any target failed. `make fuzz SECONDS=N` (or RUNS=N) at the root calls this.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SWIFT="${SWIFT:-swift}"
SECS=
RUNS=-1
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        fuzz-*) TARGETS+=("$1"); shift ;;
        *) echo "usage: $0 [--seconds N] [--runs N] [fuzz-decode|fuzz-view|fuzz-frames|fuzz-frames-nio|fuzz-ejson ...]" >&2; exit 2 ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz-decode fuzz-view fuzz-frames fuzz-frames-nio fuzz-ejson)
# Default 60 s; with only a run count, the time is still bounded (at 6 hours).
if [ -z "$SECS" ]; then if [ "$RUNS" = -1 ]; then SECS=60; else SECS=21600; fi; fi

cd "$ROOT/Fuzz"
for target in "${TARGETS[@]}"; do
    echo "building $target (release, -sanitize=fuzzer,address)"
    "$SWIFT" build -c release --scratch-path .build-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "$target" 2>&1 \
        | grep -v "ld.gold: warning: Cannot export local symbol" || true
    [ -x ".build-fuzz/release/$target" ] || { echo "build of $target failed" >&2; exit 1; }
done
BIN="$ROOT/Fuzz/.build-fuzz/release"

OUT="${FUZZ_OUT:-$ROOT/fuzz-out}"
mkdir -p "$OUT"
status=0
summary=()
for target in "${TARGETS[@]}"; do
    mkdir -p "$OUT/$target"
    extra=()
    # Framing needs no long inputs: short ones run faster.
    seeds="$ROOT/Fuzz/Corpus/$target"
    case "$target" in
        fuzz-frames|fuzz-frames-nio) extra+=(-max_len=1024); seeds="$ROOT/Fuzz/Corpus/fuzz-frames" ;;
        *) extra+=(-max_len=4096) ;;
    esac
    if [ "$target" = fuzz-ejson ]; then extra+=(-dict="$ROOT/Fuzz/ejson.dict"); fi
    echo "running $target for at most ${SECS}s$([ "$RUNS" = -1 ] || echo " or $RUNS executions")"
    rc=0
    # The Swift runtime's own crash handler is off so that libFuzzer reports the crash.
    SWIFT_BACKTRACE=enable=no timeout $((SECS + 120)) "$BIN/$target" \
        -max_total_time="$SECS" -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${extra[@]}" -artifact_prefix="$OUT/$target-" "$OUT/$target" "$seeds" \
        > "$OUT/$target.log" 2>&1 || rc=$?
    execs=$(grep -a 'stat::number_of_executed_units' "$OUT/$target.log" | awk '{print $2}' | tail -n 1)
    rate=$(grep -a 'stat::average_exec_per_sec' "$OUT/$target.log" | awk '{print $2}' | tail -n 1)
    cov=$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$OUT/$target.log" | tail -n 1)
    if [ "$rc" = 0 ]; then result=ok; else result="FAILED (exit $rc; see $OUT/$target.log)"; status=1; fi
    summary+=("$(printf '%-12s %12s executions %8s exec/s   %-22s %s' "$target" "${execs:-?}" "${rate:-?}" "${cov:-}" "$result")")
done
echo
printf '%s\n' "${summary[@]}"
exit $status
