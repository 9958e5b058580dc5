#!/usr/bin/env bash
# A bidirectional GRU online model to ship beside the LSTM one (issue 19): the bundled
# recipe (conv front, 3 x 192 each way, dropout 0.25, batches of 24, lr 2e-3 with
# warm-up and cosine decay over MAX_MINUTES of training), trained from scratch with
# the bundled LSTM model as teacher (half the loss matches its per-frame output), a
# moving average of the weights (0.999) as its model, one CPU thread. A GRU step
# costs about 1.5x an LSTM step here, so the budget runs over several sessions:
# rerun with --resume runs/gru/checkpoint.pt to go on (the schedule counts the
# minutes already trained). Needs IAM-OnDB at $IAM_ONDB.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
OUT=${OUT:-runs/gru/best.safetensors}
exec python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  --teacher online-default --distill-weight 0.5 \
  --rnn gru --hidden 192 --layers 3 --dropout 0.25 --step 0.2 --batch-size 24 --lr 2e-3 --ema-decay 0.999 \
  --synthetic-fraction 0.1 --epochs 60 --max-minutes "${MAX_MINUTES:-300}" --eval-every 500 --valid-lines 400 \
  --threads 1 --seed 1 --no-progress "$@"
