"""A short training budget for CPU runs, tests and demos: the ``_smoke`` trainer variants.

Default: 2 epochs x 5 training iterations x 2 validation iterations (nnU-Net's default is 1000 x 250 x 50).
The demo and benchmark stretch it without new classes through environment variables, read when the trainer is
created: ``NNUNET_LUNET_EPOCHS``, ``NNUNET_LUNET_ITERATIONS``, ``NNUNET_LUNET_VAL_ITERATIONS``.
A checkpoint is saved every ``SMOKE_SAVE_EVERY`` epochs (nnU-Net: 50), so that stretched CPU runs can be continued
with ``--c`` after an interruption. ``NNUNET_LUNET_THREADS`` sets torch's thread count (nnU-Net sets it to the
number of cores for ``-device cpu``): on a CPU shared with other jobs one thread per run is several times faster
than threads that wait for each other (measured: a LUnet16 training step 3.2 s with 1 thread, 9 s with 2, on 2 busy
cores). ``NNUNET_LUNET_VAL_TTA=0`` runs the final validation without test-time mirroring (8x fewer forward
passes in 3D; predictions with the trained model keep nnU-Net's mirroring unless told otherwise).
"""

import os

import torch

SMOKE_EPOCHS = 2
SMOKE_ITERATIONS = 5
SMOKE_VAL_ITERATIONS = 2
SMOKE_SAVE_EVERY = 5


def _positive_int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: expected a whole number >= 1 (or leave it unset for {default})")
    return int(value)


class SmokeBudget:
    """Mixin placed before a trainer class: ``class X_smoke(SmokeBudget, X)``. Overrides only the budget."""

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.num_epochs = _positive_int_from_env("NNUNET_LUNET_EPOCHS", SMOKE_EPOCHS)
        self.num_iterations_per_epoch = _positive_int_from_env("NNUNET_LUNET_ITERATIONS", SMOKE_ITERATIONS)
        self.num_val_iterations_per_epoch = _positive_int_from_env("NNUNET_LUNET_VAL_ITERATIONS",
                                                                   SMOKE_VAL_ITERATIONS)
        self.save_every = SMOKE_SAVE_EVERY
        threads = os.environ.get("NNUNET_LUNET_THREADS")
        if threads:
            torch.set_num_threads(_positive_int_from_env("NNUNET_LUNET_THREADS", 1))

    def perform_actual_validation(self, *args, **kwargs):
        if os.environ.get("NNUNET_LUNET_VAL_TTA", "1") != "0":
            return super().perform_actual_validation(*args, **kwargs)
        self.print_to_log_file("final validation without test-time mirroring (NNUNET_LUNET_VAL_TTA=0)")
        axes, self.inference_allowed_mirroring_axes = self.inference_allowed_mirroring_axes, None
        try:
            return super().perform_actual_validation(*args, **kwargs)
        finally:
            self.inference_allowed_mirroring_axes = axes
