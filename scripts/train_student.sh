#!/usr/bin/env bash
# A smaller online model (3 x 128 BiLSTM, about 2.2x fewer LSTM operations than the
# bundled 3 x 192) distilled from the bundled one, for faster reading (issue 18):
# CTC on IAM-OnDB trainset plus matching the bundled model's per-frame output.
# Resumable with --resume runs/student128/checkpoint.pt. Needs IAM-OnDB at $IAM_ONDB.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
OUT=${OUT:-runs/student128/best.safetensors}
exec python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  --teacher handwrite/models/online-default.safetensors --distill-weight 0.5 \
  --rnn lstm --hidden 128 --layers 3 --dropout 0.25 --step 0.2 --batch-size 24 --lr 2e-3 \
  --synthetic-fraction 0.1 --epochs 60 --max-minutes "${MAX_MINUTES:-110}" --eval-every 500 --valid-lines 400 \
  --seed 1 --no-progress "$@"
