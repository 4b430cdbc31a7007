#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader of outside data (issue 14, part 3) with cargo-afl
# (AFL++), on the stable toolchain. For each target of targets.rs: afl-fuzz from the kept corpus
# (corpus/TARGET/) until at least EXECS executions (default 100000), then a summary line:
# executions, paths found, crashes (panics, aborts, allocations over the memory limit) and hangs.
# Exit status 1 when any target crashed; the crashing inputs are in out/TARGET/default/crashes/
# (replay one: FUZZ_TARGET=TARGET target/release/fuzz < FILE).
#
# Setup, once: apt-get install afl++ (or let cargo-afl build its own); cargo install cargo-afl;
# cargo afl config --build.
#
# Usage: fuzz/run.sh [--execs N] [--update-corpus] [TARGET...]
#        fuzz/run.sh --summary [TARGET...]
#   --update-corpus  minimise the queue (afl-cmin) and keep its inputs of at most 4 KiB, at most
#                    40 per target, in corpus/TARGET/ (the interesting inputs, committed).
#   --summary        only print the table of the last run of each target (out/TARGET/).
# Several invocations with different targets may run at once (each holds the shared CPU lock
# through cargo, like a build, while it fuzzes).
set -euo pipefail
cd "$(dirname "$0")"

EXECS=100000
UPDATE=0
SUMMARY=0
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --execs) EXECS="$2"; shift 2 ;;
        --update-corpus) UPDATE=1; shift ;;
        --summary) SUMMARY=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(config checkpoint vocab corpus columns labelled vectors w2v_model w2v_eval)
fi

BIN=target/release/fuzz
stats_line() {
    local t="$1" stats="out/$1/default/fuzzer_stats"
    get() { awk -F: -v k="$1" '$1 ~ "^"k" *$" {gsub(/ /, "", $2); print $2}' "$stats"; }
    execs=$(get execs_done)
    crashes=$(get saved_crashes)
    [ -n "$crashes" ] || crashes=$(get unique_crashes)
    hangs=$(get saved_hangs)
    [ -n "$hangs" ] || hangs=$(get unique_hangs)
    paths=$(get corpus_count)
    [ -n "$paths" ] || paths=$(get paths_total)
    secs=$(( $(get last_update) - $(get start_time) ))
    printf '%-11s %10s %7s %8s %6s %8s\n' "$t" "$execs" "$paths" "$crashes" "$hangs" "$secs"
}
if [ "$SUMMARY" = 1 ]; then
    printf '%-11s %10s %7s %8s %6s %8s\n' target execs paths crashes hangs seconds
    for t in "${TARGETS[@]}"; do
        [ -f "out/$t/default/fuzzer_stats" ] && stats_line "$t" || echo "$t: not run"
    done
    exit 0
fi
cargo afl build --release 2>&1 | tail -1

# A loaded shared machine: no CPU binding, no frequency check, no UI; the corpus target writes
# its files to a RAM disk when there is one.
export AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
[ -d /dev/shm ] && export TMPDIR=/dev/shm

printf '%-11s %10s %7s %8s %6s %8s\n' target execs paths crashes hangs seconds
failed=0
for t in "${TARGETS[@]}"; do
    out="out/$t"
    mkdir -p out
    rm -rf "$out"
    # -E: stop after about EXECS executions; -m: 4 GiB address space (a reader that believes a
    # header claiming 100 GB and allocates for it crashes); -t: 5 s per input (loaded machine).
    FUZZ_TARGET="$t" cargo afl fuzz -i "corpus/$t" -o "$out" -E "$EXECS" -m 4096 -t 5000 -- "$BIN" \
        > "out-$t.log" 2>&1 || { echo "$t: afl-fuzz failed, see fuzz/out-$t.log"; tail -5 "out-$t.log"; failed=1; continue; }
    stats_line "$t"
    [ "${crashes:-0}" = 0 ] || failed=1
    rm -f "out-$t.log"
    if [ "$UPDATE" = 1 ]; then
        min="out/$t-min"
        rm -rf "$min"
        FUZZ_TARGET="$t" cargo afl cmin -i "$out/default/queue" -o "$min" -m 4096 -t 5000 -- "$BIN" > /dev/null 2>&1 || true
        if [ -d "$min" ]; then
            # Keep the seeds (named by hand) and the smallest new inputs, renamed by content hash.
            find "corpus/$t" -name 'id-*' -delete
            find "$min" -type f -size -4097c -printf '%s %p\n' | sort -n | head -40 | while read -r _ f; do
                cp "$f" "corpus/$t/id-$(sha1sum "$f" | cut -c1-12)"
            done
        fi
    fi
done
exit $failed
