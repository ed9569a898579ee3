"""One training stage as a resumable sequence of steps (plain PyTorch; Ray Train calls it per worker).

Each step:
  stage 1  one dataset (switching), masked, single stream, reconstruct hidden tokens
  stage 2  datasets of two different modalities, half the batch each, both masked, paired through A,
           both reconstructed
  stage 3  a pair of tasks from two different modalities, half the batch each, through A, losses balanced
           (mode "joint": every task each step; "sequential": one task after another, single stream)
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from omnivec2.model.omnivec2 import OmniVec2
from omnivec2.training.augment import augment_batch
from omnivec2.training.balancing import UncertaintyWeighting, build_balancer
from omnivec2.training.config import TrainConfig
from omnivec2.training.contrastive import LOSS_KEY, ContrastiveTerm, PairedRows, require_pairs
from omnivec2.training.data import BatchStream, ModalityData
from omnivec2.training.objectives import MaskedItem, StageObjective, SupervisedItem, draw_mask
from omnivec2.training.optim import build_optimizer
from omnivec2.training.rng import global_rng_state, set_global_rng_state
from omnivec2.training.schedules import ModalitySwitcher, PairSampler, valid_pairs


class NonFiniteStep(FloatingPointError):
    """A training step whose loss or gradient is NaN or infinite (raised before the weights change)."""


def task_keys(model: OmniVec2, modalities: list[str]) -> list[str]:
    return [f"{m}/{t.name}" for m in modalities for t in model.config.modality(m).tasks]


class StageTrainer:
    """Holds everything a stage's step needs, and all of it is in `state_dict` for exact resumption."""

    def __init__(self, model: OmniVec2, data: dict[str, ModalityData], config: TrainConfig,
                 rank: int = 0, world_size: int = 1, wrap=None, device: torch.device | str = "cpu",
                 pairs: list[PairedRows] = ()):
        self.model, self.config, self.device = model, config, torch.device(device)
        self.world_size = world_size
        self.modalities = sorted(data)
        self.data = {m: d.shard(rank, world_size) for m, d in data.items()}
        self.unsharded = data  # every worker recomputes the heads' statistics over all rows, so they agree
        self.tasks = task_keys(model, self.modalities)
        sizes = {m: len(d) for m, d in data.items()}
        if config.stage == "train_multitask" and not self.tasks:
            raise ValueError("stage train_multitask needs at least one task")

        balancer = build_balancer(config.balancing, self.tasks, config.dwa_temperature, config.dwa_window,
                                  config.dwa_normalise)
        self.balancer = balancer
        contrastive = config.contrastive_weight if config.stage == "train_multitask" else 0.0
        pairs = list(pairs)
        require_pairs(contrastive, pairs, config.contrastive_pairs, self.modalities)
        self.objective = StageObjective(model, balancer if isinstance(balancer, nn.Module) else None,
                                        config.label_smoothing, contrastive,
                                        tuple(sorted({s for p in pairs for s in (p.a, p.b)})),
                                        config.contrastive_projection, config.contrastive_pooling).to(self.device)
        self.contrastive = (ContrastiveTerm(pairs, data, config.contrastive_batch, config.seed * 613 + rank,
                                            self.objective.contrastive) if contrastive else None)
        self.module = wrap(self.objective) if wrap is not None else self.objective

        if config.freeze_shared:
            for p in model.shared_parameters():
                p.requires_grad_(False)
        self.optimizer = build_optimizer(self.objective, model.shared_parameters(), config, list(model.heads.parameters()))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)

        # Every worker draws the same schedule (seed), but its own rows and masks (seed + rank).
        self.streams = {m: BatchStream(len(self.data[m]), config.batch_size, config.seed * 7919 + rank * 104_729 + i)
                        for i, m in enumerate(self.modalities)}
        self.mask_rng = torch.Generator().manual_seed(config.seed * 31 + rank)
        self.switcher = ModalitySwitcher(self.modalities, config.modality_schedule, sizes, config.seed)
        task_modality = lambda key: key.split("/")[0]
        # Pairs join two different modality families (two image datasets are never paired).
        family = lambda stream: model.config.modality(stream).family
        if config.stage == "pretrain_multimodal":
            self.pairs = PairSampler(valid_pairs(self.modalities, family), config.pair_sampling, sizes,
                                     {m: config.steps * 2 * sizes[m] / sum(sizes.values()) for m in sizes}, config.seed)
        elif config.stage == "train_multitask" and config.mode == "pairwise":
            task_sizes = {t: sizes[task_modality(t)] for t in self.tasks}
            budgets = {t: config.steps * 2 * s / sum(task_sizes.values()) for t, s in task_sizes.items()}
            self.pairs = PairSampler(valid_pairs(self.tasks, lambda t: family(task_modality(t))),
                                     config.pair_sampling, task_sizes, budgets, config.seed)
        else:
            self.pairs = None
        if config.stage == "pretrain_multimodal" and len(self.modalities) < 2:
            raise ValueError("stage pretrain_multimodal needs at least two modalities")
        self.step = 0
        # What each dataset (stages 1-2) or task (stage 3) was trained on: [visits, rows over all workers].
        counted = self.tasks if config.stage == "train_multitask" else self.modalities
        self.visits: dict[str, list[int]] = {key: [0, 0] for key in counted}

    def _lr_factor(self, step: int) -> float:
        """Linear warm-up, then cosine decay to 10% over the stage's steps."""
        c = self.config
        if step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        progress = min(1.0, (step - c.warmup_steps) / max(1, c.steps - c.warmup_steps))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    # ----- what one step trains on -------------------------------------------------------------------
    def _batch(self, modality: str, size: int, augment: bool = False) -> ModalityData:
        batch = self.data[modality].take(self.streams[modality].next_indices(size))
        tokens, targets = batch.tokens, batch.targets
        if augment:  # on the host, before the copy: the mask generator is a CPU generator (and checkpointed)
            tokens, targets = augment_batch(self.model.config.modality(modality), tokens, targets, self.mask_rng)
        return ModalityData(tokens.to(self.device), {k: v.to(self.device) for k, v in targets.items()})

    def _masked(self, modality: str, size: int) -> MaskedItem:
        batch = self._batch(modality, size)
        return MaskedItem(modality, batch.tokens, _to(draw_mask(self.model, modality, batch.tokens, self.mask_rng), self.device))

    def _supervised(self, key: str, size: int) -> SupervisedItem:
        modality, task = key.split("/")
        # stage 3 draws no masks: its generator is free for the augmentations
        batch = self._batch(modality, size, augment=self.config.augments(self.model.config.modality(modality)))
        return SupervisedItem(modality, task, batch.tokens, batch.targets[task])

    def plan(self) -> tuple[list, bool]:
        """The items of the next step and whether A pairs them; counts each item's visit."""
        items, use_cross = self._plan()
        for item in items:
            count = self.visits.setdefault(getattr(item, "key", item.modality), [0, 0])
            count[0] += 1
            count[1] += len(item.tokens) * self.world_size
        return items, use_cross

    def visit_counts(self) -> dict[str, int]:
        """{"visits/<key>": visits so far, "samples/<key>": rows so far} (key: dataset or dataset/task)."""
        return {f"{kind}/{key}": n[i] for key, n in sorted(self.visits.items())
                for i, kind in enumerate(("visits", "samples"))}

    def _plan(self) -> tuple[list, bool]:
        c, half = self.config, max(1, self.config.batch_size // 2)
        if c.stage == "pretrain_unimodal":
            return [self._masked(self.switcher.next(), c.batch_size)], False
        if c.stage == "pretrain_multimodal":
            if c.mode == "joint":
                share = max(1, c.batch_size // len(self.modalities))
                return [self._masked(m, share) for m in self.modalities], True
            a, b = self.pairs.next()
            return [self._masked(a, half), self._masked(b, half)], True
        if c.mode == "joint":
            share = max(1, c.batch_size // len(self.tasks))
            return [self._supervised(t, share) for t in self.tasks], True
        if c.mode == "sequential":
            per_task = max(1, math.ceil(c.steps / len(self.tasks)))
            return [self._supervised(self.tasks[min(self.step // per_task, len(self.tasks) - 1)], c.batch_size)], False
        a, b = self.pairs.next()
        return [self._supervised(a, half), self._supervised(b, half)], True

    # ----- one optimisation step ---------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        self.module.train()
        items, use_cross = self.plan()
        weights = None
        if isinstance(items[0], SupervisedItem) and hasattr(self.balancer, "weights"):
            weights = self.balancer.weights([i.key for i in items])
        autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16)
                    if self.config.precision == "bf16" else contextlib.nullcontext())
        with autocast:
            total, losses = self.module(items, use_cross=use_cross, weights=weights,
                                        contrastive=self.contrastive.item(self.device) if self.contrastive else None)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            [p for p in self.objective.parameters() if p.requires_grad], self.config.grad_clip)
        if not torch.isfinite(grad_norm):  # before the update: the weights stay as they were after the last step
            raise NonFiniteStep(self._non_finite_message(total, losses, grad_norm))
        self.optimizer.step()
        self.scheduler.step()
        if weights is not None:  # DWA history advances after the step that used it
            self.balancer.combine({k: v.detach() for k, v in losses.items() if k != LOSS_KEY})
        self.step += 1
        metrics = {"loss": float(total.detach()), "lr": self.scheduler.get_last_lr()[0], "grad_norm": float(grad_norm)}
        metrics.update({f"loss/{k}": float(v.detach()) for k, v in losses.items()})
        if weights is not None:
            metrics.update({f"weight/{k}": w for k, w in weights.items()})
        elif isinstance(self.balancer, UncertaintyWeighting):
            metrics.update({f"weight/{k}": float(torch.exp(-self.balancer.log_vars[k]).detach()) for k in losses
                            if k != LOSS_KEY})
        return metrics

    def _non_finite_message(self, total, losses: dict, grad_norm) -> str:
        items = ", ".join(f"{key} {float(value.detach()):.4g}" for key, value in losses.items())
        where = "loss" if not torch.isfinite(total.detach()) else "gradient (the loss itself is finite)"
        return (f"{self.config.stage}: step {self.step + 1} of {self.config.steps} has a non-finite {where} "
                f"(loss {float(total.detach()):.4g}, gradient norm {float(grad_norm):.4g}; per item: {items}; "
                f"learning rate {self.scheduler.get_last_lr()[0]:.3g}, precision {self.config.precision}). "
                "The step was not applied. Lower training.lr or raise training.warmup_steps for this stage, "
                "or check the named dataset's inputs.")

    def finish(self, validation: dict[str, ModalityData] | None = None) -> dict[str, float]:
        """After the last step of stage 3: `precise_head_norm` recomputes the heads' BatchNorm
        statistics, then `refit_heads` refits their output layers on the features so normalised, then
        (`head_pooling: select`, `dense_readout: select`) each head's read-out is chosen on `validation`
        ({stream: its validation split}) -> {"head_norm_rows/<task>": rows the statistics came from,
        "head_refit_rows/<task>": rows fitted on, "head_readout/<task>": 1.0 flattened, 0.0 mean, ...}."""
        if self.config.stage != "train_multitask":
            return {}
        from omnivec2.training.readout_select import select_dense_readouts, select_readouts
        from omnivec2.training.head_inputs import head_inputs
        from omnivec2.training.head_refit import refit_heads, refit_kinds, refit_tasks
        from omnivec2.training.precise_heads import batch_norm_tasks, recalibrate_head_norms

        c, done = self.config, {}
        precise = batch_norm_tasks(self.model, self.tasks) if c.precise_head_norm else []
        kinds = refit_kinds(c.refit_dense)
        refit = refit_tasks(self.model, self.tasks, kinds) if c.refit_heads else []
        # one forward pass serves both, over the heads either pass needs
        inputs = head_inputs(self.model, self.unsharded, list(dict.fromkeys(precise + refit)))
        if c.precise_head_norm:
            counted = recalibrate_head_norms(self.model, self.unsharded, precise, inputs=inputs)
            done.update({f"head_norm_rows/{key}": float(rows) for key, rows in counted.items()})
        if c.refit_heads:
            chosen_c: dict[str, float] = {}
            fitted = refit_heads(self.model, self.unsharded, refit, c.refit_max_iter, kinds, inputs, c.refit_rows,
                                 validation, c.refit_c_grid, chosen_c)
            done.update({f"head_refit_rows/{key}": float(rows) for key, rows in fitted.items()})
            if len(c.refit_c_grid) > 1:
                done.update({f"head_refit_c/{key}": value for key, value in chosen_c.items()})
            # read-outs are chosen between refitted layers only (heads without a fitted read-out: nothing to do)
            done.update(select_readouts(self.model, self.unsharded, validation or {}, self.tasks, c.refit_max_iter,
                                        c.refit_c_grid))
            done.update(select_dense_readouts(self.model, self.unsharded, validation or {}, self.tasks,
                                              c.refit_max_iter, c.refit_rows))
        return done

    # ----- checkpointable state ----------------------------------------------------------------------
    # Shared state is the same on every worker (DDP keeps weights and optimizer moments in step; the
    # schedule samplers draw from config.seed). Rank state differs per worker: its batch streams,
    # mask generator, DWA history (losses are per-worker) and the process-wide RNGs (dropout).
    def state_dict(self) -> dict:
        """Everything needed to continue exactly: shared state plus this worker's rank state."""
        return {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "switcher": self.switcher.state_dict(),
            "pairs": self.pairs.state_dict() if self.pairs is not None else None,
            "balancer": self.balancer.state_dict(),
            "visits": {k: list(v) for k, v in self.visits.items()},
            **self.rank_state_dict(),
        }

    def rank_state_dict(self) -> dict:
        return {
            "step": self.step,
            "streams": {m: s.state_dict() for m, s in self.streams.items()},
            "mask_rng": self.mask_rng.get_state(),
            "balancer_history": self.balancer.state_dict() if not isinstance(self.balancer, nn.Module) else None,
            "global_rng": global_rng_state(),
            "contrastive": self.contrastive.state_dict() if self.contrastive else None,
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.switcher.load_state_dict(state["switcher"])
        if self.pairs is not None and state.get("pairs") is not None:
            self.pairs.load_state_dict(state["pairs"])
        self.balancer.load_state_dict(state["balancer"])
        self.visits.update({k: [int(n) for n in v] for k, v in (state.get("visits") or {}).items()})  # absent: older
        self.load_rank_state_dict(state)

    def load_rank_state_dict(self, state: dict) -> None:
        if int(state["step"]) != self.step:
            raise ValueError(f"rank state is from step {state['step']}, the shared state from step {self.step}")
        for m, s in state["streams"].items():
            self.streams[m].load_state_dict(s)
        self.mask_rng.set_state(state["mask_rng"])
        if state.get("balancer_history") is not None and not isinstance(self.balancer, nn.Module):
            self.balancer.load_state_dict(state["balancer_history"])
        if state.get("global_rng") is not None:  # absent in checkpoints written before it was saved
            set_global_rng_state(state["global_rng"])
        if self.contrastive is not None and state.get("contrastive") is not None:
            self.contrastive.load_state_dict(state["contrastive"])


def _to(mask, device):
    mask.keep, mask.restore, mask.masked = mask.keep.to(device), mask.restore.to(device), mask.masked.to(device)
    return mask
