"""Training budgets for CPU runs, comparisons, tests and demos: the mixins behind ``_budget`` and ``_smoke`` trainers.

``Budget`` (``<trainer>_budget``): the budget is read from the environment when the trainer is created:
``NNUNET_LUNET_EPOCHS``, ``NNUNET_LUNET_ITERATIONS`` (training iterations per epoch) and
``NNUNET_LUNET_VAL_ITERATIONS``; unset, each takes nnU-Net's own value (1000 x 250 x 50). ``nnunet-lunet compare``
sets them for every run; nnU-Net records them in each fold's ``debug.json`` (``num_epochs``,
``num_iterations_per_epoch``), which is how a comparison tells runs of different budgets apart.
``SmokeBudget`` (``<trainer>_smoke``): the same, with defaults of 2 epochs x 5 iterations x 2 validation iterations:
a setup check, not a result. (Results made before the ``_budget`` names existed stretched ``_smoke`` trainers through
the same variables, so ``_smoke`` keeps reading them.)

A checkpoint is saved every ``SAVE_EVERY`` epochs (nnU-Net: 50), so that CPU runs can be continued with ``--c`` after
an interruption. ``NNUNET_LUNET_THREADS`` sets torch's thread count (nnU-Net sets it to the number of cores for
``-device cpu``): on a CPU shared with other jobs one thread per run is several times faster than threads that wait
for each other (measured: a LUnet16 training step 3.2 s with 1 thread, 9 s with 2, on 2 busy cores).
``NNUNET_LUNET_VAL_TTA=0`` runs the final validation without test-time mirroring (8x fewer forward passes in 3D;
predictions with the trained model keep nnU-Net's mirroring unless told otherwise).
``NNUNET_LUNET_VAL_THREADS=1`` runs the final validation's export and Dice with threads instead of spawned processes
(``validation_pools``).
``Budget`` is ``seeding.Seeded`` (``NNUNET_LUNET_SEED``) and ``safe_checkpoints.SafeCheckpoints`` (``weights_only=True``),
so the budget variants of nnU-Net's own trainer are seeded and load checkpoints safely too.
"""

import os

import torch

from nnunet_lunet.trainers.safe_checkpoints import SafeCheckpoints
from nnunet_lunet.trainers.seeding import Seeded
from nnunet_lunet.trainers.validation_pools import validation_pools

SMOKE_EPOCHS = 2
SMOKE_ITERATIONS = 5
SMOKE_VAL_ITERATIONS = 2
SAVE_EVERY = 5
BUDGET_VARIABLES = ("NNUNET_LUNET_EPOCHS", "NNUNET_LUNET_ITERATIONS", "NNUNET_LUNET_VAL_ITERATIONS")


def _positive_int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: expected a whole number >= 1 (or leave it unset for {default})")
    return int(value)


class Budget(SafeCheckpoints, Seeded):
    """Mixin placed before a trainer class: ``class X_budget(Budget, X)``. Overrides only the budget; without the
    environment variables it is nnU-Net's own (the trainer's class defaults)."""

    default_epochs = None  # None: the trainer's own value (nnU-Net: 1000 x 250 x 50)
    default_iterations = None
    default_val_iterations = None

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.num_epochs = _positive_int_from_env("NNUNET_LUNET_EPOCHS", self.default_epochs or self.num_epochs)
        self.num_iterations_per_epoch = _positive_int_from_env(
            "NNUNET_LUNET_ITERATIONS", self.default_iterations or self.num_iterations_per_epoch)
        self.num_val_iterations_per_epoch = _positive_int_from_env(
            "NNUNET_LUNET_VAL_ITERATIONS", self.default_val_iterations or self.num_val_iterations_per_epoch)
        self.save_every = SAVE_EVERY
        threads = os.environ.get("NNUNET_LUNET_THREADS")
        if threads:
            torch.set_num_threads(_positive_int_from_env("NNUNET_LUNET_THREADS", 1))

    def perform_actual_validation(self, *args, **kwargs):
        with validation_pools():
            if os.environ.get("NNUNET_LUNET_VAL_TTA", "1") != "0":
                return super().perform_actual_validation(*args, **kwargs)
            self.print_to_log_file("final validation without test-time mirroring (NNUNET_LUNET_VAL_TTA=0)")
            axes, self.inference_allowed_mirroring_axes = self.inference_allowed_mirroring_axes, None
            try:
                return super().perform_actual_validation(*args, **kwargs)
            finally:
                self.inference_allowed_mirroring_axes = axes


class SmokeBudget(Budget):
    """Mixin for ``X_smoke``: defaults of 2 epochs x 5 iterations x 2 validation iterations."""

    default_epochs = SMOKE_EPOCHS
    default_iterations = SMOKE_ITERATIONS
    default_val_iterations = SMOKE_VAL_ITERATIONS
