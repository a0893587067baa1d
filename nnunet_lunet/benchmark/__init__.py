"""Side-by-side benchmark of trained nnU-Net models: size, MACs, memory, latency, training time and Dice.

Library entry point: ``run_benchmark(dataset, configuration, ModelSelection(...), MeasureOptions(...))``
(``runner.py``), also behind ``nnunet-lunet benchmark``. Modules: ``discovery`` (which models and folds),
``trained_network`` (the network as nnU-Net's predictor rebuilds it), ``steps``/``latency``/``memory``/
``memory_probe``/``cases`` (measurements), ``records``/``test_set`` (Dice and epoch times),
``ratios``/``report``/``plots`` (outputs), ``environment``.

These three are imported on first use (PEP 562), so ``python -m nnunet_lunet.benchmark.memory_probe`` and the
command line's start-up do not pay for the runner's imports.
"""

__all__ = ["MeasureOptions", "ModelSelection", "run_benchmark"]


def __getattr__(name):
    if name in __all__:
        from nnunet_lunet.benchmark import runner
        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
