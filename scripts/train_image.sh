#!/usr/bin/env bash
# Reproduces the bundled image model (handwrite/models/image-default.safetensors).
# Needs IAM-OnDB (lineStrokes-*.tar.gz, ascii-*.tar.gz, splits/) at $IAM_ONDB, and the
# OFL handwriting fonts from Debian for the synthetic lines:
#   apt-get install fonts-dkg-handwriting fonts-femkeklaver fonts-breip fonts-rufscript fonts-sjfonts
# Trained on 2 CPU cores; resumable with --resume runs/image/checkpoint.pt.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
OUT=${OUT:-runs/image/best.safetensors}
exec python -m handwrite train --kind image --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  --rnn lstm --hidden 192 --layers 3 --dropout 0.25 --image-height 48 --batch-size 24 --lr 2e-3 \
  --synthetic-fraction 0.15 --epochs 60 --max-minutes "${MAX_MINUTES:-105}" --eval-every 500 --valid-lines 400 \
  --seed 1 --no-progress "$@"
