"""``PruningTrainer``: the base of every pruning trainer. It prunes nnU-Net's PlainConvUNet or ResidualEncoderUNet
progressively while it trains, removing channels for real.

The schedule (class attributes, so users subclass for other settings): ``pruning_warmup_epochs`` of normal training,
then at the start of every ``pruning_every_n_epochs``-th epoch a pruning step removes ``pruning_fraction_per_step``
of the original prunable channels, chosen by ``pruning_criterion``, until ``pruning_target_fraction`` of the channels
(``pruning_target_kind = "channels"``) or parameters (``"parameters"``) remains; training then goes on at that size.
STAMP removes one channel per step, far too slow for nnU-Net's thousands of channels, hence a fraction per step.
``gradual_pruning.GradualPruning`` (a mixin; the ``_budget`` pruning trainers) replaces this by a gradual schedule
laid out over the run's budget through levels (75%, 50%, 25%), with steps before training iterations, a learning
rate held through pruning and a validation guard (see its docstring and ``nnunet_lunet.pruning.schedule``).

Bounds that keep every step trainable (``nnunet_lunet.pruning.layer_limits``), for every schedule:

- ``pruning_max_step_share``: one step takes at most this share of a layer's current channels;
- ``pruning_min_channels`` and ``pruning_min_width_fraction``: no layer goes below that many channels nor below that
  share of its original width (a target the minimum widths cannot reach is refused before training);
- ``pruning_reset_optimizer``: after every step the optimizer's state is cleared (Adam's moments start again), as
  STAMP re-creates Adam after every prune; the learning rate is the schedule's.

A pruning step: score channels on ``pruning_score_batches`` training batches (no weight update; STAMP's activation
criterion only), all-reduce the scores over DDP ranks, let the criterion choose on rank 0's generator within the
layers' limits and broadcast the decision, cut the channels and every coupled tensor (``nnunet_lunet.pruning.surgery``;
optimizer state is sliced along), rebuild the DDP wrapper, update STAMP's targeted dropout, and log the widths, the
removed channel indices and the step's wall time (scoring + surgery) to ``pruning_log.json``. The step runs after
nnU-Net stamps the epoch start, so an epoch's time in nnU-Net's log includes its pruning step.

DDP: a ``DistributedDataParallel`` wrapper keeps the parameter tensors it was built with, so the network is wrapped
anew (``_wrap_ddp``) whenever its parameters change shape: after each pruning step and after loading a checkpoint
(the pruned network's ``load_state_dict`` resizes the parameters under nnU-Net's wrapper). Without it the second
training iteration fails in DDP's gradient reduction.

The network class is the one that prunes the plans' network (``architecture.pruned_network_class``:
``PrunedPlainConvUNet`` or ``PrunedResidualEncoderUNet``; any other network is refused before training). nnU-Net
builds it full-size from the plans (in training, ``--c``, ``--val`` and ``nnUNetv2_predict``) and its
``load_state_dict`` resizes it to the checkpoint's widths, so no pickling and no per-fold plans are needed.
Checkpoints carry the pruning state (``pruning_checkpoints``) so that ``--c`` resumes exactly.

The trainers by criterion (``nnUNetTrainerSTAMP`` ...) and their ``_budget`` and ``_smoke`` variants are made from
one table, ``pruning_trainers.CRITERION_TRAINERS``.
"""

import json
import time
from collections import defaultdict
from dataclasses import asdict
from typing import Optional

import numpy as np
import torch
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
from nnunet_lunet.pruning.layer_limits import check_floors_allow, step_limits
from nnunet_lunet.pruning.layer_widths import count_channels, current_widths, format_layer_widths, read_layer_widths
from nnunet_lunet.pruning.pruning_log import new_log, step_record, write_log
from nnunet_lunet.pruning.schedule import PruningSchedule, channels_at, check_target_reachable
from nnunet_lunet.pruning.surgery import prune_many
from nnunet_lunet.pruning.targeted_dropout import TargetedDropout
from nnunet_lunet.trainers.pruning_checkpoints import PruningCheckpoints
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe


class PruningTrainer(PruningCheckpoints, nnUNetTrainerLeanRecipe):
    """Prunes while training (see the module docstring), with the lean recipe (Adam lr 1e-3, poly), as the networks
    it produces become thin (see ``recipes``). Subclasses set ``pruning_criterion``."""

    pruning_criterion = "stamp"
    pruning_warmup_epochs = 50
    pruning_every_n_epochs = 10
    pruning_fraction_per_step = 0.05
    pruning_target_fraction = 0.1
    pruning_target_kind = "channels"
    pruning_score_batches = 5
    pruning_targeted_dropout = True
    pruning_seed = 0
    # Provisional until a sweep measures them (docs/pruning.md): a step takes at most a fifth of a layer; no layer
    # below 8 channels or 5% of its width (a 10% target stays reachable on nnU-Net's usual widths); Adam reset as STAMP.
    pruning_max_step_share = 0.2
    pruning_min_channels = 8
    pruning_min_width_fraction = 0.05
    pruning_reset_optimizer = True

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
        self._original_layer_widths: Optional[dict] = None  # {layer name: width} before pruning

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

    def _full_network(self) -> nn.Module:
        """The plans' network, unpruned. Built under a forked random state: its initialisation must not move torch's
        generator, or a resumed run (which builds it at other points) would draw other batches than the
        uninterrupted one."""
        with torch.random.fork_rng(devices=[]):
            return self.build_network_architecture(self.plans_manager, self.configuration_manager,
                                                   self.num_input_channels, self.label_manager.num_segmentation_heads,
                                                   self.enable_deep_supervision)

    def _original_widths(self):
        """The widths the plans give, i.e. before any pruning."""
        full = self._full_network()
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

    def restore_extra_pruning_state(self, state: dict, checkpoint: dict) -> None:
        """What a subclass keeps in the pruning state beyond the base's (``gradual_pruning``); nothing here."""

    def log_as_at(self, log: dict, checkpoint: dict) -> dict:
        """The run's log as it was when ``checkpoint`` was written, as far as a subclass changed more than its
        steps and levels after it (``gradual_pruning``: the guard's rollbacks); the log as read here."""
        return log

    def _step_limits(self) -> dict:
        """``{layer name: most channels the next step may remove}`` (``layer_limits.step_limits``)."""
        if self._original_layer_widths is None:
            self._original_layer_widths = current_widths(self._full_network())
        return step_limits(current_widths(self._plain_network()), self._original_layer_widths,
                           self.pruning_max_step_share, self.pruning_min_channels, self.pruning_min_width_fraction)

    # -- nnU-Net hooks -----------------------------------------------------------------------------------------------
    def on_train_start(self):
        if not self.was_initialized:
            self.initialize()
        original, _ = self._original_widths()
        try:  # before nnU-Net starts its data loader workers: fail fast and clean
            check_target_reachable(original, self.pruning_target_fraction, self.pruning_target_kind,
                                   net=self._plain_network())
            self._original_layer_widths = current_widths(self._full_network())
            if self.pruning_target_kind == "channels":
                check_floors_allow(self._original_layer_widths,
                                   channels_at(self.pruning_target_fraction, count_channels(original)),
                                   self.pruning_min_channels, self.pruning_min_width_fraction)
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

    def prune_step(self, n: Optional[int] = None, iteration: int = 0) -> dict:
        """One pruning step (see the module docstring) removing ``n`` channels (fewer when the layers' limits allow
        fewer); ``n=None``: as many as the fixed schedule says, nothing once its target is reached. ``iteration``:
        the training iteration of the epoch it runs before (logged). A step of 0 channels (a gradual schedule's
        rounding) is logged and changes nothing. Returns the step's log record (None when nothing was due)."""
        net = self._plain_network()
        log = self.pruning_log
        if n is None:
            n = self.pruning_schedule.n_to_remove(log["original_channels"], count_channels(read_layer_widths(net)),
                                                  log["original_parameters"], count_parameters(net))
            if n == 0:
                return None
        started = time.perf_counter()
        decision, widths = {}, read_layer_widths(net)
        if n > 0:
            scores = None
            if self.criterion.needs_activations or self.targeted_dropout is not None:
                scores = all_reduce_scores(collect_activation_scores(net, self.dataloader_train,
                                                                     max_batches=self.pruning_score_batches))
            decision = broadcast_decision(self.criterion.select(net, n, scores, self.pruning_generator,
                                                                self._step_limits()))
            widths = prune_many(net, decision, self.optimizer)
            if self.pruning_reset_optimizer:
                self.optimizer.state = defaultdict(dict)  # Adam's moments start again, as STAMP re-creates Adam
            if self.is_ddp:  # DDP holds the old parameters: wrap the pruned module anew
                self._wrap_ddp()
            if self.targeted_dropout is not None:
                self.targeted_dropout.update(remaining_scores(scores, decision))
        record = step_record(len(log["steps"]) + 1, self.current_epoch, decision, widths, count_parameters(net),
                             time.perf_counter() - started, iteration)
        record["asked"] = n
        log["steps"].append(record)
        self.print_to_log_file(f"pruning step {record['step']} ({self.pruning_criterion}): removed "
                               f"{record['removed']} of {n} channels asked, {record['channels']} left, "
                               f"{record['parameters']} parameters, {record['seconds']:.2f} s; "
                               f"widths {format_layer_widths(widths)}")
        if self.local_rank == 0:
            write_log(self.output_folder, log)
        return record
