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
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from handwrite.errors import HandwriteError
from handwrite.modelfile import ModelFile, average_models, load_model_file, save_model_file
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
    args = parser.parse_args()
    if len(args.models) < 2 and not args.models[0].endswith(".pt"):
        parser.error("give at least two models to average, or one training checkpoint (.pt)")
    try:
        soup = average_models([load(path) for path in args.models])
        soup.info["averaged_from"] = list(args.models)
        save_model_file(soup, args.output)
    except (HandwriteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    what = f"the mean of {len(args.models)} models" if len(args.models) > 1 else "the checkpoint's moving average"
    print(f"{args.output}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
