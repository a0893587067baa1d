"""``GradualPruning``: pruning laid out over the run's budget through levels, with the learning rate held through
pruning and a validation guard that rolls back a step that breaks the network.

Mixin placed before a pruning trainer: ``class X(GradualPruning, PruningTrainer)``. The schedule is
``nnunet_lunet.pruning.schedule.GradualSchedule``, made in ``on_train_start`` (the budget, ``num_epochs`` x
``num_iterations_per_epoch``, is known once the trainer is built) from the class attributes ``pruning_levels``,
``pruning_warmup_fraction``, ``pruning_prune_fraction``, ``pruning_steps_per_level``, ``pruning_final_hold_fraction``
and ``pruning_step_sizing``; its steps run before training iterations, inside epochs.

Learning rate (``pruning_lr``): ``"hold_then_decay"`` keeps the initial learning rate from the first epoch to the
last pruning epoch (STAMP trains at its initial rate between prunes) and decays it with nnU-Net's poly rule over
the epochs after it, so the last level gets real training at a falling rate; ``"poly"`` is nnU-Net's decay over the
whole run.

Levels: at each level, when its training ends (just before the schedule goes below it; the last at the end of
training), the trainer records a ``levels`` entry in ``pruning_log.json``, saves ``checkpoint_level75.pth`` (etc.;
``current_epoch`` is the epochs trained) and runs nnU-Net's validation into ``validation_level75/``
(``level_validation``). A level is recorded between epochs, so its validation time is in no epoch's time; a run
continued from a checkpoint written before a level was recorded records it again at the start of the next epoch.

Validation guard (``pruning_guard``): before every step and when a level is recorded, the trainer measures nnU-Net's
pseudo-Dice (mean foreground Dice of the argmax over whole batches, as in nnU-Net's validation iterations) on
``pruning_guard_batches`` validation batches drawn once at the start of the run and kept in the checkpoint, so every
check sees the same patches. The check before a level's first step sets the level's reference. A check below
``pruning_guard_fraction`` x the reference fails: the network, the optimizer state and the targeted dropout go back
to the last good state (the last passing check; kept in memory and in the checkpoint) and the failed step is taken
again with half its channels in place of the schedule's next step (the level's later steps catch up, each at most
twice its own size: ``GradualSchedule.channels_to_remove``), up to
``pruning_guard_retries`` times in a row; a check that fails with no retry left, or at a level's record, rolls back
and stops pruning: the run ends at the last good state. A level the network did not reach (stopped, or short after a
retry) is recorded with ``"reached": false``, its ``guard`` (``"stopped"`` or ``"short"``) and no checkpoint,
validation or Dice, so it is never reported as a number. ``pruning_log.json`` keeps the steps of the
network (a rolled-back step leaves ``steps``) and every check that failed in ``guard`` with the undone steps.
The schedule's position (``schedule_position``) counts the schedule's steps consumed, retries not included.

Resuming is exact: the position, the guard's state, its batches and the last good state travel in the checkpoint,
and a continued run takes the decisions the uninterrupted one takes.
"""

import copy
import math
from typing import List, Optional

import numpy as np
import torch
import torch.distributed as dist
from nnunetv2.training.lr_scheduler.polylr import PolyLRScheduler

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.layer_widths import count_channels, read_layer_widths
from nnunet_lunet.pruning.pruning_log import level_record, write_log
from nnunet_lunet.pruning.schedule import GradualSchedule, channels_at, level_name
from nnunet_lunet.trainers.level_validation import LevelValidation

LR_RULES = ("hold_then_decay", "poly")


class GradualPruning(LevelValidation):
    """See the module docstring. Defaults are provisional until a sweep measures them (docs/pruning.md)."""

    pruning_levels = (0.75, 0.5, 0.25)
    pruning_warmup_fraction = 0.15  # the first epochs train the full network
    pruning_prune_fraction = 0.75  # of each level's segment prunes, the rest holds the level
    pruning_steps_per_level = 8
    pruning_final_hold_fraction = 0.25  # the last epochs train at the last level only
    pruning_step_sizing = "remaining"  # each step removes the same share of what remains
    pruning_target_fraction = 0.25  # the last level (checked against the net before training)
    pruning_lr = "hold_then_decay"
    pruning_guard = True
    pruning_guard_batches = 4
    pruning_guard_fraction = 0.5  # a check below half the level's reference fails
    pruning_guard_retries = 2

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self._iteration = 0  # training iterations of the current epoch so far
        self.schedule_position = 0  # the schedule's steps consumed
        self.guard_state = {"reference": None, "retries": 0, "stopped": False}
        self.guard_batches: Optional[List[dict]] = None
        self.last_good: Optional[dict] = None

    def make_gradual_schedule(self) -> GradualSchedule:
        try:
            if self.pruning_lr not in LR_RULES:
                raise ValueError(f"pruning_lr must be one of {LR_RULES}, got {self.pruning_lr!r}")
            if not 0 <= self.pruning_guard_fraction < 1:
                raise ValueError(f"pruning_guard_fraction must be in [0, 1), got {self.pruning_guard_fraction!r}")
            return GradualSchedule(self.num_epochs, self.num_iterations_per_epoch, tuple(self.pruning_levels),
                                   self.pruning_warmup_fraction, self.pruning_prune_fraction,
                                   self.pruning_steps_per_level, self.pruning_final_hold_fraction,
                                   self.pruning_step_sizing)
        except ValueError as e:
            raise LUnetError(f"{self.__class__.__name__}: {e}") from None

    # -- nnU-Net hooks ---------------------------------------------------------------------------------------------
    def on_train_start(self):
        self.pruning_schedule = self.make_gradual_schedule()
        self.pruning_target_fraction = self.pruning_schedule.levels[-1]
        super().on_train_start()
        if self.pruning_lr == "hold_then_decay":  # nnU-Net keeps no scheduler state: set anew on every start
            self.lr_scheduler = HoldThenPolyLR(self.optimizer, self.initial_lr, self.num_epochs,
                                               self.pruning_schedule.lr_decay_start())
        if self.pruning_guard and self.guard_batches is None:  # a fresh run (a resumed one restored them)
            self.guard_batches = [_to_cpu(next(self.dataloader_val)) for _ in range(self.pruning_guard_batches)]
        self.pruning_log.setdefault("guard", [])

    def prune_at_epoch_start(self) -> None:
        # No step here (they run before training iterations); a run continued from a checkpoint written before a
        # level was recorded records it now.
        self.record_due_levels()

    def on_train_epoch_start(self):
        super().on_train_epoch_start()  # nnU-Net steps the learning rate (HoldThenPolyLR) and logs it
        self._iteration = 0

    def train_step(self, batch: dict) -> dict:
        self.take_due_steps(self._iteration)
        self._iteration += 1
        return super().train_step(batch)

    def on_epoch_end(self):
        super().on_epoch_end()  # nnU-Net's epoch end (and checkpoints); current_epoch is now the epochs trained
        self.record_due_levels()

    def on_train_end(self):
        self.record_due_levels()  # the last level, before nnU-Net's final checkpoint
        super().on_train_end()

    # -- state in the checkpoint -----------------------------------------------------------------------------------
    def _pruning_state(self) -> dict:
        return {**super()._pruning_state(), "schedule_position": self.schedule_position,
                "guard": dict(self.guard_state), "guard_batches": self.guard_batches, "last_good": self.last_good}

    def restore_extra_pruning_state(self, state: dict, checkpoint: dict) -> None:
        super().restore_extra_pruning_state(state, checkpoint)
        self.schedule_position = state.get("schedule_position", state["steps_done"])
        self.guard_state = dict(state.get("guard") or self.guard_state)
        self.guard_batches = state.get("guard_batches")
        self.last_good = state.get("last_good")

    def log_as_at(self, log: dict, checkpoint: dict) -> dict:
        """The log as it was when ``checkpoint`` was written: the guard's checks after it are undone (their
        rolled-back steps put back), so the steps match the checkpoint and the continued run redoes the checks."""
        log = super().log_as_at(log, checkpoint)
        events = log.get("guard", [])
        later = [g for g in events if g["epoch"] >= checkpoint["current_epoch"]]
        for event in reversed(later):
            log["steps"] = log["steps"][:event["back_to_step"]] + event["undone_steps"]
        log["guard"] = events[:len(events) - len(later)]
        return log

    # -- the schedule's steps and levels ---------------------------------------------------------------------------
    def take_due_steps(self, iteration: int) -> None:
        """Take the schedule's steps due before ``iteration`` of the current epoch that the run has not taken, each
        after a guard check (which may roll back and retry the step before it)."""
        steps = self.pruning_schedule.steps()
        due = self.pruning_schedule.steps_due(self.current_epoch, iteration)
        while self.schedule_position < due:
            step = steps[self.schedule_position]
            self.schedule_position += 1
            if self.guard_state["stopped"]:
                continue
            starts_level = step.index == 0 or steps[step.index - 1].level_index != step.level_index
            if self.pruning_guard and not self.guard_check(iteration, starts_level):
                continue  # rolled back (and retried smaller, or stopped): the schedule's later steps catch up
            current = count_channels(read_layer_widths(self._plain_network()))
            n = self.pruning_schedule.channels_to_remove(step.index, current, self.pruning_log["original_channels"])
            self.prune_step(n, iteration)

    def record_due_levels(self) -> None:
        """Record every level whose training has ended by now (``current_epoch`` epochs trained) and that the log
        does not hold yet."""
        recorded = {r["level"] for r in self.pruning_log["levels"]}
        for k, at in enumerate(self.pruning_schedule.level_epochs()):
            level = self.pruning_schedule.levels[k]
            if at <= self.current_epoch and level not in recorded:
                self.record_level(level)

    def record_level(self, level: float) -> None:
        if self.pruning_guard and not self.guard_state["stopped"]:
            self.guard_check(0, starts_level=False, at_level=True)
        net = self._plain_network()
        widths = read_layer_widths(net)
        reached = count_channels(widths) <= channels_at(level, self.pruning_log["original_channels"])
        if not reached:  # the guard stopped pruning above this level (or a retry left it short)
            record = level_record(level, self.current_epoch, len(self.pruning_log["steps"]), widths,
                                  count_parameters(net), None, None, None, None)
            record.update(reached=False, guard="stopped" if self.guard_state["stopped"] else "short")
            self.print_to_log_file(f"pruning level {level_name(level)}% not reached ({record['guard']}): "
                                   f"{count_channels(widths)} channels; no checkpoint or validation of it")
            self._append_level(record)
            return
        name = level_name(level)
        checkpoint, validation = f"checkpoint_level{name}.pth", f"validation_level{name}"
        self.print_to_log_file(f"pruning level {name}% reached after {self.current_epoch} epochs: saving "
                               f"{checkpoint}, validating into {validation}")
        self.current_epoch -= 1  # nnU-Net's checkpoints store current_epoch + 1
        try:
            self.save_checkpoint(f"{self.output_folder}/{checkpoint}")
        finally:
            self.current_epoch += 1
        dice = self.validate_into(validation)
        if level == self.pruning_schedule.levels[-1] or self.guard_state["stopped"]:
            self._final_validation = validation  # nnU-Net's final validation would predict the same network again
        record = level_record(level, self.current_epoch, len(self.pruning_log["steps"]), widths,
                              count_parameters(net), self._last_pseudo_dice(), dice, checkpoint, validation)
        record.update(reached=True, guard="stopped" if self.guard_state["stopped"] else "ok")
        self._append_level(record)

    def _append_level(self, record: dict) -> None:
        self.pruning_log["levels"].append(record)
        if self.local_rank == 0:
            write_log(self.output_folder, self.pruning_log)

    # -- the validation guard ----------------------------------------------------------------------------------------
    def guard_dice(self) -> float:
        """nnU-Net's pseudo-Dice of the current network on the guard's batches (summed over DDP ranks)."""
        self.network.eval()
        try:
            outputs = [self.validation_step({"data": b["data"], "target": _clone(b["target"])})
                       for b in self.guard_batches]
        finally:
            self.network.train()
        tp, fp, fn = (np.sum([o[key] for o in outputs], 0) for key in ("tp_hard", "fp_hard", "fn_hard"))
        if self.is_ddp:
            counts = torch.tensor(np.stack([tp, fp, fn]), dtype=torch.float64, device=self.device)  # NCCL: on GPU
            dist.all_reduce(counts)
            tp, fp, fn = counts.cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            dice = 2 * tp / (2 * tp + fp + fn)
        return float(np.nan_to_num(np.nanmean(dice))) if not np.all(np.isnan(dice)) else 0.0

    def guard_check(self, iteration: int, starts_level: bool, at_level: bool = False) -> bool:
        """Measure the guard; True when the next step may be taken (see the module docstring)."""
        dice = self.guard_dice()
        state = self.guard_state
        if starts_level:
            state["reference"] = dice
        threshold = self.pruning_guard_fraction * (state["reference"] or 0.0)
        if starts_level or self.last_good is None or dice >= threshold:
            state["retries"] = 0
            self.last_good = self._snapshot(dice)
            return True
        undone = self.pruning_log["steps"][self.last_good["steps_done"]:]
        retry = not at_level and state["retries"] < self.pruning_guard_retries and undone
        event = {"epoch": self.current_epoch, "iteration": iteration, "pseudo_dice": dice,
                 "reference": state["reference"], "threshold": threshold,
                 "action": "retry" if retry else "stop", "undone_steps": undone,
                 "back_to_step": self.last_good["steps_done"]}
        self._roll_back()
        self.pruning_log["guard"].append(event)
        self.print_to_log_file(f"validation guard: pseudo-Dice {dice:.4f} below {threshold:.4f} "
                               f"({self.pruning_guard_fraction} x the level's {state['reference']:.4f}); rolled back "
                               f"to step {event['back_to_step']}, " + ("retrying with a smaller step" if retry else
                                                                       "pruning stops at the last good state"))
        if not retry:
            state["stopped"] = True
            if self.local_rank == 0:
                write_log(self.output_folder, self.pruning_log)
            return False
        state["retries"] += 1
        self.prune_step(max(1, math.ceil(undone[-1]["removed"] / 2)), iteration)  # in place of the schedule's step
        return False

    def _snapshot(self, dice: float) -> dict:
        return {"network_weights": {k: v.detach().clone() for k, v in self._plain_network().state_dict().items()},
                "optimizer_state": copy.deepcopy(self.optimizer.state_dict()),
                "targeted_dropout": dict(self.targeted_dropout.probabilities) if self.targeted_dropout else None,
                "steps_done": len(self.pruning_log["steps"]), "pseudo_dice": dice}

    def _roll_back(self) -> None:
        good = self.last_good
        self._plain_network().load_state_dict(good["network_weights"])  # resizes to the good widths
        self.optimizer.load_state_dict(good["optimizer_state"])
        if self.is_ddp:
            self._wrap_ddp()
        if self.targeted_dropout is not None and good["targeted_dropout"] is not None:
            self.targeted_dropout.probabilities = dict(good["targeted_dropout"])
        del self.pruning_log["steps"][good["steps_done"]:]


class HoldThenPolyLR(PolyLRScheduler):
    """The initial learning rate until epoch ``hold_until``, then nnU-Net's poly decay over the remaining epochs."""

    def __init__(self, optimizer, initial_lr: float, max_steps: int, hold_until: int):
        self.hold_until = hold_until
        super().__init__(optimizer, initial_lr, max_steps)

    def step(self, current_step=None):
        if current_step is None or current_step == -1:
            current_step, self.ctr = self.ctr, self.ctr + 1
        done = max(0, current_step - self.hold_until) / max(1, self.max_steps - self.hold_until)
        for group in self.optimizer.param_groups:
            group["lr"] = self.initial_lr * (1 - done) ** self.exponent
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _to_cpu(batch: dict) -> dict:
    target = batch["target"]
    return {"data": batch["data"].detach().cpu().clone(),
            "target": [t.detach().cpu().clone() for t in target] if isinstance(target, list)
            else target.detach().cpu().clone()}


def _clone(target):
    return [t.clone() for t in target] if isinstance(target, list) else target.clone()
