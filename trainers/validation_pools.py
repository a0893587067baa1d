"""Opt-in: nnU-Net's final validation with threads instead of spawned worker processes (``NNUNET_LUNET_VAL_THREADS=1``).

nnU-Net's ``perform_actual_validation`` exports the predicted segmentations through a spawn pool of
``nnUNet_def_n_proc`` processes, and ``compute_metrics_on_folder`` starts another spawn pool for the Dice. Every
spawned worker imports torch and nnU-Net again (it re-runs ``nnUNetv2_train``'s imports): for a smoke training that is
two more interpreter start-ups, a large share of the run's CPU time (LUnet8, 10 training steps: 28.2 CPU seconds with
the pools, 16.6 with threads). With the variable set, both pools are thread pools of the same size in the training
process (``nnunet_lunet.thread_pools``); what is computed and written is the same. The test suite sets it; unset (or
anything but ``1``), nnU-Net's own pools run.
"""

import contextlib
import os

from nnunet_lunet.thread_pools import pools_as_threads

THREADS_VARIABLE = "NNUNET_LUNET_VAL_THREADS"
# the nnU-Net modules that start the final validation's pools with multiprocessing.get_context("spawn").Pool
POOL_MODULES = ("nnunetv2.training.nnUNetTrainer.nnUNetTrainer", "nnunetv2.evaluation.evaluate_predictions")


def threads_requested() -> bool:
    return os.environ.get(THREADS_VARIABLE, "") == "1"


@contextlib.contextmanager
def validation_pools():
    """Within the block, nnU-Net's validation pools are thread pools when ``NNUNET_LUNET_VAL_THREADS=1`` (module
    docstring); otherwise nothing changes."""
    if not threads_requested():
        yield
        return
    with pools_as_threads(POOL_MODULES):
        yield
