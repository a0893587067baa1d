"""Checkpoints read safely by every trainer the package ships: ``SafeCheckpoints``, a mixin of the common bases.

Rules:

- nnU-Net's ``nnUNetTrainer.load_checkpoint`` unpickles with ``torch.load(weights_only=False)``, which runs whatever
  code the file names. ``SafeCheckpoints.load_checkpoint`` reads the file once with the package's loader
  (``nnunet_lunet.checkpoints.load_checkpoint``: ``weights_only=True``) and hands that dict to nnU-Net's own
  ``load_checkpoint`` (whose ``torch.load`` is served the dict, ``_Served``), so what nnU-Net restores from a checkpoint
  stays nnU-Net's code. It is the first base of ``recipes.nnUNetTrainerLeanRecipe``, ``recipes.nnUNetTrainerMomentum095``
  and ``budget.Budget``, so every shipped trainer (LUnet, recipe, budget, smoke, seeded, pruning) inherits it; the
  pruning trainers read their own state from ``read_checkpoint``'s dict.
- ``nnUNetv2_train ... --c`` and ``--val`` load through it. A file that is not a checkpoint the package can load
  safely (a pickle with a payload, a damaged file) is refused before anything in it runs: one ``error:`` line on
  stderr naming the file, exit code 2 (``refuse``), as the package's own commands do.
- What still unpickles outside the package (nnU-Net's own trainers, ``nnUNetv2_predict``, ``-pretrained_weights``):
  ``docs/safety.md``.
"""

import contextlib
import importlib
import sys
from typing import Iterator, Union

import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.checkpoints import load_checkpoint
from nnunet_lunet.errors import LUnetError

REFUSED_EXIT_CODE = 2  # the package's code for bad input (nnunet_lunet.cli)


def refuse(error: LUnetError) -> None:
    """End the training process as the package's commands end on bad input: one ``error:`` line, exit code 2."""
    print(f"error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(REFUSED_EXIT_CODE)


class _Served:
    """Stands in for ``torch`` in nnU-Net's trainer module while its ``load_checkpoint`` runs: ``load`` returns the
    checkpoint already read safely; everything else is torch's."""

    def __init__(self, checkpoint: dict):
        self.checkpoint = checkpoint

    def __getattr__(self, name):
        return getattr(torch, name)

    def load(self, *args, **kwargs) -> dict:
        return self.checkpoint


@contextlib.contextmanager
def _serving(checkpoint: dict) -> Iterator[None]:
    module = importlib.import_module(nnUNetTrainer.__module__)
    module.torch = _Served(checkpoint)
    try:
        yield
    finally:
        module.torch = torch


class SafeCheckpoints:
    """Mixin placed before a trainer class: checkpoints are read with ``weights_only=True`` (module rules)."""

    def read_checkpoint(self, filename_or_checkpoint: Union[dict, str]) -> dict:
        """The checkpoint dict (a dict given is returned as it is); a file that cannot be read safely ends the
        process with one ``error:`` line (``refuse``)."""
        if isinstance(filename_or_checkpoint, dict):
            return filename_or_checkpoint
        try:
            return load_checkpoint(filename_or_checkpoint, map_location=self.device)
        except LUnetError as error:
            refuse(error)

    def load_checkpoint(self, filename_or_checkpoint: Union[dict, str]) -> None:
        checkpoint = self.read_checkpoint(filename_or_checkpoint)
        # nnU-Net 2.8 fails when given a dict (it only assigns its checkpoint for a name): give it a name, serve the dict
        where = filename_or_checkpoint if isinstance(filename_or_checkpoint, str) else "checkpoint"
        with _serving(checkpoint):
            super().load_checkpoint(where)
