"""dvc.yaml against the Kedro pipelines: every file a stage's pipeline reads is one of the stage's DVC
dependencies (or lies under one), so `dvc repro` re-runs a stage whenever something it reads changes.
A stage's own outputs are the exception: it reads them to go on from them (a stage's Ray run to
resume, the class lists an earlier ingestion inferred), and DVC takes no cycle.
A file read but not declared leaves a stage "up to date" on stale inputs (the report once kept links
to Data Docs pages an ingestion re-run had replaced)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.pipelines.conftest import PROJECT


def catalog_paths(stage: str) -> dict[str, Path]:
    """{dataset: its file or folder, relative to the project} for the free inputs of pipeline `stage`
    (parameters and in-memory datasets left out), as `--env base` resolves them."""
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT)
    with KedroSession.create(project_path=PROJECT, env="base") as session:
        catalog = session.load_context().catalog
        out = {}
        for name in sorted(pipelines[stage].inputs()):
            if name.startswith("params:") or name == "parameters":
                continue
            described = catalog.get(name)._describe()
            path = described.get("filepath") or described.get("path")
            if path is not None:
                out[name] = Path(str(path)).resolve().relative_to(PROJECT)
        return out


def covered(path: Path, deps: list[str]) -> bool:
    return any(path == Path(dep) or Path(dep) in path.parents for dep in deps)


def test_every_file_a_stage_reads_is_one_of_its_dvc_dependencies():
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
    undeclared = {}
    for stage, spec in stages.items():
        outs = [next(iter(out)) if isinstance(out, dict) else out for out in spec.get("outs", [])]
        undeclared[stage] = [f"{name} ({path})" for name, path in catalog_paths(stage).items()
                             if not covered(path, spec["deps"]) and not covered(path, outs)]
    assert not any(undeclared.values()), {stage: names for stage, names in undeclared.items() if names}
