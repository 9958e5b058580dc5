#!/usr/bin/env bash
# Reproduces the bundled online model (handwrite/models/online-default.safetensors).
# Needs IAM-OnDB (lineStrokes-*.tar.gz, ascii-*.tar.gz, splits/) at $IAM_ONDB.
# Trained on 2 CPU cores in about 2 hours; resumable with --resume runs/online/checkpoint.pt.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
OUT=${OUT:-runs/online/best.safetensors}
exec python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  --rnn lstm --hidden 192 --layers 3 --dropout 0.25 --step 0.2 --batch-size 24 --lr 2e-3 \
  --synthetic-fraction 0.1 --epochs 60 --max-minutes "${MAX_MINUTES:-110}" --eval-every 500 --valid-lines 400 \
  --seed 1 --no-progress "$@"
