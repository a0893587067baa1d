"""Time the default network of a plans configuration and each of its width variants side by side, untrained.

    python benchmarks/bench_networks.py --plans-file $nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json \
        -c 3d_fullres [--widths 32 16 8] [--scales 0.75 0.5 0.25] [--device cpu|cuda] [--repeats 5] [--warmup 2]

Rules:

- Networks are built as nnU-Net builds them (``nnunet_lunet.plans_networks.build_from_plans``), the variants'
  architectures derived as ``nnunet-lunet plan`` derives them (``nnunet_lunet.plans.variants``), so the same patch
  and batch size apply to all. Input channels and classes come from the ``dataset.json`` next to the plans file (or
  ``--dataset-json``).
- Forward: one patch, batch 1, no grad; training step: the plan's batch size, deep supervision, backward and an SGD
  step (``nnunet_lunet.benchmark.steps``). Each is timed ``--repeats`` times after ``--warmup`` untimed runs
  (``nnunet_lunet.benchmark.latency``); the table shows the medians in ms.
- Ratio columns are default / variant (how many times smaller or faster), so the latency ratio can be read against
  the MAC ratio: thin networks rarely speed up as much as their MACs shrink.
The functions are importable (``bench_networks``, ``format_rows``) for notebooks and other scripts.
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

COLUMNS = ("network", "widths per stage", "parameters", "MACs / patch", "MACs ratio", "forward ms", "forward ratio",
           "train step ms", "train ratio")


def add_plans_file_options(p: argparse.ArgumentParser) -> None:
    """The input of every benchmark script: a plans file, one of its configurations and the width variants to build
    from it (``--widths``, ``--scales``, ``--match-parameters``); ``load_plans_and_dataset`` reads the files."""
    from nnunet_lunet.commands.options import add_width_options

    p.add_argument("--plans-file", required=True, help="nnU-Net plans file, e.g. "
                                                       "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json")
    p.add_argument("-c", "--configuration", required=True, help="configuration, e.g. 3d_fullres")
    p.add_argument("--dataset-json", default=None, help="dataset.json (default: the one beside the plans file)")
    add_width_options(p)


def load_plans_and_dataset(plans_file: str, dataset_json_file: Optional[str] = None) -> tuple:
    """``(plans, dataset_json)``; the dataset.json defaults to the one beside the plans file."""
    from nnunet_lunet.errors import LUnetError

    dataset_json_file = dataset_json_file or os.path.join(os.path.dirname(os.path.abspath(plans_file)),
                                                          "dataset.json")
    for path, option in ((plans_file, "--plans-file"), (dataset_json_file, "--dataset-json")):
        if not os.path.isfile(path):
            raise LUnetError(f"{option} {path} does not exist: pass nnU-Net's plans file (and its dataset.json)")
    with open(plans_file) as f:
        plans = json.load(f)
    with open(dataset_json_file) as f:
        return plans, json.load(f)


def candidates(plans: dict, configuration: str, variants: Sequence) -> List[tuple]:
    """``[(label, architecture)]``: the configuration's own network first, then one per width variant."""
    from nnunet_lunet.architecture import require_supported
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.plans.variants import derive_configuration

    resolved = resolved_configuration(plans, configuration)
    require_supported(resolved["architecture"], f"configuration {configuration}")
    return [("default", resolved["architecture"])] + [
        (variant.suffix, derive_configuration(plans, configuration, variant)[1]["architecture"])
        for variant in variants]


def bench_networks(plans: dict, configuration: str, dataset_json: dict, variants: Sequence, device: str = "cpu",
                   repeats: int = 5, warmup: int = 2) -> List[Dict[str, object]]:
    """One row per network: widths, parameters, MACs, forward and training-step timings, ratios to the default."""
    import torch

    from nnunet_lunet.architecture import default_widths
    from nnunet_lunet.benchmark.latency import time_calls
    from nnunet_lunet.benchmark.steps import inference_step, training_step
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.model_stats import count_macs, count_parameters
    from nnunet_lunet.plans_networks import build_from_plans, io_channels

    resolved = resolved_configuration(plans, configuration)
    patch, batch = resolved["patch_size"], resolved["batch_size"]
    n_in, _ = io_channels(plans, dataset_json, configuration)
    torch_device = torch.device(device)
    rows = []
    for label, architecture in candidates(plans, configuration, variants):
        net = build_from_plans(plans, configuration, dataset_json, deep_supervision=True,
                               architecture=architecture).to(torch_device)
        forward = time_calls(inference_step(net, n_in, patch, torch_device), torch_device, repeats, warmup)
        train = time_calls(training_step(net, batch, n_in, patch, torch_device), torch_device, repeats, warmup)
        rows.append({"network": label, "widths per stage": "-".join(map(str, default_widths(architecture))),
                     "parameters": count_parameters(net), "MACs / patch": count_macs(net, n_in, patch),
                     "forward ms": forward.median * 1e3, "train step ms": train.median * 1e3})
        del net
    base = rows[0]
    for row in rows:
        row["MACs ratio"] = base["MACs / patch"] / row["MACs / patch"]
        row["forward ratio"] = base["forward ms"] / row["forward ms"]
        row["train ratio"] = base["train step ms"] / row["train step ms"]
    return rows


def format_rows(rows: Sequence[Dict[str, object]]) -> str:
    """The rows as a markdown table (humanised numbers, ratios as 'N.NNx')."""
    from nnunet_lunet.tables import human, markdown_table

    shown = [dict(r, **{"parameters": human(r["parameters"]), "MACs / patch": human(r["MACs / patch"]),
                        "forward ms": f"{r['forward ms']:.1f}", "train step ms": f"{r['train step ms']:.1f}",
                        **{k: f"{r[k]:.2f}x" for k in ("MACs ratio", "forward ratio", "train ratio")}})
             for r in rows]
    return markdown_table(shown, COLUMNS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Time the default network of a plans configuration and its width "
                                            "variants side by side (forward and training step), with ratios.")
    add_plans_file_options(p)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device (default: cpu)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (default: 5; median shown)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first (default: 2)")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    from nnunet_lunet.commands.options import variants_from
    from nnunet_lunet.errors import LUnetError

    args = build_parser().parse_args(argv)
    try:
        if args.repeats < 1 or args.warmup < 0:
            raise LUnetError("--repeats must be at least 1 and --warmup at least 0")
        plans, dataset_json = load_plans_and_dataset(args.plans_file, args.dataset_json)
        import torch
        if args.device == "cuda" and not torch.cuda.is_available():
            raise LUnetError("--device cuda but torch sees no CUDA device: use --device cpu")
        rows = bench_networks(plans, args.configuration, dataset_json, variants_from(args), args.device,
                              args.repeats, args.warmup)
    except LUnetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{plans.get('dataset_name', '')} {args.configuration}, {args.device}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, median of {args.repeats} runs after {args.warmup} warm-up; "
          f"ratios are default / variant")
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
