"""`omnivec2` command line: `omnivec2 predict --model <folder|models:/name@champion> --dataset <d> FILE...`
(the model loaded once; a JSON line per file with each task's class name),
`omnivec2 seeds --seeds 1 2` (the main table over training seeds; see omnivec2.evaluation.seeds),
`omnivec2 screen --set <parameter>=<value>` (a change's before/after per task over training seeds; see
omnivec2.ablations.screen), `omnivec2 retrieval-depth` (each retrieval protocol's Rank-1 read at
every depth of the network; see omnivec2.evaluation.retrieval_depth) and `omnivec2 probe-depth` (each
classification or regression task's linear probe at every depth; see omnivec2.evaluation.probe_depth).

Without `--model` / `--cache`, the final checkpoint folder and the token cache are the ones the Kedro
catalog of the project in the working directory declares (`train_multitask_model`, `token_cache`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FINAL_MODEL, TOKEN_CACHE = "train_multitask_model", "token_cache"
SCREENS = "data/09_screens"  # `omnivec2 screen`'s tables, and its finished runs under runs/ (reused)


# The project's config loader settings (pipelines/settings.py reads them from here). Soft merge: an
# environment (tiny, gpu, local) overrides single keys, not whole parameter blocks.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft"},
}


def project_config(project: Path, env: str | None = None):
    """Kedro's config loader for the project at `project`, as `kedro run` builds it: environment `env`
    (default `KEDRO_ENV`, else local) merged softly over base."""
    import os

    from kedro.config import OmegaConfigLoader

    return OmegaConfigLoader(str(project / "conf"), **CONFIG_LOADER_ARGS, env=env or os.environ.get("KEDRO_ENV"))


def catalog_path(name: str, project: Path | None = None, env: str | None = None) -> str | None:
    """The `path` (or `filepath`) of catalog entry `name` (a dataset factory resolved) in the Kedro
    project at `project` (default: the working directory); None outside a Kedro project."""
    from kedro.io.catalog_config_resolver import CatalogConfigResolver

    project = Path.cwd() if project is None else project
    if not (project / "conf" / "base").is_dir():
        return None
    resolver = CatalogConfigResolver(dict(project_config(project, env)["catalog"]),
                                     default_runtime_patterns={"{default}": {"type": "kedro.io.MemoryDataset"}})
    entry = resolver.resolve_pattern(name)
    path = entry.get("path") or entry.get("filepath")
    return None if path is None else str(project.resolve() / path)


def run_seeds(seeds: list[int], env: str | None, project: Path | None = None) -> int:
    """`kedro run --from-nodes pretrain_unimodal` per extra seed in its workspace (the `seeds`
    parameters say where, and what it shares with the main run), then the table beside the main
    run's `metrics` (a catalog entry)."""
    import subprocess

    from omnivec2.evaluation.seeds import prepare_workspace, seed_params, workspace_path, write_summary

    project = Path.cwd() if project is None else project
    settings = dict(project_config(project, env)["parameters"]).get("seeds") or {}
    metrics = catalog_path("metrics", project, env)
    if not settings or metrics is None:
        print("omnivec2 seeds: run it in the project (it needs the `seeds` parameters and the `metrics` catalog entry)",
              file=sys.stderr)
        return 2
    kedro = str(Path(sys.executable).parent / "kedro")
    extra = [s for s in seeds if s != 0]  # 0 is the main run
    for seed in extra:
        workspace = prepare_workspace(project, seed, settings["workspaces"], settings["linked"], settings["copied"])
        command = [kedro, "run", "--from-nodes", "pretrain_unimodal", "--params", seed_params(seed)]
        if env:
            command += ["--env", env]
        print(f"[omnivec2] seed {seed}: {' '.join(command[1:])} in {workspace}", flush=True)
        if subprocess.run(command, cwd=workspace).returncode != 0:
            print(f"[omnivec2] seed {seed}: the run failed; see its output above", file=sys.stderr)
            return 1
    relative = Path(metrics).relative_to(project.resolve())
    paths = {0: Path(metrics)} | {s: workspace_path(project, settings["workspaces"], s) / relative for s in extra}
    table = write_summary(paths, Path(metrics).parent)
    print(table.read_text())
    return 0


def screen_threads(threads: int | None, only: str | None) -> str | None:
    """Hold this process's torch to `threads` (None: leave its default, all cores) -> a warning when
    `only` trains one side at more than one thread: the other side's process beside it then
    oversubscribes the cores (on 2 cores, two two-thread screens ran stage 3 at about 1.5 s a step
    against 0.45 s for one one-thread run; 2026-12-06)."""
    import torch

    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    if only and torch.get_num_threads() > 1:
        return (f"omnivec2 screen: training the {only} side at {torch.get_num_threads()} torch threads; if the "
                "other side runs beside it, give each --threads 1 (or OMP_NUM_THREADS=1), or the two processes "
                "oversubscribe the cores and every step takes several times longer")
    return None


def run_screen(assignments: list[str], base: list[str], seeds: list[int], datasets: list[str] | None,
               env: str | None, only: str | None = None, project: Path | None = None,
               threads: int | None = None) -> int:
    """The main job's network in-process with and without `assignments` (both with `base`), over
    `seeds` -> the per-task table, printed and written under the `screens` parameters' folder."""
    from omnivec2.ablations.screen import (parse_assignment, run_screen, screen_plans, screen_table, table_name,
                                           with_assignments)
    from omnivec2.datasets import resolve_datasets
    from omnivec2.datasets.pairing import retrieval_protocols
    from omnivec2.durable_files import replace_atomically

    project = Path.cwd() if project is None else project
    cache = catalog_path(TOKEN_CACHE, project, env)
    if cache is None:
        print("omnivec2 screen: run it in the project (it reads the parameters and the token cache)", file=sys.stderr)
        return 2
    try:
        change = [parse_assignment(a) for a in assignments]
        params = with_assignments(dict(project_config(project, env)["parameters"]), [parse_assignment(a) for a in base])
        specs = resolve_datasets(params["datasets"])
        names = list(specs)
        if unknown := set(datasets or ()) - set(names):
            raise ValueError(f"--datasets names {sorted(unknown)}, which are not configured; datasets: {names}")
        manifests = []
        for name in datasets or names:
            path = Path(catalog_path(f"{name}_token_manifest", project, env))
            if not path.is_file():
                raise FileNotFoundError(f"dataset {name!r} has no token cache manifest at {path}: run "
                                        "`kedro run --pipelines ingestion,tokenization` first")
            manifests.append(json.loads(path.read_text()))
        screen_plans(params, change, manifests)  # a change the screen refuses stops here, before any training
        warning = screen_threads(threads, only)
    except (ValueError, FileNotFoundError) as error:
        print(f"omnivec2 screen: error: {error}", file=sys.stderr)
        return 2
    if warning:
        print(warning, file=sys.stderr)
    folder = project / SCREENS
    evaluation = params.get("evaluation") or {}
    result = run_screen(params, change, seeds, Path(cache), manifests, folder / "runs", only,
                        retrieval=retrieval_protocols(specs, evaluation.get("retrieval")),
                        retrieval_seed=int(evaluation.get("seed", 0)))
    if only:
        print(f"omnivec2 screen: the {only} runs are in {folder / 'runs'}; run again without --only for the table")
        return 0
    table = screen_table(result)
    print(table)
    slug = table_name(change)
    folder.mkdir(parents=True, exist_ok=True)
    replace_atomically(folder / f"{slug}.json", json.dumps(result, indent=2).encode())
    replace_atomically(folder / f"{slug}.md", table.encode())
    print(f"written: {folder / slug}.md and .json")
    return 0


def run_retrieval_depth(model: str | None, cache: str | None, env: str | None, project: Path | None = None) -> int:
    """`retrieval_by_depth` for every retrieval protocol the project's datasets and evaluation
    parameters define, printed as markdown tables."""
    from omnivec2.checkpoint import load_model
    from omnivec2.datasets.config import resolve_datasets
    from omnivec2.datasets.pairing import retrieval_protocols
    from omnivec2.evaluation.retrieval_depth import depth_table, retrieval_by_depth

    project = Path.cwd() if project is None else project
    model, cache = model or catalog_path(FINAL_MODEL, project, env), cache or catalog_path(TOKEN_CACHE, project, env)
    if model is None or cache is None:
        print("omnivec2 retrieval-depth: run it in the project (it reads the datasets' pairings), or pass --model "
              "and --cache", file=sys.stderr)
        return 2
    params = dict(project_config(project, env)["parameters"])
    protocols = retrieval_protocols(resolve_datasets(params["datasets"]), (params.get("evaluation") or {}).get("retrieval"))
    if not protocols:
        print("omnivec2 retrieval-depth: no retrieval protocol (no dataset is paired_with another)", file=sys.stderr)
        return 2
    network = load_model(model)
    for name, protocol in protocols.items():
        print(depth_table(name, protocol, retrieval_by_depth(network, cache, protocol)))
    return 0


def run_probe_depth(model: str | None, cache: str | None, env: str | None, tasks: list[str] | None,
                    project: Path | None = None) -> int:
    """`probe_by_depth` for `tasks` (default: every classification and regression task of the model),
    printed as markdown tables."""
    from omnivec2.checkpoint import load_model
    from omnivec2.evaluation.probe_depth import probe_by_depth, probe_table, probed_tasks

    project = Path.cwd() if project is None else project
    model, cache = model or catalog_path(FINAL_MODEL, project, env), cache or catalog_path(TOKEN_CACHE, project, env)
    if model is None or cache is None:
        print("omnivec2 probe-depth: run it in the project, or pass --model and --cache", file=sys.stderr)
        return 2
    network = load_model(model)
    try:
        names = probed_tasks(network, tasks)
    except ValueError as error:
        print(f"omnivec2 {error}", file=sys.stderr)
        return 2
    for name, result in probe_by_depth(network, cache, names).items():
        print(probe_table(name, result))
    return 0


def main(argv: list[str] | None = None) -> int:
    from omnivec2.env import apply_quiet_environment

    apply_quiet_environment()
    parser = argparse.ArgumentParser(prog="omnivec2")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="predict every task of a dataset on files, single stream")
    predict.add_argument("--model", default=None,
                         help="checkpoint folder, or an MLflow model URI: models:/<name>@champion, "
                              "models:/<name>/<version>, runs:/<run>/model "
                              f"(default: the catalog's {FINAL_MODEL})")
    predict.add_argument("--dataset", "--modality", dest="dataset", required=True,
                         help="the dataset (stream) of the model the files belong to (--modality: older name)")
    predict.add_argument("--cache", default=None,
                         help="token cache whose manifests hold the tokenizer statistics (when the model has none; "
                              f"default: the catalog's {TOKEN_CACHE})")
    predict.add_argument("--tracking-uri", default=None, help="MLflow tracking URI for models:/ references")
    predict.add_argument("files", nargs="+")
    seeds = commands.add_parser("seeds", help="train and evaluate again at other training seeds, then write the "
                                              "main table as mean ± std (seeds.md beside the metrics)")
    seeds.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="extra training seeds (the main run is 0)")
    seeds.add_argument("--env", default=None, help="Kedro environment of the runs (as the main run's)")
    screen = commands.add_parser("screen", help="train the main job's network in-process with and without a change "
                                                "of parameters, over seeds, and print each task's before and after")
    screen.add_argument("--set", dest="assignments", action="append", required=True, metavar="PATH=VALUE",
                        help="the change: a dotted parameter path and a YAML value, e.g. "
                             "model.overrides.head_pooling=flatten (repeatable)")
    screen.add_argument("--base", action="append", default=[], metavar="PATH=VALUE",
                        help="applied to both runs, e.g. train_multitask.training.steps=400 for a quicker screen")
    screen.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (paired)")
    screen.add_argument("--datasets", nargs="+", default=None, help="only these datasets (default: all configured)")
    screen.add_argument("--env", default=None, help="Kedro environment whose parameters are read")
    screen.add_argument("--only", choices=("reference", "variant"), default=None,
                        help="train one side only (two processes share the cores; a last call without it "
                             "prints the table from both sides' stored runs)")
    screen.add_argument("--threads", type=int, default=None,
                        help="torch threads of this process (default: all cores); 1 for each of two --only "
                             "processes side by side. Runs are stored per thread count (it changes float rounding)")
    depth = commands.add_parser("retrieval-depth", help="each retrieval protocol's Rank-1 read from the tokens after "
                                                        "every stage of the network (where the match is lost)")
    depth.add_argument("--model", default=None, help=f"checkpoint folder (default: the catalog's {FINAL_MODEL})")
    depth.add_argument("--cache", default=None, help=f"token cache (default: the catalog's {TOKEN_CACHE})")
    depth.add_argument("--env", default=None, help="Kedro environment whose datasets and evaluation parameters are read")
    probes = commands.add_parser("probe-depth", help="each classification or regression task's linear probe at "
                                                     "every depth of the network (where what a linear model reads "
                                                     "from the input is kept or lost)")
    probes.add_argument("--model", default=None, help=f"checkpoint folder (default: the catalog's {FINAL_MODEL})")
    probes.add_argument("--cache", default=None, help=f"token cache (default: the catalog's {TOKEN_CACHE})")
    probes.add_argument("--env", default=None, help="Kedro environment whose catalog is read")
    probes.add_argument("--task", dest="tasks", action="append", default=None, metavar="DATASET/TASK",
                        help="a task to probe, e.g. depth/category (repeatable; default: every classification "
                             "and regression task)")
    args = parser.parse_args(argv)
    if args.command == "probe-depth":
        return run_probe_depth(args.model, args.cache, args.env, args.tasks)
    if args.command == "retrieval-depth":
        return run_retrieval_depth(args.model, args.cache, args.env)
    if args.command == "seeds":
        return run_seeds(args.seeds, args.env)
    if args.command == "screen":
        return run_screen(args.assignments, args.base, args.seeds, args.datasets, args.env, args.only,
                          threads=args.threads)
    model = args.model or catalog_path(FINAL_MODEL)
    if model is None:
        parser.error(f"--model is needed outside a Kedro project (no conf/base here to read {FINAL_MODEL} from)")
    cache = args.cache or catalog_path(TOKEN_CACHE)

    from omnivec2.inference import PredictionError, Predictor

    if args.tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(args.tracking_uri)
    try:
        predictor = Predictor(model, cache)  # loaded once for every file
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
