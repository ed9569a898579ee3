"""`python -m benchmarks --preset cpu|tiny|base [--only a,b,...] [--main-job run|latest] [--record]`.

Writes `benchmarks.json` and `benchmarks.md` to `--out` (default data/08_reporting/benchmarks/);
`--record` also copies them to `benchmarks/results/<date>-<machine>.{json,md}`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from omnivec2.env import apply_quiet_environment

MODULES = {
    "a": "a_block_throughput",
    "b": "b_model_flops_utilisation",
    "c": "c_ray_train_overhead",
    "d": "d_token_cache_reads",
    "e": "e_data_wait",
    "f": "f_main_job",
    "g": "g_peak_memory",
    "h": "h_fits_side_by_side",
    "i": "i_row_space_fits",
    "j": "j_specialists_side_by_side",
    "k": "k_newton_binary_fits",
}


@dataclass
class Context:
    """What every benchmark module's `run(ctx)` receives."""

    preset: str  # tiny | cpu | base
    params: dict  # the preset's Kedro parameters
    workspace: object  # benchmarks.workspace.Workspace
    main_job: str  # run | latest
    quick: bool = field(init=False)

    def __post_init__(self):
        self.quick = self.preset == "tiny"

    @property
    def model_preset(self) -> str:
        return self.params["model"]["preset"]

    @property
    def matmul_size(self) -> int:
        return 1024 if self.quick else 2048

    def rounds(self, full: int) -> int:
        """Interleaved rounds: `full` by hand, 2 in the smoke run (which asserts no timings)."""
        return 2 if self.quick else full


def main(argv: list[str] | None = None) -> int:
    apply_quiet_environment()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--preset", choices=("tiny", "cpu", "base"), default="cpu")
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated subset of a,b,c,d,e,f,g,h,i,j,k")
    parser.add_argument("--out", type=Path, default=Path("data/08_reporting/benchmarks"))
    parser.add_argument("--work-dir", type=Path, default=None, help="sample tables and token cache (reused)")
    parser.add_argument("--main-job", choices=("run", "latest"), default=None,
                        help="(f): run the main job now, or read the latest recorded run (default: run, "
                             "except at tiny)")
    parser.add_argument("--record", action="store_true", help="also copy the results to benchmarks/results/")
    args = parser.parse_args(argv)
    only = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = set(only) - set(MODULES)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {','.join(MODULES)}")

    from benchmarks import machine, report, workspace

    started = time.perf_counter()
    ws = workspace.prepare(args.work_dir)
    ctx = Context(args.preset, workspace.parameters(args.preset), ws,
                  args.main_job or ("latest" if args.preset == "tiny" else "run"))
    timings = {"setup": time.perf_counter() - started}
    rows: list = []
    for key in only:
        started = time.perf_counter()
        print(f"[benchmarks] ({key}) {MODULES[key]} ...", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{MODULES[key]}")
            new = module.run(ctx)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            new = [report.not_measured(key, MODULES[key], f"the benchmark failed: {type(error).__name__}: {error}")]
        rows += new
        timings[key] = time.perf_counter() - started
        for row in new:
            print(f"  {row.name}: ratio {row.ratio if row.ratio is None else round(row.ratio, 4)} "
                  f"target {row.target or '-'} -> {({True: 'met', False: 'NOT met', None: '-'})[row.met]} {row.note}",
                  flush=True)

    info = machine.describe()
    meta = {
        "preset": args.preset,
        "model_preset": ctx.model_preset,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "versions": machine.versions(),
        "git_commit": machine.git_commit(workspace.PROJECT),
        "benchmarks": only,
    }
    json_path, md_path = report.write(rows, meta, timings, args.out)
    print(f"[benchmarks] wrote {json_path} and {md_path}")
    if args.record:
        results = workspace.PROJECT / "benchmarks" / "results"
        stem = f"{datetime.date.today().isoformat()}-{info['slug']}-{args.preset}"
        shutil.copy(json_path, results / f"{stem}.json")
        shutil.copy(md_path, results / f"{stem}.md")
        print(f"[benchmarks] recorded {results / stem}.{{json,md}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
