"""Average the weights of models fine-tuned or restarted from one starting model
(a "model soup"), e.g. two final training stages that differ only in their seed:

    python scripts/average_models.py OUT.safetensors MODEL.safetensors MODEL.safetensors [...]

Score the result before using it (`handwrite eval -m OUT ... --record-metrics`):
the mean of unrelated models is noise, and this script cannot tell.
"""

from __future__ import annotations

import argparse
import sys

from handwrite.errors import HandwriteError
from handwrite.modelfile import average_models, load_model_file, save_model_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("give at least two models to average")
    try:
        soup = average_models([load_model_file(path) for path in args.models])
        soup.info["averaged_from"] = list(args.models)
        save_model_file(soup, args.output)
    except HandwriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: the mean of {len(args.models)} models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
