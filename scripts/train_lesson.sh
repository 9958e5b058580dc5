#!/usr/bin/env bash
# The RNN/LSTM/GRU comparison of issue 19 (scripts/rnn_lesson.py reads its runs):
# three bidirectional networks with the bundled online model's front, size, data,
# features and schedule, one thread each, all three at once for the same
# wall-clock budget so they share the machine alike. Needs IAM-OnDB at $IAM_ONDB.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
RUNS=${RUNS:-runs/lesson}
for rnn in rnn lstm gru; do
  mkdir -p "$RUNS/$rnn"
  python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$RUNS/$rnn/best.safetensors" --work-dir "$RUNS/$rnn" \
    --rnn "$rnn" --hidden 192 --layers 3 --dropout 0.25 --step 0.2 --batch-size 24 --lr 2e-3 \
    --synthetic-fraction 0.1 --epochs 60 --max-minutes "${MAX_MINUTES:-45}" --eval-every 200 --valid-lines 400 \
    --seed 1 --threads 1 --no-progress "$@" > "$RUNS/$rnn.log" 2>&1 &
done
wait
