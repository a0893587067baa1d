"""Opt-in: nnU-Net's final validation with threads instead of spawned worker processes (``NNUNET_LUNET_VAL_THREADS=1``).

nnU-Net's ``perform_actual_validation`` exports the predicted segmentations through a spawn pool of
``nnUNet_def_n_proc`` processes, and ``compute_metrics_on_folder`` starts another spawn pool for the Dice. Every
spawned worker imports torch and nnU-Net again (it re-runs ``nnUNetv2_train``'s imports): for a smoke training that is
two more interpreter start-ups, a quarter of the run's CPU time (LUnet8, 10 training steps: about 7 of 26 CPU
seconds). With the variable set, both pools are thread pools of the same size in the training process (nnU-Net's
``check_workers_alive_and_busy`` reads a thread pool's workers as it reads processes); what is computed and written is
the same. The test suite sets it; unset (or anything but ``1``), nnU-Net's own pools run.
"""

import contextlib
import os
from multiprocessing.pool import ThreadPool

THREADS_VARIABLE = "NNUNET_LUNET_VAL_THREADS"
# the nnU-Net modules that start the final validation's pools with multiprocessing.get_context("spawn").Pool
_POOL_MODULES = ("nnunetv2.training.nnUNetTrainer.nnUNetTrainer", "nnunetv2.evaluation.evaluate_predictions")


class _ThreadContext:
    """Stands in for ``multiprocessing`` in those modules: ``get_context(...).Pool(n)`` is a ``ThreadPool(n)``."""

    def get_context(self, method=None):
        return self

    @staticmethod
    def Pool(processes=None, *args, **kwargs):  # noqa: N802 - multiprocessing's name
        return ThreadPool(processes, *args, **kwargs)


def threads_requested() -> bool:
    return os.environ.get(THREADS_VARIABLE, "") == "1"


@contextlib.contextmanager
def validation_pools():
    """Within the block, nnU-Net's validation pools are thread pools when ``NNUNET_LUNET_VAL_THREADS=1`` (module
    docstring); otherwise nothing changes."""
    if not threads_requested():
        yield
        return
    import importlib

    modules = [importlib.import_module(name) for name in _POOL_MODULES]
    originals = [module.multiprocessing for module in modules]
    for module in modules:
        module.multiprocessing = _ThreadContext()
    try:
        yield
    finally:
        for module, original in zip(modules, originals):
            module.multiprocessing = original
