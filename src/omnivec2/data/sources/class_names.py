"""The class names a source numbered string labels by, recorded per task while the source is read
(`read_source`), so that a task inferring its classes learns their names (`omnivec2.datasets.classes`)."""

from __future__ import annotations

from omnivec2.data.sources.name_recorder import NameRecorder

_CLASS_NAMES = NameRecorder("class_names")
recording_class_names = _CLASS_NAMES.recording  # -> {task: names in index order} while the block reads
record_class_names = _CLASS_NAMES.record  # (task, names): `task`'s labels were numbered by `names`
