#!/usr/bin/env bash
# Reproduces the bundled image model (handwrite/models/image-default.safetensors).
# Needs IAM-OnDB (lineStrokes-*.tar.gz, ascii-*.tar.gz, splits/) at $IAM_ONDB, and the
# OFL handwriting fonts from Debian for the synthetic lines:
#   apt-get install fonts-dkg-handwriting fonts-femkeklaver fonts-breip fonts-rufscript fonts-sjfonts
# Six stages on 2 CPU cores, each on a time budget with the learning rate decaying to its
# floor by the end of it:
#   1. from scratch, peak LR 2e-3, STAGE1_MINUTES (105);
#   2. a warm restart from stage 1's best model (fresh optimizer, peak LR 1e-3, another data
#      order), STAGE2_MINUTES (125);
#   3. another warm restart from stage 2's best (peak LR 5e-4, another data order),
#      STAGE3_MINUTES (135);
#   4. two more from stage 3's best (peak LR 5e-4, two other data orders), each keeping a
#      moving average of the weights (decay 0.999) as its model, STAGE4_MINUTES (100) and
#      STAGE4B_MINUTES (95), averaged (a "model soup");
#   5. two more from stage 4's average (seeds 6 and 7), with a real page's flaws in the
#      renders and synthetic lines in Hershey ink, STAGE5_MINUTES (100) each, then the mean
#      of their moving averages at their last step;
#   6. one more from that mean (peak LR 3e-4, seed 8) with Hershey-ink lines at 50% of the
#      real ones, STAGE6_MINUTES (100); the bundled model is the mean of stage 5's model and
#      this run's moving average at its last step.
# STAGE=1, 2, 3, 4, 5 or 6 runs one stage; extra arguments go to each run (for example
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

if [[ ${STAGE:-all} == all || ${STAGE} == 1 ]]; then
  train -o "$RUNS/stage1/best.safetensors" --work-dir "$RUNS/stage1" --lr 2e-3 --seed 1 \
    --max-minutes "${STAGE1_MINUTES:-105}" "$@"
fi
# a warm restart: stage $1 from the model file $2 (unless resuming), peak LR $3, seed $4, $5 minutes
restart() {
  local start=(--load "$2")
  [[ " ${*:6} " == *" --resume "* ]] && start=()
  train -o "$RUNS/stage$1/best.safetensors" --work-dir "$RUNS/stage$1" --lr "$3" --seed "$4" --max-minutes "$5" \
    "${start[@]}" "${@:6}"
}
if [[ ${STAGE:-all} == all || ${STAGE} == 2 ]]; then
  restart 2 "$RUNS/stage1/best.safetensors" 1e-3 2 "${STAGE2_MINUTES:-125}" "$@"
fi
if [[ ${STAGE:-all} == all || ${STAGE} == 3 ]]; then
  restart 3 "$RUNS/stage2/best.safetensors" 5e-4 3 "${STAGE3_MINUTES:-135}" "$@"
fi
if [[ ${STAGE:-all} == all || ${STAGE} == 4 ]]; then
  # two runs from stage 3's best that differ only in their data order (the bundled model's
  # ran side by side, --threads 1 each), then the mean of their weights
  restart 4 "$RUNS/stage3/best.safetensors" 5e-4 4 "${STAGE4_MINUTES:-100}" --ema-decay 0.999 "$@"
  restart 4b "$RUNS/stage3/best.safetensors" 5e-4 5 "${STAGE4B_MINUTES:-95}" --ema-decay 0.999 "$@"
  python scripts/average_models.py "$RUNS/stage4/average.safetensors" \
    "$RUNS/stage4/best.safetensors" "$RUNS/stage4b/best.safetensors"
  cp "$RUNS/stage4/average.safetensors" "$OUT"
fi
if [[ ${STAGE:-all} == all || ${STAGE} == 5 ]]; then
  # two runs from stage 4's average, side by side (--threads 1 each), then the mean of their moving
  # averages at their last step; renders with a real page's flaws (training's default realism) and
  # synthetic lines all in Hershey ink (the bundled model's machine had no handwriting fonts)
  stage5=(--ema-decay 0.999 --synthetic-fraction 0.2 --hershey-share 1.0)
  restart 5 "$RUNS/stage4/average.safetensors" 5e-4 6 "${STAGE5_MINUTES:-100}" "${stage5[@]}" "$@"
  restart 5b "$RUNS/stage4/average.safetensors" 5e-4 7 "${STAGE5_MINUTES:-100}" "${stage5[@]}" "$@"
  python scripts/average_models.py "$RUNS/stage5/average.safetensors" \
    "$RUNS/stage5/checkpoint.pt" "$RUNS/stage5b/checkpoint.pt"
  cp "$RUNS/stage5/average.safetensors" "$OUT"
fi
if [[ ${STAGE:-all} == all || ${STAGE} == 6 ]]; then
  # more Hershey ink (the demo images' script faces read worst), then the mean with stage 5's
  restart 6 "$RUNS/stage5/average.safetensors" 3e-4 8 "${STAGE6_MINUTES:-100}" \
    --ema-decay 0.999 --synthetic-fraction 0.5 --hershey-share 1.0 "$@"
  python scripts/average_models.py "$OUT" "$RUNS/stage5/average.safetensors" "$RUNS/stage6/checkpoint.pt"
fi
