"""The figure that stands for a task of each kind in the main table, and whether higher is better."""

PRIMARY = {"classification": ("accuracy", True), "dense": ("miou", True), "regression": ("rmse", False),
           "retrieval": ("rank1", True)}
SYSTEMS = ("omnivec2", "classical", "single_task")  # the main table's columns


def headline(metrics: dict) -> dict[str, dict[str, float]]:
    """metrics.json (`evaluate_checkpoint`'s result) -> {"<modality>/<task>": {<primary metric>: OmniVec2's
    value}}: one figure per task, named so that a reader knows which way is better (rmse: lower)."""
    out = {}
    for task, entry in metrics["tasks"].items():
        name = PRIMARY[entry["kind"]][0]
        if name not in entry.get("omnivec2", {}):
            raise ValueError(f"task {task} ({entry['kind']}): metrics.json has no OmniVec2 {name}")
        out[task] = {name: entry["omnivec2"][name]}
    return out
