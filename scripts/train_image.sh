#!/usr/bin/env bash
# Reproduces the bundled image model (handwrite/models/image-default.safetensors).
# Needs IAM-OnDB (lineStrokes-*.tar.gz, ascii-*.tar.gz, splits/) at $IAM_ONDB, and the
# OFL handwriting fonts from Debian for the synthetic lines:
#   apt-get install fonts-dkg-handwriting fonts-femkeklaver fonts-breip fonts-rufscript fonts-sjfonts
# Two stages on 2 CPU cores, each on a time budget with the learning rate decaying to its
# floor by the end of it:
#   1. from scratch, peak LR 2e-3, STAGE1_MINUTES (105);
#   2. a warm restart from stage 1's best model (fresh optimizer, peak LR 1e-3, another data
#      order), STAGE2_MINUTES (125).
# STAGE=1 or STAGE=2 runs one stage; extra arguments go to each run (for example
# --resume runs/image/stage2/checkpoint.pt with STAGE=2 continues an interrupted stage 2).
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
RUNS=${RUNS:-runs/image}
OUT=${OUT:-$RUNS/best.safetensors}

train() {
  python -m handwrite train --kind image --iam-ondb "$IAM_ONDB" \
    --rnn lstm --hidden 192 --layers 3 --dropout 0.25 --image-height 48 --batch-size 24 \
    --synthetic-fraction 0.15 --epochs 100 --eval-every 500 --valid-lines 400 --no-progress "$@"
}

if [[ ${STAGE:-all} != 2 ]]; then
  train -o "$RUNS/stage1/best.safetensors" --work-dir "$RUNS/stage1" --lr 2e-3 --seed 1 \
    --max-minutes "${STAGE1_MINUTES:-105}" "$@"
fi
if [[ ${STAGE:-all} != 1 ]]; then
  start=(--load "$RUNS/stage1/best.safetensors")
  [[ " $* " == *" --resume "* ]] && start=()
  train -o "$OUT" --work-dir "$RUNS/stage2" --lr 1e-3 --seed 2 --max-minutes "${STAGE2_MINUTES:-125}" \
    "${start[@]}" "$@"
fi
