"""Size and cost of a configuration's default network and of its width variants, side by side."""

from typing import Dict, List, Sequence

from nnunet_lunet.architecture import default_widths, require_supported
from nnunet_lunet.datasets import load_dataset_json, load_plans, resolved_configuration
from nnunet_lunet.model_stats import count_macs, count_parameters
from nnunet_lunet.plans.variants import WidthVariant, derive_configuration
from nnunet_lunet.plans_networks import build_from_plans, io_channels
from nnunet_lunet.tables import human, markdown_table

COLUMNS = ("configuration", "network", "widths per stage", "parameters", "MACs / patch", "params ratio",
           "MACs ratio")


def summary_rows(dataset_name: str, plans_name: str, configurations: Sequence[str],
                 variants: Sequence[WidthVariant]) -> List[Dict[str, object]]:
    """One row for each configuration's default network, then one per variant; ratios are default / variant."""
    plans = load_plans(dataset_name, plans_name)
    dataset_json = load_dataset_json(dataset_name)
    rows = []
    for configuration in configurations:
        n_in, _ = io_channels(plans, dataset_json, configuration)
        resolved = resolved_configuration(plans, configuration)
        require_supported(resolved["architecture"], f"configuration {configuration}")
        patch = resolved["patch_size"]
        candidates = [("default", resolved["architecture"])]
        for variant in variants:
            _, derived = derive_configuration(plans, configuration, variant)
            candidates.append((variant.suffix, derived["architecture"]))
        base_params = base_macs = None
        for label, architecture in candidates:
            net = build_from_plans(plans, configuration, dataset_json, architecture=architecture)
            params, macs = count_parameters(net), count_macs(net, n_in, patch)
            base_params, base_macs = base_params or params, base_macs or macs
            rows.append({
                "configuration": configuration, "network": label,
                "widths per stage": "-".join(str(w) for w in default_widths(architecture)),
                "parameters": params, "MACs / patch": macs,
                "params ratio": round(base_params / params, 1), "MACs ratio": round(base_macs / macs, 1),
            })
    return rows


def format_summary(rows: List[Dict[str, object]]) -> str:
    shown = [dict(r, **{"parameters": f"{human(r['parameters'])} ({r['parameters']})",
                        "MACs / patch": human(r["MACs / patch"]),
                        "params ratio": f"{r['params ratio']}x", "MACs ratio": f"{r['MACs ratio']}x"})
             for r in rows]
    return markdown_table(shown, COLUMNS)
