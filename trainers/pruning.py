"""Trainers that prune nnU-Net's PlainConvUNet or ResidualEncoderUNet progressively while it trains, removing channels
for real.

The schedule (class attributes, so users subclass for other settings): ``pruning_warmup_epochs`` of normal training,
then at the start of every ``pruning_every_n_epochs``-th epoch a pruning step removes ``pruning_fraction_per_step``
of the original prunable channels, chosen by ``pruning_criterion``, until ``pruning_target_fraction`` of the channels
(``pruning_target_kind = "channels"``) or parameters (``"parameters"``) remains; training then goes on at that size.
STAMP removes one channel per step, far too slow for nnU-Net's thousands of channels, hence a fraction per step.
``GradualPruning`` (a mixin; the ``_budget`` pruning trainers) replaces this by a gradual schedule laid out over the
run's budget through levels (75%, 50%, 25% of the channels), with steps before training iterations, and records each
level's network, checkpoint and nnU-Net validation (see its docstring and ``nnunet_lunet.pruning.schedule``).

A pruning step: score channels on ``pruning_score_batches`` training batches (no weight update; STAMP's activation
criterion only), all-reduce the scores over DDP ranks, let the criterion choose on rank 0's generator and broadcast
the decision, cut the channels and every coupled tensor (``nnunet_lunet.pruning.surgery``; SGD momentum is sliced
along), rebuild the DDP wrapper, update STAMP's targeted dropout, and log the widths, the removed channel indices and
the step's wall time (scoring + surgery) to ``pruning_log.json``. The step runs after nnU-Net stamps the epoch start,
so an epoch's time in nnU-Net's log includes its pruning step.

DDP: a ``DistributedDataParallel`` wrapper keeps the parameter tensors it was built with, so the network is wrapped
anew (``_wrap_ddp``) whenever its parameters change shape: after each pruning step and after loading a checkpoint
(the pruned network's ``load_state_dict`` resizes the parameters under nnU-Net's wrapper). Without it the second
training iteration fails in DDP's gradient reduction.

The network class is the one that prunes the plans' network (``architecture.pruned_network_class``:
``PrunedPlainConvUNet`` or ``PrunedResidualEncoderUNet``; any other network is refused before training). nnU-Net
builds it full-size from the plans (in training, ``--c``,
``--val`` and ``nnUNetv2_predict``) and its ``load_state_dict`` resizes it to the checkpoint's widths, so no
pickling and no per-fold plans are needed. Checkpoints also carry ``checkpoint['pruning']`` (widths, steps done,
generator state, targeted-dropout probabilities) so that ``nnUNetv2_train ... --c`` resumes at the exact widths,
schedule position and dropout. The pruning state is written together with nnU-Net's checkpoint, in the same dict and
the same single atomic write (``save_checkpoint``), so a checkpoint on disk either has its pruning state or is the
previous one. Checkpoints are read as by every shipped trainer (``safe_checkpoints``, ``weights_only=True``).
Resuming refuses a checkpoint whose widths differ from the plans but that
carries no pruning state (it would otherwise pass for an unpruned run).
"""

import contextlib
import importlib
import json
import os
import shutil
import time
from dataclasses import asdict
from typing import Optional, Union

import numpy as np
import torch
import torch.distributed as dist
from batchgenerators.utilities.file_and_folder_operations import load_json, save_json
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager, PlansManager
from torch import nn
from torch._dynamo import OptimizedModule
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_lunet.architecture import architecture_of, pruned_network_class
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.plans_networks import build_network
from nnunet_lunet.pruning.activations import collect_activation_scores, remaining_scores
from nnunet_lunet.pruning.criteria import get_criterion
from nnunet_lunet.pruning.distributed import all_reduce_scores, broadcast_decision
from nnunet_lunet.pruning.layer_widths import count_channels, format_layer_widths, read_layer_widths
from nnunet_lunet.pruning.pruning_log import level_record, new_log, read_log, step_record, write_log
from nnunet_lunet.pruning.schedule import (GradualSchedule, PruningSchedule, channels_at, check_target_reachable,
                                           level_name)
from nnunet_lunet.pruning.surgery import prune_many
from nnunet_lunet.pruning.targeted_dropout import TargetedDropout
from nnunet_lunet.safe_output import save_torch
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe


class _CheckpointIO:
    """Stands in for ``torch`` in nnU-Net's trainer module while its ``save_checkpoint`` runs: ``save`` adds the
    pruning state to nnU-Net's dict and writes it once, atomically. Everything else is torch's (loading:
    ``safe_checkpoints``)."""

    def __init__(self, pruning_state: Optional[dict] = None):
        self.pruning_state = pruning_state
        self.calls = []

    def __getattr__(self, name):
        return getattr(torch, name)

    def save(self, checkpoint, filename, *args, **kwargs):
        save_torch({**checkpoint, "pruning": self.pruning_state}, filename)
        self.calls.append(("save", filename))

    @contextlib.contextmanager
    def serving(self):
        module = importlib.import_module(nnUNetTrainer.__module__)
        module.torch = self
        try:
            yield
        finally:
            module.torch = torch


class nnUNetTrainerSTAMP(nnUNetTrainerLeanRecipe):
    """STAMP (Dinsdale et al. 2022): activation-based criterion and targeted dropout, on nnU-Net's own network.

    Trained with the lean recipe (Adam lr 1e-3, poly), as the networks it produces become thin (see ``recipes``)."""

    pruning_criterion = "stamp"
    pruning_warmup_epochs = 50
    pruning_every_n_epochs = 10
    pruning_fraction_per_step = 0.05
    pruning_target_fraction = 0.1
    pruning_target_kind = "channels"
    pruning_score_batches = 5
    pruning_targeted_dropout = True
    pruning_seed = 0

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.pruning_schedule = PruningSchedule(self.pruning_warmup_epochs, self.pruning_every_n_epochs,
                                                self.pruning_fraction_per_step, self.pruning_target_fraction,
                                                self.pruning_target_kind)
        self.criterion = get_criterion(self.pruning_criterion)  # unknown names fail here, before any training
        self.pruning_generator = torch.Generator().manual_seed(self.pruning_seed)
        self.pruning_log: Optional[dict] = None
        self.targeted_dropout: Optional[TargetedDropout] = None
        self._restored_dropout: Optional[dict] = None  # targeted-dropout probabilities of a resumed checkpoint

    @classmethod
    def build_network_architecture(cls, plans_manager: PlansManager, configuration_manager: ConfigurationManager,
                                   num_input_channels: int, num_output_channels: int,
                                   enable_deep_supervision: bool = True) -> nn.Module:
        # The planned network, as a class that can be pruned and that loads checkpoints of any widths.
        architecture = architecture_of(configuration_manager)
        pruned_class = pruned_network_class(architecture, f"{cls.__name__}: this configuration")
        return build_network(dict(architecture, network_class_name=pruned_class), num_input_channels,
                             num_output_channels, enable_deep_supervision)

    def _do_i_compile(self):
        # Every pruning step changes the shapes; recompiling after each costs more than compiling saves.
        return False

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _plain_network(self) -> nn.Module:
        mod = self.network.module if self.is_ddp else self.network
        return mod._orig_mod if isinstance(mod, OptimizedModule) else mod

    def _original_widths(self):
        """The widths the plans give, i.e. before any pruning."""
        full = self.build_network_architecture(self.plans_manager, self.configuration_manager,
                                               self.num_input_channels, self.label_manager.num_segmentation_heads,
                                               self.enable_deep_supervision)
        return read_layer_widths(full), count_parameters(full)

    def _wrap_ddp(self) -> None:
        """Wrap the plain network in a new DDP (nnU-Net's wrapper keeps the parameter tensors it was built with).

        A collective: every rank calls it at the same point. ``device_ids`` only on CUDA (as nnU-Net: one GPU per
        rank); on the CPU (gloo) DDP takes none."""
        net = self._plain_network()
        self.network = DDP(net, device_ids=[self.local_rank] if self.device.type == "cuda" else None)

    def _pruning_state(self) -> dict:
        return {"layer_widths": read_layer_widths(self._plain_network()),
                "steps_done": len(self.pruning_log["steps"]) if self.pruning_log else 0,
                "criterion": self.pruning_criterion, "generator_state": self.pruning_generator.get_state(),
                "targeted_dropout": dict(self.targeted_dropout.probabilities) if self.targeted_dropout else None}

    # -- nnU-Net hooks -----------------------------------------------------------------------------------------------
    def on_train_start(self):
        if not self.was_initialized:
            self.initialize()
        original, _ = self._original_widths()
        try:  # before nnU-Net starts its data loader workers: fail fast and clean
            check_target_reachable(original, self.pruning_target_fraction, self.pruning_target_kind,
                                   net=self._plain_network())
        except ValueError as e:
            raise LUnetError(f"{self.__class__.__name__}: {e}") from None
        super().on_train_start()
        self.start_pruning()

    def start_pruning(self) -> None:
        """The pruning log (a new one, unless ``load_checkpoint`` restored the run's) and the targeted dropout (at
        the checkpoint's probabilities when resuming); called by ``on_train_start`` once the network is built."""
        schedule = json.loads(json.dumps(asdict(self.pruning_schedule)))  # as the log stores it
        if self.pruning_log is None:  # a fresh run (load_checkpoint sets it when resuming)
            original, original_params = self._original_widths()
            self.pruning_log = new_log(self.pruning_criterion, schedule, original, original_params)
        elif self.pruning_log["schedule"] != schedule:
            raise LUnetError(f"{self.output_folder} was pruned on the schedule {self.pruning_log['schedule']}, this "
                             f"run's is {schedule} (a gradual schedule follows the budget): continue with the run's "
                             f"budget (NNUNET_LUNET_EPOCHS, NNUNET_LUNET_ITERATIONS), or train a new run")
        self.pruning_log.setdefault("levels", [])  # logs written before levels existed
        if self.pruning_targeted_dropout:
            self.targeted_dropout = TargetedDropout(self._plain_network())
            if self._restored_dropout is not None:
                self.targeted_dropout.probabilities = dict(self._restored_dropout)
        if self.local_rank == 0:
            write_log(self.output_folder, self.pruning_log)

    def on_epoch_start(self):
        super().on_epoch_start()  # nnU-Net stamps the epoch's start: the epoch's time includes its pruning step
        self.prune_at_epoch_start()

    def prune_at_epoch_start(self) -> None:
        """The fixed schedule's step, if this epoch has one."""
        if self.pruning_schedule.is_pruning_epoch(self.current_epoch):
            self.prune_step()

    def _last_pseudo_dice(self) -> float:
        """Mean foreground pseudo-Dice of the last epoch trained (nnU-Net's, from its validation iterations)."""
        return float(np.nanmean(self.logger.get_value("dice_per_class_or_region", step=-1)))

    def on_epoch_end(self):
        this_epoch = [s for s in self.pruning_log["steps"] if s["epoch"] == self.current_epoch]
        if this_epoch:
            for step in this_epoch:
                step["pseudo_dice"] = self._last_pseudo_dice()
            if self.local_rank == 0:
                write_log(self.output_folder, self.pruning_log)
        super().on_epoch_end()

    def prune_step(self, n: Optional[int] = None, iteration: int = 0) -> None:
        """One pruning step (see the module docstring) removing ``n`` channels; ``n=None``: as many as the fixed
        schedule says, nothing once its target is reached. ``iteration``: the training iteration of the epoch it
        runs before (logged). A step of 0 channels (a gradual schedule's rounding) is logged and changes nothing."""
        net = self._plain_network()
        log = self.pruning_log
        if n is None:
            n = self.pruning_schedule.n_to_remove(log["original_channels"], count_channels(read_layer_widths(net)),
                                                  log["original_parameters"], count_parameters(net))
            if n == 0:
                return
        started = time.perf_counter()
        decision, widths = {}, read_layer_widths(net)
        if n > 0:
            scores = None
            if self.criterion.needs_activations or self.targeted_dropout is not None:
                scores = all_reduce_scores(collect_activation_scores(net, self.dataloader_train,
                                                                     max_batches=self.pruning_score_batches))
            decision = broadcast_decision(self.criterion.select(net, n, scores, self.pruning_generator))
            widths = prune_many(net, decision, self.optimizer)
            if self.is_ddp:  # DDP holds the old parameters: wrap the pruned module anew
                self._wrap_ddp()
            if self.targeted_dropout is not None:
                self.targeted_dropout.update(remaining_scores(scores, decision))
        record = step_record(len(log["steps"]) + 1, self.current_epoch, decision, widths, count_parameters(net),
                             time.perf_counter() - started, iteration)
        log["steps"].append(record)
        self.print_to_log_file(f"pruning step {record['step']} ({self.pruning_criterion}): removed "
                               f"{record['removed']} channels, {record['channels']} left, "
                               f"{record['parameters']} parameters, {record['seconds']:.2f} s; "
                               f"widths {format_layer_widths(widths)}")
        if self.local_rank == 0:
            write_log(self.output_folder, log)

    def save_checkpoint(self, filename: str) -> None:
        if self.local_rank != 0 or self.disable_checkpointing:
            super().save_checkpoint(filename)  # writes nothing (or says checkpointing is disabled)
            return
        # nnU-Net builds its checkpoint dict and writes it with its module's torch.save. Rather than copy that dict
        # (and miss upstream changes), that one call is served by _CheckpointWriter: it adds the pruning state to the
        # dict and writes it once, atomically (unique temporary, fsync, os.replace), so a checkpoint on disk either
        # has its pruning state or is the previous one.
        io = _CheckpointIO(pruning_state=self._pruning_state())
        with io.serving():
            super().save_checkpoint(filename)
        if io.calls != [("save", filename)]:
            raise RuntimeError(f"nnU-Net's save_checkpoint did not write {filename} with one torch.save, as {__name__} "
                               f"expects: the pruning state would be lost (nnU-Net changed; update the trainer)")

    def load_checkpoint(self, filename_or_checkpoint: Union[dict, str]) -> None:
        # Read once by the shared rule (safe_checkpoints.SafeCheckpoints: weights_only=True), which hands the dict to
        # nnU-Net's own loading. The pruned
        # network resizes itself to the checkpoint's widths in load_state_dict, keeping its Parameter objects, so the
        # optimizer (and its sliced state) stays valid. A DDP wrapper built before (nnU-Net wraps in initialize)
        # still holds the old tensors: wrap anew.
        checkpoint = self.read_checkpoint(filename_or_checkpoint)
        where = filename_or_checkpoint if isinstance(filename_or_checkpoint, str) else "the checkpoint"
        super().load_checkpoint(checkpoint)
        if self.is_ddp:
            self._wrap_ddp()
        self._restore_pruning_state(checkpoint, where)

    def _restore_pruning_state(self, checkpoint: dict, where: str = "the checkpoint") -> None:
        state = checkpoint.get("pruning")
        widths = read_layer_widths(self._plain_network())
        if state is None:
            # An unpruned run's checkpoint (-pretrained_weights is handled by nnU-Net itself), unless its widths say
            # it was pruned: then its pruning state was lost (e.g. written by another tool) and resuming would
            # restart the schedule from step 0 at the wrong widths.
            if widths != self._original_widths()[0]:
                raise LUnetError(f"{where} holds a pruned network (widths {format_layer_widths(widths)}) but no "
                                 f"pruning state: it was not written by a pruning trainer; resume from a checkpoint "
                                 f"this trainer wrote (move this one away: --c then takes checkpoint_latest.pth or "
                                 f"checkpoint_best.pth), or start again without --c")
            return
        if state["layer_widths"] != widths:
            raise LUnetError(f"checkpoint widths {format_layer_widths(state['layer_widths'])} do not match its own "
                             f"weights {format_layer_widths(widths)}: the checkpoint is damaged or edited")
        log = read_log(self.output_folder) if self.output_folder else None
        if log is None and state["steps_done"] > 0:
            raise LUnetError(f"{self.output_folder} has a pruned checkpoint but no pruning_log.json: put the run's "
                             f"log back, or export the widths and train the exported configuration instead")
        if log is not None:
            done = state["steps_done"]
            if len(log["steps"]) < done or (done and log["steps"][done - 1]["layer_widths"] != widths):
                raise LUnetError(f"{self.output_folder}/pruning_log.json does not match the checkpoint (which has "
                                 f"{done} pruning steps and widths {format_layer_widths(widths)}): it belongs to "
                                 f"another run; move it away or resume from the matching checkpoint")
            log["steps"] = log["steps"][:done]  # steps taken after this checkpoint are redone
            # and so are levels recorded after it (a level is recorded after its epochs: "epoch" epochs trained)
            log["levels"] = [r for r in log.get("levels", []) if r["epoch"] < checkpoint["current_epoch"]]
            self.pruning_log = log
        self.pruning_generator.set_state(state["generator_state"].cpu())  # read onto the training device
        self._restored_dropout = state.get("targeted_dropout")  # applied when on_train_start builds the dropout


class nnUNetTrainerPruneRandomInLayer(nnUNetTrainerSTAMP):
    """The paper's alternative: the layer STAMP would prune, but a random channel in it."""

    pruning_criterion = "random_in_stamp_layer"


class nnUNetTrainerPruneWidest(nnUNetTrainerSTAMP):
    """The paper's alternative: a random channel of the currently widest layer (no activation pass needed)."""

    pruning_criterion = "widest_layer"
    pruning_targeted_dropout = False


class nnUNetTrainerPruneL1Unnormalised(nnUNetTrainerSTAMP):
    """The control for claim (d): the smallest filter L1 norms across all layers, without STAMP's per-layer
    normalisation (does a criterion that is not normalised per layer also prune the widest layers first?)."""

    pruning_criterion = "l1_unnormalised"
    pruning_targeted_dropout = False


class GradualPruning:
    """Mixin placed before a pruning trainer: ``class X(GradualPruning, nnUNetTrainerSTAMP)``. Prunes on the gradual
    schedule of ``nnunet_lunet.pruning.schedule.GradualSchedule``, laid out over the run's budget (``num_epochs`` x
    ``num_iterations_per_epoch``, known once the trainer is built, so the schedule is made in ``on_train_start``)
    through ``pruning_levels``; its steps run before training iterations, inside epochs.

    At each level, when its training ends (just before the schedule goes below it; the last at the end of training),
    the trainer records a ``levels`` entry in ``pruning_log.json`` (``pruning_log``), saves the network as
    ``checkpoint_level75.pth`` (etc.; ``current_epoch`` is the epochs trained, as in nnU-Net's final checkpoint) and
    runs nnU-Net's own final validation (``perform_actual_validation``, with deep supervision off, all DDP ranks) on
    it into ``validation_level75/`` (nnU-Net's ``summary.json``). A level is recorded between epochs (after nnU-Net's
    epoch-end stamp), so its validation time is in no epoch's time; a run continued from a checkpoint written before
    a level was recorded records it again at the start of the next epoch.

    The last level is recorded at the end of training, so its network is the final one: it is validated once, into
    ``validation_level25/``, and nnU-Net's final validation that ``nnUNetv2_train`` runs next puts a copy of it into
    ``validation/`` (with ``summary.json``'s prediction paths pointing there) instead of predicting the same cases
    again. ``validation_levelNN/`` is always the level's network; ``validation/`` is nnU-Net's final validation, run
    for real when the network is another one (``--val_best`` loads ``checkpoint_best.pth``; ``--val`` in a later
    call) or when it must write probabilities (``--npz``)."""

    pruning_levels = (0.75, 0.5, 0.25)
    pruning_warmup_fraction = 0.2
    pruning_prune_fraction = 0.5
    pruning_steps_per_level = 10
    pruning_target_fraction = 0.25  # the last level (checked against the net before training)

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self._iteration = 0  # training iterations of the current epoch so far
        self._final_validation: Optional[str] = None  # the last level's validation folder, while it is the network's

    def make_gradual_schedule(self) -> GradualSchedule:
        try:
            return GradualSchedule(self.num_epochs, self.num_iterations_per_epoch, tuple(self.pruning_levels),
                                   self.pruning_warmup_fraction, self.pruning_prune_fraction,
                                   self.pruning_steps_per_level)
        except ValueError as e:
            raise LUnetError(f"{self.__class__.__name__}: {e}") from None

    def on_train_start(self):
        self.pruning_schedule = self.make_gradual_schedule()
        self.pruning_target_fraction = self.pruning_schedule.levels[-1]
        super().on_train_start()

    def prune_at_epoch_start(self) -> None:
        # No step here (they run before training iterations); a run continued from a checkpoint written before a
        # level was recorded records it now.
        self.record_due_levels()

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
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

    def load_checkpoint(self, filename_or_checkpoint: Union[dict, str]) -> None:
        super().load_checkpoint(filename_or_checkpoint)
        self._final_validation = None  # another network (e.g. --val_best): nnU-Net's validation runs for real

    def perform_actual_validation(self, save_probabilities: bool = False):
        """nnU-Net's final validation, or, right after the last level was validated on the same network, a copy of
        that validation (see the class docstring)."""
        level_folder, self._final_validation = self._final_validation, None
        if level_folder is None or save_probabilities:
            return super().perform_actual_validation(save_probabilities)
        self.print_to_log_file(f"final validation: the network is the last level's, validated into {level_folder}; "
                               f"copying it to validation/ rather than predicting the cases again")
        if self.local_rank == 0:
            target = os.path.join(self.output_folder, "validation")
            staging = target + ".partial"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(os.path.join(self.output_folder, level_folder), staging)
            summary = _move_summary_paths(os.path.join(staging, "summary.json"),
                                          os.path.join(self.output_folder, level_folder), target)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
            for label in summary["mean"]:  # what nnU-Net's validation reports, as it reports it
                self.logger.log_summary(f"final_val/class_{label}_dice", summary["mean"][label]["Dice"])
            self.logger.log_summary("final_val/foreground_dice", summary["foreground_mean"]["Dice"])
            self.print_to_log_file("Mean Validation Dice: ", summary["foreground_mean"]["Dice"],
                                   also_print_to_console=True)
        if self.is_ddp:
            dist.barrier()

    # -- the schedule's steps and levels ---------------------------------------------------------------------------
    def take_due_steps(self, iteration: int) -> None:
        """Take the schedule's steps due before ``iteration`` of the current epoch that the run has not taken."""
        steps, log = self.pruning_schedule.steps(), self.pruning_log
        due = self.pruning_schedule.steps_due(self.current_epoch, iteration)
        while len(log["steps"]) < due:
            step = steps[len(log["steps"])]
            current = count_channels(read_layer_widths(self._plain_network()))
            self.prune_step(current - channels_at(step.fraction, log["original_channels"]), iteration)

    def record_due_levels(self) -> None:
        """Record every level whose training has ended by now (``current_epoch`` epochs trained) and that the log
        does not hold yet."""
        recorded = {r["level"] for r in self.pruning_log["levels"]}
        for k, at in enumerate(self.pruning_schedule.level_epochs()):
            level = self.pruning_schedule.levels[k]
            if at <= self.current_epoch and level not in recorded:
                self.record_level(level)

    def record_level(self, level: float) -> None:
        name = level_name(level)
        checkpoint, validation = f"checkpoint_level{name}.pth", f"validation_level{name}"
        self.print_to_log_file(f"pruning level {name}% reached after {self.current_epoch} epochs: saving "
                               f"{checkpoint}, validating into {validation}")
        self.current_epoch -= 1  # nnU-Net's checkpoints store current_epoch + 1
        try:
            self.save_checkpoint(os.path.join(self.output_folder, checkpoint))
        finally:
            self.current_epoch += 1
        dice = self.validate_into(validation)
        if level == self.pruning_schedule.levels[-1]:
            self._final_validation = validation  # nnU-Net's final validation would predict the same network again
        net = self._plain_network()
        record = level_record(level, self.current_epoch, len(self.pruning_log["steps"]), read_layer_widths(net),
                              count_parameters(net), self._last_pseudo_dice(), dice, checkpoint, validation)
        self.pruning_log["levels"].append(record)
        if self.local_rank == 0:
            write_log(self.output_folder, self.pruning_log)

    def validate_into(self, folder: str) -> Optional[float]:
        """nnU-Net's full validation of the current network into ``<fold>/<folder>``; returns its foreground mean
        Dice (None on ranks other than 0). nnU-Net writes to ``<output_folder>/validation``: it runs with the output
        folder set to ``<folder>.partial`` and the result is moved in place, with ``summary.json``'s prediction
        paths rewritten to the new place."""
        target, staging = os.path.join(self.output_folder, folder), os.path.join(self.output_folder, folder + ".partial")
        if self.local_rank == 0:
            for old in (target, staging):  # ours: left by a run continued from before this level
                shutil.rmtree(old, ignore_errors=True)
        if self.is_ddp:
            dist.barrier()
        output_folder, self.output_folder = self.output_folder, staging
        try:
            self.perform_actual_validation(False)
        finally:
            self.output_folder = output_folder
            self.set_deep_supervision_enabled(self.enable_deep_supervision)  # nnU-Net turns it on, whatever it was
        if self.local_rank != 0:
            return None
        written = os.path.join(staging, "validation")
        os.replace(written, target)
        os.rmdir(staging)
        summary = _move_summary_paths(os.path.join(target, "summary.json"), written, target)
        return float(summary["foreground_mean"]["Dice"])


def _move_summary_paths(summary_file: str, old: str, new: str) -> dict:
    """Rewrite the prediction paths of nnU-Net's validation ``summary.json`` from folder ``old`` to ``new``;
    returns the summary."""
    summary = load_json(summary_file)
    for case in summary["metric_per_case"]:
        case["prediction_file"] = os.path.join(new, os.path.relpath(case["prediction_file"], old))
    save_json(summary, summary_file, sort_keys=True)  # as nnU-Net's save_summary_json
    return summary
