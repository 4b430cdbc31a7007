#!/usr/bin/env bash
# Training throughput with the TUI open vs headless, same experiment, same machine.
# For each of REPS rounds, runs the experiment headless for SECS seconds, then in the TUI (inside
# tmux, 160x48) for SECS seconds; prints each run's median tokens/s (from its metrics.jsonl,
# first two lines skipped), the median of each side over the rounds, and their ratio.
# Usage: bench/tui_vs_headless.sh [EXPERIMENT] [SECS] [REPS]   (from the repo root, after
# cargo build --release; run it under /work/bin/cpu-exclusive on the project's machine)
set -euo pipefail
exp=${1:-experiments/shakespeare.toml}
secs=${2:-60}
reps=${3:-3}
bin=$PWD/target/release/rnn-lab
out=$(mktemp -d)
median() { python3 -c 'import json,sys,statistics; v=[json.loads(l)["tokens_per_s"] for l in open(sys.argv[1]) if l.strip()][2:]; print(statistics.median(v))' "$1"; }
hs=(); ts=()
for r in $(seq 1 "$reps"); do
  timeout -s INT "$secs" "$bin" train "$exp" --out "$out/headless$r" --steps 1000000 >/dev/null 2>&1 || true
  h=$(median "$(ls -d "$out"/headless$r/*/ | head -1)metrics.jsonl")
  tmux new-session -d -s rnnlab-tui-bench -x 160 -y 48 "cd $PWD && $bin $exp"
  sleep 2
  tmux send-keys -t rnnlab-tui-bench space
  sleep "$secs"
  tmux send-keys -t rnnlab-tui-bench q
  sleep 1
  tmux send-keys -t rnnlab-tui-bench y
  sleep 3
  tmux kill-session -t rnnlab-tui-bench 2>/dev/null || true
  tui_dir=$(ls -td runs/*/ | head -1)
  t=$(median "${tui_dir}metrics.jsonl")
  echo "round $r: headless $h tokens/s, TUI $t tokens/s (TUI run directory: $tui_dir)"
  hs+=("$h"); ts+=("$t")
done
python3 - "${hs[*]}" "${ts[*]}" <<'PY'
import statistics, sys
h = statistics.median(float(v) for v in sys.argv[1].split())
t = statistics.median(float(v) for v in sys.argv[2].split())
print(f"median of {len(sys.argv[1].split())} rounds: headless {h:,.0f} tokens/s   TUI {t:,.0f} tokens/s   ratio {t / h:.3f}")
PY
