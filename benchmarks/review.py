"""Redo the review analysis of ``siamtrack bench DIR --review`` from its ``review.json``, without tracking
again: ROC AUC for "IoU >= 0.5" of the raw score and of the confidence, and the precision and recall
of "uncertain".

    python benchmarks/review.py siamtrack-bench/review.json
    python benchmarks/review.py siamtrack-bench/review.json --fit   # also print a model fitted on all
"""

from __future__ import annotations

import argparse
import json

from napari_siamtrack.bench.review import evaluate, review_table


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("review_json")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="print the model fitted on every sequence, in the form of annotation.review.MODEL",
    )
    args = parser.parse_args()
    with open(args.review_json) as file:
        records = json.load(file)["records"]
    result = evaluate(records)
    print(review_table(result))
    if args.fit:
        model = result["model fitted on all"]
        weights = ", ".join(f"{w:.4g}" for w in model["weights"])
        print(f'MODEL = {{"weights": ({weights}), "intercept": {model["intercept"]:.4g}}}')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
