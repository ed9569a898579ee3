"""(d) One epoch of a modality's cached tokens against tokenizing it again from the raw samples.

Both sides start from disk, with the page cache warm for both: the cache side is
`read_token_split` of the train split (sha256 check against the manifest included, as the stages
read it); the re-tokenizing side reads the sample table's train rows (Parquet), decodes the
payloads and runs the modality's deterministic tokenizer with the statistics already fitted (the
fit itself is not counted, which favours re-tokenizing). Figure: epochs/s; the cache's read
throughput is reported in MB/s of tokens delivered.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.report import Row, Target
from benchmarks.timing import interleaved, median, ratio

EXPENSIVE = ("audio", "point_cloud", "graph", "video")
TARGET = Target(">=", 20.0)


def read_cached(cache_root, modality: str):
    from omnivec2.tokens.cache import read_token_split

    return lambda: read_token_split(cache_root, modality, "train")


def retokenize(samples_path, spec, stats: dict):
    from omnivec2.data.sample_table import decode_payloads

    def run():
        table = pd.read_parquet(samples_path, filters=[("split", "==", "train")])
        return spec.tokenizer.transform(decode_payloads(table.sort_values("sample_id", kind="stable")), stats)

    return run


def run(ctx) -> list[Row]:
    from omnivec2.tokens.cache import read_token_split
    from pipelines.datasets import dataset_specs

    specs = dataset_specs("base")
    rows = []
    for manifest in ctx.workspace.manifests:
        name = manifest["dataset"]
        subjects = {"cache": read_cached(ctx.workspace.cache_root, name),
                    "tokenize": retokenize(ctx.workspace.samples_path(name), specs[name], manifest["fit_stats"])}
        seconds = interleaved(subjects, rounds=ctx.rounds(7), warmup=0 if ctx.quick else 1)
        split = read_token_split(ctx.workspace.cache_root, name, "train")
        megabytes = (split.tokens.nbytes + sum(t.nbytes for t in split.targets.values())) / 1e6
        cache_s, tokenize_s = median(seconds["cache"]), median(seconds["tokenize"])
        expensive = name in EXPENSIVE
        rows.append(Row(
            "d", f"{name}: cached epoch vs re-tokenizing ({manifest['splits']['train']['rows']} samples)",
            1 / cache_s, 1 / tokenize_s, "epochs/s", ratio(tokenize_s, cache_s), "speed-up of the cache",
            TARGET if expensive else None,
            note=f"cache reads {megabytes / cache_s:.0f} MB/s ({megabytes:.1f} MB)" + ("" if expensive else
                 "; cheap modality, no target"),
            extra={"seconds": seconds, "megabytes": megabytes, "read_mb_per_s": megabytes / cache_s}))
    return rows
