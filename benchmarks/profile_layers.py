"""Profile one forward pass layer by layer in OpenVINO (its performance counters), per network and precision.

    python benchmarks/profile_layers.py --plans-file $nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json \
        -c 3d_fullres --widths 16 [--no-default] [--precisions int8 bf16 f32] [--tile-size 2x] [--static]
        [--threads 2] [--repeats 20] [--warmup 3] [--top 25] [--csv layers.csv]

Rules:

- Networks: the configuration's default network (unless ``--no-default``) and its width variants, untrained, built
  as ``bench_runtimes.py`` builds them (speed does not depend on the weights), exported to ONNX with dynamic spatial
  axes (``deploy.onnx_graph.export_graph``).
- Precisions (``--precisions``): ``f32`` and ``bf16`` are OpenVINO's CPU plugin on the ONNX file at that inference
  precision (``bf16`` only where the CPU has it: ``graph_runtimes.bf16_supported``); ``int8`` runs the graph quantized
  by NNCF (``deploy.int8.quantize_graph``) on the one timed input (speed only, says nothing of accuracy).
- Compiled as ``predict`` compiles it (``graph_runtimes.OPENVINO_HINT``, ``--threads`` inference threads) plus
  profiling on (``ov.properties.enable_profiling``, ``PERF_COUNT``); ``--static`` first reshapes the model to the tile (static shapes) to see what they change.
- One standard-normal input of the tile (``--tile-size``: as ``predict --tile-size``, default the training patch),
  ``--warmup`` untimed inferences, then ``--repeats`` timed ones; per executed node (``get_profiling_info`` after each
  inference) the median real time over the repeats.
- Per layer: node name, node type, kernel (``exec_type``, e.g. ``brgconv_avx512_amx_I8`` or ``jit_avx2_FP32``), median
  ms, share of the pass, and for convolutions (matched by name to the ONNX graph's Conv and ConvTranspose nodes) the
  MACs, the achieved GMAC/s and the MACs per activation element read and written (low: memory-bound, the kernel
  waits for data rather than computing). Then a summary per node type and kernel.
- Absolute times need an otherwise idle machine; the shares and kernel types do not.
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_networks import add_plans_file_options, load_plans_and_dataset  # noqa: E402

PRECISIONS = ("f32", "bf16", "int8")
COLUMNS = ("network", "precision", "layer", "type", "kernel", "median ms", "share", "MACs", "GMAC/s",
           "MACs / element")
TRANSPOSED = "(transposed convolutions in graph order)"
SUMMARY_COLUMNS = ("network", "precision", "type", "kernel", "layers", "ms", "share")


def conv_macs(onnx_path: str, shape: Sequence[int]) -> Dict[str, tuple]:
    """``{ONNX node name or output name: (MACs, activation elements read + written)}`` of every Conv and
    ConvTranspose at the input ``shape`` (batch 1); under ``TRANSPOSED`` the ConvTransposes' figures in graph order."""
    import math

    import onnx

    model = onnx.load(onnx_path)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, size in zip(dims, shape):
        dim.ClearField("dim_param")
        dim.dim_value = int(size)
    model = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output)}
    weights = {i.name: list(i.dims) for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or node.input[1] not in weights:
            continue
        x, y, w = shapes.get(node.input[0]), shapes.get(node.output[0]), weights[node.input[1]]
        if not x or not y:
            continue
        per = math.prod(w[1:])  # Conv: per output element; ConvTranspose: per input element
        macs = math.prod(y[1:]) * per if node.op_type == "Conv" else math.prod(x[1:]) * per
        out[node.name] = out[node.output[0]] = (macs, math.prod(x[1:]) + math.prod(y[1:]))
        if node.op_type == "ConvTranspose":
            out.setdefault(TRANSPOSED, []).append(out[node.name])
    return out


def _match(names: Sequence[str], macs: Dict[str, tuple]) -> Optional[tuple]:
    """The ONNX convolution an executed node comes from: one of the nodes fused into it (``_original_names``) by
    name, or the longest ONNX node name one of them starts with (OpenVINO appends to the names it keeps)."""
    for name in names:
        if name in macs:
            return macs[name]
    hits = [k for name in names for k in macs if name.startswith(k)]
    return macs[max(hits, key=len)] if hits else None


def _transposed(layers: Sequence[Dict[str, object]], macs: Dict[str, tuple]) -> Dict[str, tuple]:
    """OpenVINO renames transposed convolutions (``ConvolutionBackpropData_<n>``, nothing of the ONNX name kept):
    matched to the ONNX graph's ConvTransposes in order (the number grows along the graph), when the counts agree."""
    import re

    nodes = [r["layer"] for r in layers if r["type"] == "ConvolutionBackpropData"]
    nodes.sort(key=lambda n: int(re.sub(r"\D", "", n) or 0))
    ordered = macs.get(TRANSPOSED, [])
    return dict(zip(nodes, ordered)) if len(nodes) == len(ordered) else {}


def profile(onnx_path: str, precision: str, x, threads: int, repeats: int, warmup: int,
            static: bool) -> List[Dict[str, object]]:
    """Per executed node of one pass: ``{layer, type, kernel, median ms}`` (module rules)."""
    import openvino as ov

    from nnunet_lunet.deploy.graph_runtimes import OPENVINO_HINT, int8_path

    core = ov.Core()
    model = core.read_model(int8_path(onnx_path) if precision == "int8" else onnx_path)
    if static:
        model.reshape({model.inputs[0].get_any_name(): ov.PartialShape(list(x.shape))})
    config = {"PERFORMANCE_HINT": OPENVINO_HINT, "INFERENCE_NUM_THREADS": int(threads),
              ov.properties.enable_profiling(): True,
              "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"}
    compiled = core.compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    originals = _original_names(compiled)
    for _ in range(warmup):
        request.infer([x])
    times: Dict[str, List[float]] = {}
    kinds: Dict[str, tuple] = {}
    for _ in range(repeats):
        request.infer([x])
        for info in request.get_profiling_info():
            if str(info.status).endswith("EXECUTED") and "NOT" not in str(info.status):
                times.setdefault(info.node_name, []).append(info.real_time.total_seconds() * 1e3)
                kinds[info.node_name] = (info.node_type, info.exec_type)
    return [{"layer": name, "type": kinds[name][0], "kernel": kinds[name][1], "median ms": statistics.median(t),
             "originals": originals.get(name, [name])} for name, t in times.items()]


def _original_names(compiled) -> Dict[str, List[str]]:
    """``{executed node: the graph's nodes fused into it}`` from the runtime model's ``originalLayersNames``."""
    out = {}
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        if "originalLayersNames" in info:
            out[op.get_friendly_name()] = [n for n in str(info["originalLayersNames"].astype(str)).split(",") if n]
    return out


def profile_layers(plans: dict, configuration: str, dataset_json: dict, variants: Sequence, precisions: Sequence[str],
                   threads: int, repeats: int, warmup: int, tile_size: Optional[Sequence[str]] = None,
                   static: bool = False, with_default: bool = True) -> List[Dict[str, object]]:
    """One row per executed node, per network and precision (module rules)."""
    import numpy as np
    import torch

    from bench_runtimes import _networks
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.deploy.graph_runtimes import BY_NAME
    from nnunet_lunet.deploy.onnx_graph import export_graph, spatial_divisor
    from nnunet_lunet.deploy.tiles import resolve_tile
    from nnunet_lunet.plans_networks import io_channels

    torch.set_num_threads(threads)
    patch = resolved_configuration(plans, configuration)["patch_size"]
    n_in, _ = io_channels(plans, dataset_json, configuration)
    networks = _networks(plans, configuration, dataset_json, variants, ())
    if not with_default:
        networks = networks[1:]
    rows = []
    with tempfile.TemporaryDirectory(prefix="profile_layers_") as tmp:
        for i, (label, network, _) in enumerate(networks):
            network.eval()
            tile = resolve_tile(tile_size, patch, spatial_divisor(network, len(patch)))
            x = np.random.default_rng(0).standard_normal((1, n_in, *tile)).astype(np.float32)
            path = os.path.join(tmp, f"network{i}.onnx")
            export_graph(network, torch.from_numpy(x), path)
            if "int8" in precisions:
                BY_NAME["openvino-int8"].prepare(path, [x])
            macs = conv_macs(path, x.shape)
            for precision in precisions:
                layers = profile(path, precision, x, threads, repeats, warmup, static)
                total = sum(r["median ms"] for r in layers)
                transposed = _transposed(layers, macs)
                for r in sorted(layers, key=lambda r: -r["median ms"]):
                    originals = r.pop("originals")
                    conv = (transposed.get(r["layer"]) or _match(originals, macs)) if "Convolution" in r["type"] \
                        else None
                    rows.append({"network": label, "precision": precision, **r, "share": r["median ms"] / total,
                                 "MACs": conv[0] if conv else None,
                                 "GMAC/s": conv[0] / r["median ms"] / 1e6 if conv and r["median ms"] > 0 else None,
                                 "MACs / element": conv[0] / conv[1] if conv else None})
    return rows


def summary(rows: Sequence[Dict[str, object]]) -> List[Dict[str, object]]:
    """Per network, precision, node type and kernel: layers, total ms, share of the pass."""
    groups: Dict[tuple, List[dict]] = {}
    for r in rows:
        groups.setdefault((r["network"], r["precision"], r["type"], r["kernel"]), []).append(r)
    out = [{"network": k[0], "precision": k[1], "type": k[2], "kernel": k[3], "layers": len(g),
            "ms": sum(r["median ms"] for r in g), "share": sum(r["share"] for r in g)} for k, g in groups.items()]
    return sorted(out, key=lambda r: (r["network"], r["precision"], -r["ms"]))


def _fmt(key: str, value) -> str:
    if value is None:
        return ""
    if key == "share":
        return f"{value:.1%}"
    if key in ("median ms", "ms"):
        return f"{value:.3f}"
    if key in ("GMAC/s", "MACs / element"):
        return f"{value:.1f}"
    return str(value)


def format_rows(rows: Sequence[Dict[str, object]], columns: Sequence[str], top: Optional[int] = None) -> str:
    from nnunet_lunet.tables import markdown_table

    shown, count = [], {}
    for r in rows:
        key = (r["network"], r["precision"])
        count[key] = count.get(key, 0) + 1
        if top is None or count[key] <= top:
            shown.append(r)
    return markdown_table([{k: _fmt(k, r.get(k)) for k in columns} for r in shown], columns)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Per-layer time and kernel of one forward pass in OpenVINO (performance "
                                            "counters), per network and precision.")
    add_plans_file_options(p)
    p.add_argument("--no-default", action="store_true", help="profile only the width variants")
    p.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["int8", "bf16"],
                   help="precisions to profile (default: int8 bf16; bf16 is skipped where the CPU lacks it)")
    p.add_argument("--tile-size", nargs="+", default=None, help="input size, as predict --tile-size (default: the "
                                                                "training patch)")
    p.add_argument("--static", action="store_true", help="reshape the model to the input's shape before compiling")
    p.add_argument("--threads", type=int, default=1, help="OpenVINO inference threads (default: 1)")
    p.add_argument("--repeats", type=int, default=20, help="profiled inferences (default: 20; medians shown)")
    p.add_argument("--warmup", type=int, default=3, help="untimed inferences first (default: 3)")
    p.add_argument("--top", type=int, default=25, help="layers shown per network and precision (default: 25; the "
                                                       "CSV has all)")
    p.add_argument("--csv", default=None, help="also write every layer to this CSV file (must not exist)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from nnunet_lunet.commands.options import variants_from
    from nnunet_lunet.deploy.graph_runtimes import bf16_supported, openvino_installed
    from nnunet_lunet.deploy.int8 import int8_packages_missing
    from nnunet_lunet.errors import LUnetError

    args = build_parser().parse_args(argv)
    try:
        if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
            raise LUnetError("--repeats and --threads must be at least 1, --warmup at least 0")
        if not openvino_installed():
            raise LUnetError('profiling needs OpenVINO: pip install "nnunet-lunet[openvino]"')
        if "int8" in args.precisions and int8_packages_missing():
            raise LUnetError(f"--precisions int8 needs NNCF ({int8_packages_missing()} not installed): pip install "
                             f"'nnunet-lunet[int8]', or leave int8 out")
        if args.csv and os.path.exists(args.csv):
            raise LUnetError(f"--csv {args.csv} already exists: remove it or choose another file")
        precisions = [p for p in dict.fromkeys(args.precisions) if p != "bf16" or bf16_supported()]
        if not precisions:
            raise LUnetError("this CPU has no native bf16: add --precisions f32 or int8")
        plans, dataset_json = load_plans_and_dataset(args.plans_file, args.dataset_json)
        rows = profile_layers(plans, args.configuration, dataset_json, variants_from(args), precisions, args.threads,
                              args.repeats, args.warmup, args.tile_size, args.static, not args.no_default)
    except LUnetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import openvino as ov
    skipped = " (bf16 skipped: no native bf16 here)" if "bf16" in args.precisions and "bf16" not in precisions else ""
    print(f"{plans.get('dataset_name', '')} {args.configuration}, OpenVINO {ov.get_version()}, {args.threads} "
          f"threads, {'static' if args.static else 'dynamic'} shapes, median of {args.repeats} profiled inferences "
          f"after {args.warmup} warm-up{skipped}")
    print(format_rows(rows, COLUMNS, args.top))
    print()
    print(format_rows(summary(rows), SUMMARY_COLUMNS))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({c: "" if r.get(c) is None else r[c] for c in COLUMNS} for r in rows)
        print(f"csv: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
