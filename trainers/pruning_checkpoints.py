"""Checkpoint I/O of the pruning trainers: the pruning state travels inside nnU-Net's checkpoint.

Rules:

- ``checkpoint['pruning']`` (``PruningTrainer._pruning_state``: widths, steps done, generator state,
  targeted-dropout probabilities, and what the gradual schedule and its guard add: schedule position, guard state,
  the last good state and the guard's batches) is written together with nnU-Net's checkpoint, in the same dict and the
  same single atomic write (``safe_output.save_torch``), so a checkpoint on disk either has its pruning state or is
  the previous one. nnU-Net's ``save_checkpoint`` builds the dict and writes it with its module's ``torch.save``;
  that one call is served by ``_CheckpointIO`` rather than copying nnU-Net's dict (and missing upstream changes).
- Checkpoints are read as by every shipped trainer (``safe_checkpoints.SafeCheckpoints``, ``weights_only=True``):
  once, and nnU-Net's own loading gets that dict.
- Resuming refuses a checkpoint whose widths differ from the plans but that carries no pruning state (it would
  otherwise pass for an unpruned run), widths that contradict the checkpoint's own weights, a missing
  ``pruning_log.json`` and the log of another run, each with a message naming the fix.
"""

import contextlib
import importlib
from typing import Optional, Union

import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.pruning.layer_widths import format_layer_widths, read_layer_widths
from nnunet_lunet.pruning.pruning_log import read_log
from nnunet_lunet.safe_output import save_torch


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


class PruningCheckpoints:
    """Mixin of ``PruningTrainer``: nnU-Net's ``save_checkpoint`` and ``load_checkpoint`` with the pruning state
    (see the module docstring). The trainer provides ``_pruning_state``, ``_plain_network``, ``_wrap_ddp``,
    ``_original_widths`` and ``restore_extra_pruning_state``."""

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
        # nnU-Net's own loading. The pruned network resizes itself to the checkpoint's widths in load_state_dict,
        # keeping its Parameter objects, so the optimizer (and its sliced state) stays valid. A DDP wrapper built
        # before (nnU-Net wraps in initialize) still holds the old tensors: wrap anew.
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
        if log is not None:
            log = self.log_as_at(log, checkpoint)
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
            # and so are levels recorded after it (a level is recorded after its epochs: "epoch" epochs trained);
            # their records are kept aside, so that every validation of every attempt stays reported
            levels = log.get("levels", [])
            log["levels"] = [r for r in levels if r["epoch"] < checkpoint["current_epoch"]]
            log["superseded_levels"] = log.get("superseded_levels", []) + levels[len(log["levels"]):]
            self.pruning_log = log
        self.pruning_generator.set_state(state["generator_state"].cpu())  # read onto the training device
        self._restored_dropout = state.get("targeted_dropout")  # applied when on_train_start builds the dropout
        self.restore_extra_pruning_state(state, checkpoint)
