#!/usr/bin/env bash
# The second stage of the bundled online model (2026-12-02): a warm restart of the
# first stage (scripts/train_online.sh) with training augmentation (marks written
# last, other pen rates with sensor noise, swapped overlapping strokes; on by
# default), twice the synthetic Hershey ink, lr 5e-4 decaying over 100 minutes, and
# a moving average of the weights. One CPU thread; resumable with --resume.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
START=${START:-runs/online/best.safetensors}
OUT=${OUT:-runs/online-stage2/best.safetensors}
case " $* " in
  *" --resume "*) FROM=() ;;  # the checkpoint holds the weights; --load and --resume exclude each other
  *) FROM=(--load "$START") ;;
esac
exec python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  "${FROM[@]}" --lr 5e-4 --ema-decay 0.999 --synthetic-fraction 0.2 \
  --epochs 60 --max-minutes "${MAX_MINUTES:-100}" --eval-every 250 --valid-lines 400 \
  --threads 1 --seed 7 --no-progress "$@"
