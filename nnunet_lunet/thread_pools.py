"""nnU-Net's spawn pools as thread pools, within a block: ``pools_as_threads(module names)``.

nnU-Net starts worker pools with ``multiprocessing.get_context("spawn").Pool(n)`` (final validation export, Dice over
a folder). Every spawned worker is an interpreter that imports torch and nnU-Net again: seconds of CPU per pool,
more than the work itself for a few small cases. Within the block the named modules' ``multiprocessing`` is replaced
by a stand-in whose ``get_context(...).Pool(n)`` is ``multiprocessing.pool.ThreadPool(n)`` (nnU-Net's
``check_workers_alive_and_busy`` reads a thread pool's workers as it reads processes); what is computed and written is
the same. The modules get their ``multiprocessing`` back when the block ends.
"""

import contextlib
import importlib
from multiprocessing.pool import ThreadPool
from typing import Sequence


class _ThreadContext:
    """Stands in for ``multiprocessing`` in a module: ``get_context(...).Pool(n)`` is a ``ThreadPool(n)``."""

    def get_context(self, method=None):
        return self

    @staticmethod
    def Pool(processes=None, *args, **kwargs):  # noqa: N802 - multiprocessing's name
        return ThreadPool(processes, *args, **kwargs)


@contextlib.contextmanager
def pools_as_threads(module_names: Sequence[str]):
    modules = [importlib.import_module(name) for name in module_names]
    originals = [module.multiprocessing for module in modules]
    for module in modules:
        module.multiprocessing = _ThreadContext()
    try:
        yield
    finally:
        for module, original in zip(modules, originals):
            module.multiprocessing = original
