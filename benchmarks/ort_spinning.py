"""Does ONNX Runtime's thread spinning slow down the code that runs after it? (Why ``ort_session`` turns it off.)

    python benchmarks/ort_spinning.py --plans-file $nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json \
        -c 3d_fullres [--widths 16 8] [--threads 2] [--repeats 9]

Rules:

- Networks: the configuration's default network and its width variants, untrained (``bench_runtimes._networks``),
  one standard-normal patch of the plan's patch size, batch 1.
- For each network and each setting of ONNX Runtime's ``session.intra_op.allow_spinning`` (1, its default; 0, what
  ``onnx_graph.ort_session`` sets): ONNX Runtime's own patch latency (runs back to back), and the latency of the
  next call, a PyTorch forward pass of the same network, started right after an ONNX Runtime run, and right after
  another PyTorch pass (the baseline; an idle pause is not one: the first pass after a pause pays for waking the
  threads up).
- ``--repeats`` timed pairs per cell after 2 untimed; median and min in ms. Needs an otherwise idle machine.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_networks import load_plans_and_dataset  # noqa: E402
from bench_runtimes import _networks  # noqa: E402


def _timed_after(target: Callable[[], object], before: Callable[[], object], repeats: int) -> List[float]:
    for _ in range(2):
        before()
        target()
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        target()
        times.append(time.perf_counter() - start)
    return times


def _ort_run(path: str, x, threads: int, spinning: bool) -> Callable[[], object]:
    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session

    ort, array = ort_session(path, threads=threads, spinning=spinning), x.numpy()
    return lambda: run_session(ort, array)


def measure(plans: dict, configuration: str, dataset_json: dict, variants, threads: int,
            repeats: int) -> List[Dict[str, object]]:
    """One row per (network, spinning setting); times in seconds."""
    import torch

    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.deploy.onnx_graph import export_graph
    from nnunet_lunet.plans_networks import io_channels

    torch.set_num_threads(threads)
    patch = resolved_configuration(plans, configuration)["patch_size"]
    n_in = io_channels(plans, dataset_json, configuration)[0]
    x = torch.randn((1, n_in, *patch), generator=torch.Generator().manual_seed(0))
    rows = []
    with tempfile.TemporaryDirectory(prefix="ort_spinning_") as tmp:
        for i, (label, network, _) in enumerate(_networks(plans, configuration, dataset_json, variants, ())):
            network.eval()
            path = os.path.join(tmp, f"network{i}.onnx")
            export_graph(network, x, path)

            def torch_step(network=network):
                with torch.no_grad():
                    network(x)

            for spinning in (True, False):
                ort_step = _ort_run(path, x, threads, spinning)
                rows.append({"network": label, "spinning": spinning,
                             "ort": _timed_after(ort_step, lambda: None, repeats),
                             "torch after ort": _timed_after(torch_step, ort_step, repeats),
                             "torch after torch": _timed_after(torch_step, torch_step, repeats)})
    return rows


def format_rows(rows: List[Dict[str, object]]) -> str:
    columns = ("ort", "torch after ort", "torch after torch")
    lines = ["| network | ORT spinning | " + " | ".join(f"{c} ms (median / min)" for c in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{statistics.median(row[c]) * 1e3:.1f} / {min(row[c]) * 1e3:.1f}" for c in columns]
        lines.append(f"| {row['network']} | {'on' if row['spinning'] else 'off'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    from nnunet_lunet.commands.options import add_width_options, variants_from

    parser = argparse.ArgumentParser(description="ONNX Runtime's spinning threads and the call after them")
    parser.add_argument("--plans-file", required=True)
    parser.add_argument("-c", "--configuration", required=True)
    add_width_options(parser)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1")
    plans, dataset_json = load_plans_and_dataset(args.plans_file, None)
    rows = measure(plans, args.configuration, dataset_json, variants_from(args), args.threads, args.repeats)
    import onnxruntime
    print(f"{plans.get('dataset_name', '')} {args.configuration}, {args.threads} threads, onnxruntime "
          f"{onnxruntime.__version__}, {args.repeats} timed runs per cell")
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
