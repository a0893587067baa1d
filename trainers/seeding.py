"""Seeded training, opt-in: ``NNUNET_LUNET_SEED=<int>`` makes a run repeatable on one machine with one set of versions.

nnU-Net seeds nothing: network initialisation and patch sampling use the global generators, and with
``nnUNet_n_proc_DA > 0`` its ``NonDetMultiThreadedAugmenter`` starts its augmentation workers with ``seeds=None``
(each reseeds from OS entropy) and hands out batches in whichever order the workers finish them.
With the variable set, ``Seeded`` (a mixin of every trainer the package ships):

- seeds Python's ``random``, NumPy and torch in the trainer process before the network is built (``initialize``);
- builds the augmentation with batchgenerators' ordered ``MultiThreadedAugmenter`` instead, with a seed per worker
  (training and validation each their own), and seeds ``random`` and torch in each worker as well (nnU-Net's
  transforms draw from NumPy and torch), so batches come in a fixed order with fixed augmentations;
- under DDP, each rank's seeds are offset by ``RANK_STRIDE`` times its rank, so ranks draw different patches.

Unset (or empty), nothing changes: nnU-Net's own, unseeded, behaviour. What it costs and what it cannot guarantee:
``docs/reproducibility.md``.
"""

import functools
import importlib
import os
import random
from typing import Optional

import numpy as np
import torch

SEED_VARIABLE = "NNUNET_LUNET_SEED"
RANK_STRIDE = 100_000  # seed offset of each DDP rank


def seed_from_env() -> Optional[int]:
    """The seed of ``NNUNET_LUNET_SEED``, or None when unset; ValueError for anything but a whole number >= 0."""
    value = os.environ.get(SEED_VARIABLE, "")
    if value == "":
        return None
    if not value.isdigit():
        raise ValueError(f"{SEED_VARIABLE}={value!r}: expected a whole number >= 0 (or leave it unset for nnU-Net's "
                         f"unseeded training)")
    return int(value)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def _seeded_set_thread_id(data_loader, base_seed: int, thread_id: int) -> None:
    """What an augmentation worker runs first (batchgenerators' producer, after seeding NumPy): seed the rest.
    Module-level, so that a data loader carrying it pickles (spawned workers)."""
    seed_everything(base_seed + thread_id)
    type(data_loader).set_thread_id(data_loader, thread_id)


class _OrderedAugmenter:
    """Stands in for ``NonDetMultiThreadedAugmenter`` in nnU-Net's trainer module while ``get_dataloaders`` runs:
    the ordered ``MultiThreadedAugmenter`` with a seed per worker, numbered from ``base_seed``."""

    def __init__(self, base_seed: int):
        self.base_seed = base_seed
        self.built = 0

    def __call__(self, data_loader, transform, num_processes, num_cached=2, seeds=None, pin_memory=False,
                 wait_time=0.02):
        from batchgenerators.dataloading.multi_threaded_augmenter import MultiThreadedAugmenter

        base = self.base_seed + 1000 * (self.built + 1)  # training and validation loaders draw apart
        self.built += 1
        data_loader.set_thread_id = functools.partial(_seeded_set_thread_id, data_loader, base)
        return MultiThreadedAugmenter(data_loader, transform, num_processes, num_cached_per_queue=num_cached,
                                      seeds=[base + i for i in range(num_processes)], pin_memory=pin_memory,
                                      wait_time=wait_time)


class Seeded:
    """Mixin placed before a trainer class; does nothing unless ``NNUNET_LUNET_SEED`` is set (module docstring)."""

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        seed = seed_from_env()
        # DDP ranks draw different patches, as unseeded nnU-Net's do (DDP copies rank 0's initial weights to all)
        self.training_seed = None if seed is None else seed + RANK_STRIDE * self.local_rank

    def initialize(self):
        if self.training_seed is not None and not self.was_initialized:
            self.print_to_log_file(f"seeded training: {SEED_VARIABLE}={self.training_seed}")
            seed_everything(self.training_seed)
        super().initialize()

    def get_dataloaders(self):
        if self.training_seed is None:
            return super().get_dataloaders()
        module = importlib.import_module("nnunetv2.training.nnUNetTrainer.nnUNetTrainer")
        original = module.NonDetMultiThreadedAugmenter
        module.NonDetMultiThreadedAugmenter = _OrderedAugmenter(self.training_seed)
        try:
            return super().get_dataloaders()
        finally:
            module.NonDetMultiThreadedAugmenter = original
