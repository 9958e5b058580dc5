#!/usr/bin/env bash
# The bidirectional GRU online model shipped beside the LSTM one (issue 19,
# handwrite/models/online-gru.safetensors): the bundled recipe (conv front, 3 x 192
# each way, dropout 0.25, batches of 24, lr 2e-3 with warm-up and cosine decay over
# MAX_MINUTES of training), trained with the bundled LSTM model as teacher (half the
# loss matches its per-frame output), a moving average of the weights (0.999) as its
# model, one CPU thread. A GRU step costs about 1.5x an LSTM step here, and a session
# ends after three hours, so training goes on in stages: START=online-gru
# OUT=runs/gru3/best.safetensors warm-starts from the shipped GRU (lr 5e-4 unless LR
# says) for another MAX_MINUTES (give each stage its own OUT: a run writes its work
# folder); --resume <work folder>/checkpoint.pt continues an interrupted run (with the
# same START, OUT and LR). handwrite/models/online-gru.md gives the shipped stages.
# Needs IAM-OnDB at $IAM_ONDB.
set -euo pipefail
IAM_ONDB=${IAM_ONDB:-../shared/datasets/iam-ondb}
OUT=${OUT:-runs/gru/best.safetensors}
if [[ -n "${START:-}" ]]; then
  FROM=(--lr "${LR:-5e-4}")  # a resumed stage keeps its rate; its checkpoint holds the weights
  [[ " $* " == *" --resume "* ]] || FROM+=(--load "$START")
else
  FROM=(--rnn gru --hidden 192 --layers 3 --dropout 0.25 --lr "${LR:-2e-3}")
fi
exec python -m handwrite train --iam-ondb "$IAM_ONDB" -o "$OUT" --work-dir "$(dirname "$OUT")" \
  "${FROM[@]}" --teacher online-default --distill-weight 0.5 \
  --step 0.2 --batch-size 24 --ema-decay 0.999 \
  --synthetic-fraction 0.1 --epochs 60 --max-minutes "${MAX_MINUTES:-122}" --eval-every 500 --valid-lines 400 \
  --threads 1 --seed "${SEED:-1}" --no-progress "$@"
