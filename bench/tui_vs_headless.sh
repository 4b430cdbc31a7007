#!/usr/bin/env bash
# Training throughput with the TUI open vs headless, same experiment, same machine.
# Runs the experiment headless for SECS seconds, then in the TUI (inside tmux, 160x48) for SECS
# seconds, and prints the median tokens/s of each run's metrics.jsonl and their ratio.
# Usage: bench/tui_vs_headless.sh [EXPERIMENT] [SECS]   (from the repo root, after cargo build --release)
set -euo pipefail
exp=${1:-experiments/shakespeare.toml}
secs=${2:-60}
bin=$PWD/target/release/rnn-lab
out=$(mktemp -d)
median() { python3 -c 'import json,sys,statistics; v=[json.loads(l)["tokens_per_s"] for l in open(sys.argv[1]) if l.strip()][2:]; print(statistics.median(v))' "$1"; }
timeout -s INT "$secs" "$bin" train "$exp" --out "$out/headless" --steps 1000000 >/dev/null 2>&1 || true
tmux new-session -d -s rnnlab-tui-bench -x 160 -y 48 "cd $PWD && $bin $exp"
sleep 2
tmux send-keys -t rnnlab-tui-bench space
sleep "$secs"
tmux send-keys -t rnnlab-tui-bench q
sleep 1
tmux send-keys -t rnnlab-tui-bench y
sleep 3
tmux kill-session -t rnnlab-tui-bench 2>/dev/null || true
h=$(median "$(ls -d "$out"/headless/*/ | head -1)metrics.jsonl")
tui_dir=$(ls -td runs/*/ | head -1)
t=$(median "${tui_dir}metrics.jsonl")
python3 -c "print(f'headless {float($h):,.0f} tokens/s   TUI {float($t):,.0f} tokens/s   ratio {float($t)/float($h):.3f}')"
echo "(TUI run directory: $tui_dir)"
