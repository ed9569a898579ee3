"""What one launch of a training stage trains, as one frozen value built once on the driver.

`stage_runner.stage_launch` builds it from the pipeline's parameters; `launch.run_stage_on_ray`
launches it; Ray Train hands `to_dict()` (its train_loop_config must be a dict) to every worker,
which rebuilds it with `from_dict`. Nothing changes it on the way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from omnivec2.training.config import TrainConfig


@dataclass(frozen=True)
class StageLaunch:
    """model: ModelConfig.to_dict() of the stage's network (its modalities in `modalities` order).
    cache_root: the token cache (an absolute directory or a URI). init_checkpoint: the previous
    stage's checkpoint directory on the driver (absolute) or None, with `init_checkpoint_sha` its
    directory digest; init_storage: where the workers fetch it, the copy the driver publishes in
    Ray Train's storage before the launch (`init_checkpoint.publish_checkpoint`; workers never read
    the driver's directory). cache_key: each cached dataset's content key, sorted. tracking: the MLflow run rank 0
    logs to, or None. num_workers: Ray Train workers (0 = local mode, the loop in the driver's
    process). log_level: Ray Train's log level. fault: a fault to inject (`faults.maybe_inject_fault`)."""

    model: dict
    train: TrainConfig
    cache_root: str
    modalities: tuple[str, ...]
    cache_key: tuple[str, ...] = ()
    init_checkpoint: str | None = None
    init_checkpoint_sha: str | None = None
    init_storage: str | None = None
    tracking: dict | None = None
    num_workers: int = 1
    log_level: str = "WARNING"
    fault: dict | None = None
    code_key: str = ""  # `code_key.training_code_key()` on the driver; "" for launches built by hand

    @property
    def stage(self) -> str:
        return self.train.stage

    @property
    def local_mode(self) -> bool:
        """No worker actors: the loop runs in the driver's process and its checkpoints stay where written."""
        return self.num_workers == 0

    def run_name(self) -> str:
        """Stable per configuration and code: a re-run of the same configuration with the same
        training code (after a crash, say) resumes from its latest checkpoint; a changed
        configuration, input checkpoint, worker count or training code starts fresh. (Without a
        code key, the digest's inputs and their JSON are those of earlier versions.)"""
        inputs = {"model": self.model, "train": self.train.to_dict(), "modalities": list(self.modalities),
                  "init_checkpoint_sha": self.init_checkpoint_sha, "cache_key": list(self.cache_key),
                  "num_workers": self.num_workers}
        if self.code_key:
            inputs["code_key"] = self.code_key
        digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
        return f"{self.stage}-{digest[:12]}"

    def to_dict(self) -> dict:
        """Plain data (JSON-compatible) for Ray's train_loop_config."""
        return {**asdict(self), "modalities": list(self.modalities), "cache_key": list(self.cache_key)}

    @classmethod
    def from_dict(cls, data: dict) -> "StageLaunch":
        return cls(**{**data, "train": TrainConfig(**data["train"]), "modalities": tuple(data["modalities"]),
                      "cache_key": tuple(data["cache_key"])})
