"""Whether several sliding-window tiles per runtime call are faster than one: time per tile at batch 1 and at larger
batches, for every width variant under each graph runtime, interleaved.

    python benchmarks/bench_batched_tiles.py --plans-file $nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json \
        -c 3d_fullres [--widths 16 8] [--batches 1 2 4 8] [--runtimes onnxruntime openvino] [--threads 2] \
        [--repeats 7] [--warmup 1] [--csv batched.csv]

Rules:

- Networks: as ``bench_runtimes.py`` builds them (the default network and its width variants, untrained, deep
  supervision off), exported once each to ONNX (the graph's batch axis is dynamic).
- Cells: (network, runtime, batch); a call runs ``batch`` standard-normal tiles of the plan's patch size in one call
  of the runtime (``deploy.graph_runtimes.graph_runner``, the same sessions ``predict`` uses). Every cell gets
  ``--warmup`` untimed calls, then ``--repeats`` rounds in a new shuffled order each
  (``nnunet_lunet.benchmark.latency.time_interleaved``).
- Per row: ``ms per tile`` (call median / batch) and ``x batch 1`` (the same network and runtime's batch-1 time per
  tile / this row's): above 1 means batching helps. nnU-Net's predictor calls the network one tile at a time.

Times need an otherwise idle machine; ratios of one interleaved run are what count.
"""

import argparse
import csv
import os
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_runtimes import _networks  # noqa: E402
from bench_networks import add_plans_file_options, load_plans_and_dataset  # noqa: E402

COLUMNS = ("network", "runtime", "batch", "ms per call", "ms per tile", "min ms per tile", "max ms per tile",
           "x batch 1")


def bench_batched(plans: dict, configuration: str, dataset_json: dict, variants: Sequence, runtimes: Sequence[str],
                  batches: Sequence[int], threads: int, repeats: int, warmup: int) -> List[Dict[str, object]]:
    """One row per (network, runtime, batch), see module rules."""
    import numpy as np
    import torch

    from nnunet_lunet.benchmark.latency import time_interleaved
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.deploy.graph_runtimes import graph_runner
    from nnunet_lunet.deploy.onnx_graph import export_graph
    from nnunet_lunet.plans_networks import io_channels

    torch.set_num_threads(threads)
    patch = resolved_configuration(plans, configuration)["patch_size"]
    n_in, _ = io_channels(plans, dataset_json)
    rng = np.random.default_rng(0)
    inputs = {b: rng.standard_normal((b, n_in, *patch)).astype(np.float32) for b in batches}
    cells = {}
    with tempfile.TemporaryDirectory(prefix="bench_batched_") as tmp:
        for i, (label, network, _) in enumerate(_networks(plans, configuration, dataset_json, variants, ())):
            path = os.path.join(tmp, f"network{i}.onnx")
            export_graph(network.eval(), torch.from_numpy(inputs[batches[0]]), path)
            for runtime in runtimes:
                run = graph_runner(path, runtime, threads)
                for b in batches:
                    cells[(label, runtime, b)] = lambda run=run, x=inputs[b]: run(x)
        times, errors = time_interleaved(cells, torch.device("cpu"), repeats, warmup)
    if errors:
        key, error = next(iter(errors.items()))
        raise RuntimeError(f"{key} failed: {error}") from error
    rows = []
    for (label, runtime, b), t in times.items():
        single = times.get((label, runtime, 1))
        rows.append({"network": label, "runtime": runtime, "batch": b, "ms per call": t.median * 1e3,
                     "ms per tile": t.median / b * 1e3, "min ms per tile": t.minimum / b * 1e3,
                     "max ms per tile": t.maximum / b * 1e3,
                     "x batch 1": single.median / (t.median / b) if single else None,
                     "threads": threads, "repeats": repeats})
    return rows


def format_rows(rows: Sequence[Dict[str, object]]) -> str:
    from nnunet_lunet.tables import markdown_table

    def fmt(key, value):
        if value is None:
            return ""
        if key.startswith("x "):
            return f"{value:.2f}x"
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    return markdown_table([{k: fmt(k, r.get(k)) for k in COLUMNS} for r in rows], COLUMNS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Time per tile at batch 1 and larger batches under each graph runtime, "
                                            "interleaved.")
    add_plans_file_options(p)
    p.add_argument("--runtimes", nargs="+", default=["onnxruntime", "openvino"], help="graph runtimes (default: "
                                                                                     "onnxruntime openvino)")
    p.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4, 8], help="tiles per call (default: 1 2 4 8)")
    p.add_argument("--threads", type=int, default=None, help="threads for every runtime (default: torch's count)")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds (default: 7)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls per cell first (default: 1)")
    p.add_argument("--csv", default=None, help="also write the rows to this CSV file (must not exist)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from nnunet_lunet.commands.options import variants_from
    from nnunet_lunet.deploy.graph_runtimes import require_runtime
    from nnunet_lunet.errors import LUnetError

    args = build_parser().parse_args(argv)
    try:
        if args.repeats < 1 or args.warmup < 0 or min(args.batches) < 1 or 1 not in args.batches:
            raise LUnetError("--repeats must be at least 1, --warmup at least 0, --batches positive and include 1")
        if args.csv and os.path.exists(args.csv):
            raise LUnetError(f"--csv {args.csv} already exists: remove it or choose another file")
        for runtime in args.runtimes:
            require_runtime(runtime)
        plans, dataset_json = load_plans_and_dataset(args.plans_file, args.dataset_json)
        import torch
        threads = args.threads or torch.get_num_threads()
        rows = bench_batched(plans, args.configuration, dataset_json, variants_from(args), args.runtimes,
                             sorted(set(args.batches)), threads, args.repeats, args.warmup)
    except LUnetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{plans.get('dataset_name', '')} {args.configuration}, {threads} threads, median of {args.repeats} "
          f"interleaved rounds after {args.warmup} warm-up")
    print(format_rows(rows))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS) + ["threads", "repeats"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        print(f"csv: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
