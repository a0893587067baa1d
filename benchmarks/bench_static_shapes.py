"""OpenVINO with dynamic spatial axes (what predict compiles) against the same graph reshaped to the tile (static
shapes), per network (the plan's default and LUnet16, untrained) and precision (f32, bf16, INT8 quantized on the one
input), timed interleaved in a new shuffled order each round, 2 threads, latency hint.

    python benchmarks/bench_static_shapes.py PLANS_FILE [D H W]   (default tile: the training patch; ROUNDS=15)

Prints the median and minimum time per pass of each (network, precision, shapes). Needs an otherwise idle machine.
"""
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import openvino as ov
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_networks import load_plans_and_dataset  # noqa: E402
from bench_runtimes import _networks  # noqa: E402
from nnunet_lunet.commands.options import flat_variant  # noqa: E402
from nnunet_lunet.deploy.graph_runtimes import BY_NAME, OPENVINO_HINT, int8_path  # noqa: E402
from nnunet_lunet.deploy.onnx_graph import export_graph  # noqa: E402
from nnunet_lunet.datasets import resolved_configuration  # noqa: E402
from nnunet_lunet.plans_networks import io_channels  # noqa: E402

tile = [int(v) for v in sys.argv[2:5]] if len(sys.argv) > 4 else None
plans, ds = load_plans_and_dataset(sys.argv[1])
patch = resolved_configuration(plans, "3d_fullres")["patch_size"]
tile = tile or patch
n_in, _ = io_channels(plans, ds, "3d_fullres")
torch.set_num_threads(2)
nets = _networks(plans, "3d_fullres", ds, [flat_variant(16)], ())
core = ov.Core()
x = np.random.default_rng(0).standard_normal((1, n_in, *tile)).astype(np.float32)
with tempfile.TemporaryDirectory() as tmp:
    runs = {}
    for i, (label, net, _) in enumerate(nets):
        net.eval()
        path = os.path.join(tmp, f"n{i}.onnx")
        export_graph(net, torch.from_numpy(x), path)
        BY_NAME["openvino-int8"].prepare(path, [x])
        for prec in ("f32", "bf16", "int8"):
            for static in (False, True):
                model = core.read_model(int8_path(path) if prec == "int8" else path)
                if static:
                    model.reshape({model.inputs[0].get_any_name(): ov.PartialShape(list(x.shape))})
                cfg = {"PERFORMANCE_HINT": OPENVINO_HINT, "INFERENCE_NUM_THREADS": 2,
                       "INFERENCE_PRECISION_HINT": "bf16" if prec == "bf16" else "f32"}
                req = core.compile_model(model, "CPU", cfg).create_infer_request()
                for _ in range(3):
                    req.infer([x])
                runs[(label, prec, "static" if static else "dynamic")] = req
    times = {k: [] for k in runs}
    keys = list(runs)
    for r in range(int(os.environ.get("ROUNDS", "15"))):
        np.random.default_rng(r).shuffle(keys)
        for k in keys:
            t = time.perf_counter(); runs[k].infer([x]); times[k].append(time.perf_counter() - t)
    print(f"tile {tile}")
    for k in sorted(times):
        print(k, f"median {1e3*statistics.median(times[k]):.1f} ms  min {1e3*min(times[k]):.1f}")
