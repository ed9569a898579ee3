"""The figure that stands for a task of each kind in the main table, and whether higher is better."""

PRIMARY = {"classification": ("accuracy", True), "dense": ("miou", True), "regression": ("rmse", False),
           "retrieval": ("rank1", True)}
SYSTEMS = ("omnivec2", "classical", "single_task")  # the main table's columns
