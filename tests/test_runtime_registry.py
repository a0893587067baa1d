"""One place per concept on the deployment side: ``deploy`` reads runs through ``trained_run``, never through
``benchmark``; and every runtime is one entry of ``deploy.graph_runtimes.RUNTIMES``, from which predict's choices,
bench_runtimes.py's runtimes and the benchmark's timers, columns and ratios all derive."""

import ast
import os

import nnunet_lunet
from nnunet_lunet.deploy.graph_runtimes import RUNTIMES, Runtime

DEPLOY = os.path.join(os.path.dirname(nnunet_lunet.__file__), "deploy")


def _imported_modules(path: str) -> set:
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_deploy_imports_nothing_from_the_benchmark():
    files = [os.path.join(DEPLOY, f) for f in sorted(os.listdir(DEPLOY)) if f.endswith(".py")]
    assert len(files) >= 5
    wrong = {os.path.basename(f): sorted(m for m in _imported_modules(f) if m.startswith("nnunet_lunet.benchmark"))
             for f in files}
    assert not any(wrong.values()), wrong


def test_a_new_registry_entry_reaches_every_place_that_lists_runtimes(monkeypatch):
    """Derived tables are built at import: rebuild them with one more entry, as adding a runtime would."""
    import importlib
    import sys

    from nnunet_lunet.deploy import graph_runtimes

    extra = Runtime("fastrt", "FastRT", "_fast", "FRT", lambda: None, lambda path, threads: (lambda x: x))
    monkeypatch.setattr(graph_runtimes, "RUNTIMES", RUNTIMES + (extra,))
    monkeypatch.setattr(graph_runtimes, "BY_NAME", {**graph_runtimes.BY_NAME, "fastrt": extra})
    monkeypatch.setattr(graph_runtimes, "GRAPH_RUNTIMES", graph_runtimes.GRAPH_RUNTIMES + ("fastrt",))
    names = ["nnunet_lunet.benchmark.runtimes", "nnunet_lunet.benchmark.ratios", "nnunet_lunet.deploy.predict"]
    saved = {n: sys.modules.pop(n, None) for n in names}
    try:
        runtimes, ratios, predict = (importlib.import_module(n) for n in names)
        assert "fastrt" in graph_runtimes.available_runtimes() and "fastrt" in predict.RUNTIMES
        assert {"patch_fast", "case_fast"} <= set(runtimes.TIMERS)
        assert "latency_case_fast_median_s" in runtimes.COLUMNS
        assert "latency_patch_fast_vs_torch_ratio" in ratios.RATIOS
        assert ("FRT case s", "latency_case_fast_median_s", ".2f") in runtimes.graph_headings(extra)
    finally:
        for n in names:
            sys.modules.pop(n, None)
            if saved[n] is not None:
                sys.modules[n] = saved[n]


def test_the_benchmark_times_only_the_graph_runtimes_its_variable_names(monkeypatch):
    import pytest

    from nnunet_lunet.benchmark.runtimes import RUNTIMES_VARIABLE, timed_graph_runtimes
    from nnunet_lunet.deploy.graph_runtimes import available_runtimes
    from nnunet_lunet.errors import LUnetError

    monkeypatch.delenv(RUNTIMES_VARIABLE, raising=False)
    assert timed_graph_runtimes() == available_runtimes()  # unset: every runtime that can run here
    monkeypatch.setenv(RUNTIMES_VARIABLE, "onnxruntime")
    assert timed_graph_runtimes() == ["onnxruntime"]
    monkeypatch.setenv(RUNTIMES_VARIABLE, "openvino, onnxruntime")  # in the registry's order
    assert timed_graph_runtimes() == [r for r in ("onnxruntime", "openvino") if r in available_runtimes()]
    monkeypatch.setenv(RUNTIMES_VARIABLE, "onnxruntime,tensorrt")
    with pytest.raises(LUnetError, match="tensorrt is not a graph runtime"):
        timed_graph_runtimes()
