"""Average the weights of models fine-tuned or restarted from one starting model
(a "model soup"), e.g. two final training stages that differ only in their seed:

    python scripts/average_models.py OUT.safetensors MODEL.safetensors MODEL.safetensors [...]

A training checkpoint (`checkpoint.pt` of a run with --ema-decay) stands for the
moving average it holds at its last step (the run's best model file beside it,
`best.safetensors`, gives the metadata), so the last averages of two runs can be
averaged without first saving them:

    python scripts/average_models.py OUT.safetensors runs/a/checkpoint.pt runs/b/checkpoint.pt

and one checkpoint alone saves its moving average at the last step as a model file
(the best one on the run's validation lines may be an earlier step):

    python scripts/average_models.py OUT.safetensors runs/a/checkpoint.pt

Score the result before using it (`handwrite eval -m OUT ... --record-metrics`):
the mean of unrelated models is noise, and this script cannot tell.

With `--ensemble` it writes one file holding the models' networks instead, read
together (their log-probabilities averaged frame by frame): they need not share an
architecture or a start, only a kind, alphabet and preprocessing, e.g. the bundled
LSTM and GRU. Calibrate it before use (its confidences are not its members'):

    python scripts/average_models.py --ensemble OUT.safetensors \
        handwrite/models/online-default.safetensors handwrite/models/online-gru.safetensors
    python scripts/calibration.py --kind ink --fit --lines 0 -m OUT.safetensors --write OUT.safetensors
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from handwrite.errors import HandwriteError
from handwrite.modelfile import ModelFile, average_models, ensemble_models, load_model_file, save_model_file
from handwrite.training.train import checkpoint_moving_average


def load(path: str) -> ModelFile:
    """A model file, or the moving average in a training checkpoint."""
    if not path.endswith(".pt"):
        return load_model_file(path)
    best = load_model_file(Path(path).with_name("best.safetensors"))
    state, step = checkpoint_moving_average(path)
    if {k: v.shape for k, v in state.items()} != {k: v.shape for k, v in best.state.items()}:
        raise HandwriteError(f"{path}: its moving average does not match {Path(path).with_name('best.safetensors')}")
    # the best file's epoch count is of its own step, not the last one averaged here: left out
    training = {key: value for key, value in best.info.get("training", {}).items() if key != "epochs"}
    info = {**best.info, "training": {**training, "steps": step}}
    return dataclasses.replace(best, state=state, info=info)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--ensemble", action="store_true", help="the models' networks read together, not averaged")
    args = parser.parse_args()
    if len(args.models) < 2 and (args.ensemble or not args.models[0].endswith(".pt")):
        parser.error("give at least two models, or one training checkpoint (.pt) to average")
    try:
        models = [load(path) for path in args.models]
        combined = ensemble_models(models) if args.ensemble else average_models(models)
        combined.info["ensemble_of" if args.ensemble else "averaged_from"] = list(args.models)
        save_model_file(combined, args.output)
    except (HandwriteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    what = f"the mean of {len(args.models)} models" if len(args.models) > 1 else "the checkpoint's moving average"
    what = f"an ensemble of {len(args.models)} networks" if args.ensemble else what
    print(f"{args.output}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
