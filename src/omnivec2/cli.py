"""`omnivec2` command line: `omnivec2 predict --model <folder|models:/name/version> --dataset <d> FILE...`."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from omnivec2.env import apply_quiet_environment

    apply_quiet_environment()
    parser = argparse.ArgumentParser(prog="omnivec2")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="predict every task of a dataset on files, single stream")
    predict.add_argument("--model", default="data/06_models/train_multitask",
                         help="checkpoint folder, or models:/<name>/<version|latest> from the MLflow registry")
    predict.add_argument("--dataset", "--modality", dest="dataset", required=True,
                         help="the dataset (stream) of the model the files belong to (--modality: older name)")
    predict.add_argument("--cache", default="data/03_primary/tokens",
                         help="token cache whose manifests hold the tokenizer statistics (when the model has none)")
    predict.add_argument("--tracking-uri", default=None, help="MLflow tracking URI for models:/ references")
    predict.add_argument("files", nargs="+")
    args = parser.parse_args(argv)

    from omnivec2.inference import PredictionError, Predictor

    if args.tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(args.tracking_uri)
    try:
        predictor = Predictor(args.model, args.cache)  # loaded once for every file
    except (FileNotFoundError, LookupError, ValueError) as error:
        print(f"omnivec2 predict: error: {error}", file=sys.stderr)
        return 2
    status = 0
    for path in args.files:
        try:
            print(json.dumps(predictor.predict(args.dataset, path)))
        except (PredictionError, FileNotFoundError, LookupError) as error:
            print(f"omnivec2 predict: error: {error}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
