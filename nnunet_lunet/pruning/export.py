"""Turn a pruning run into plans data: a configuration whose network has the pruned per-layer widths.

The configuration inherits from the run's configuration (same data, patch and batch size) and names the network
class by import path (``nnunet_lunet.pruning.network.PrunedPlainConvUNet``, or
``nnunet_lunet.pruning.residual_network.PrunedResidualEncoderUNet`` for a residual encoder), with ``layer_widths`` in
its ``arch_kwargs``; nnU-Net's standard trainer builds it via ``get_network_from_plans`` with fresh weights.
"""

import copy
import json
import os
from typing import Optional, Tuple

from nnunet_lunet.architecture import pruned_network_class
from nnunet_lunet.datasets import load_plans, plans_file, require_env, resolve_dataset, resolved_configuration
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import pruned_configuration
from nnunet_lunet.plans.variants import derived_configuration
from nnunet_lunet.plans.writer import write_plans_with
from nnunet_lunet.pruning.layer_widths import format_layer_widths
from nnunet_lunet.pruning.pruning_log import LOG_JSON, read_log, widths_at_level, widths_at_step
from nnunet_lunet.pruning.schedule import level_name
from nnunet_lunet.trained_run import model_folder, require_fold


def pruned_architecture(architecture: dict, layer_widths: dict, configuration: str) -> dict:
    """A prunable plans architecture with per-layer widths, as the class that prunes it (``configuration`` names it
    in the refusal of any other network)."""
    new = copy.deepcopy(architecture)
    new["network_class_name"] = pruned_network_class(architecture, f"configuration {configuration}")
    new["arch_kwargs"]["layer_widths"] = copy.deepcopy(layer_widths)
    return new


def export_pruned(dataset: str, configuration: str, trainer: str, plans_name: str, fold: str,
                  step: Optional[int], output_plans: Optional[str], name: Optional[str],
                  overwrite: bool, level: Optional[float] = None) -> Tuple[str, str, str]:
    """Add the run's pruned configuration to ``output_plans``: the widths after ``step`` steps, at ``level`` (a
    fraction the run recorded, e.g. 0.5), or (neither) the last; returns (plans path, configuration name, widths)."""
    if step is not None and level is not None:
        raise LUnetError("--step and --level both name the widths to export: pass one of them")
    dataset_name = resolve_dataset(dataset)
    run_folder = require_fold(model_folder(require_env("nnUNet_results"), dataset_name, trainer, plans_name,
                                           configuration), fold, dataset_name, configuration, trainer)
    log = read_log(run_folder)
    if log is None:
        raise LUnetError(f"{run_folder} has no {LOG_JSON}: it is not a pruning run (train one with -tr "
                         f"nnUNetTrainerSTAMP)")
    widths = widths_at_level(log, level, run_folder) if level is not None else widths_at_step(log, step, run_folder)
    plans = load_plans(dataset_name, plans_name)
    source = resolved_configuration(plans, configuration)
    architecture = pruned_architecture(source["architecture"], widths, configuration)
    at_level = int(level_name(level)) if level is not None and step is None else None
    name = name or pruned_configuration(configuration, trainer, fold, level=at_level, step=step)
    target = output_plans or f"{plans_name}_pruned"
    added = {name: derived_configuration(configuration, architecture)}
    path = plans_file(dataset_name, target)
    if os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
        if name in existing["configurations"] and not overwrite:
            raise LUnetError(f"{path} already has a configuration {name}: pass --overwrite to replace it, or --name")
        added = {**{k: v for k, v in existing["configurations"].items() if k not in plans["configurations"]},
                 **added}
    path = write_plans_with(dataset_name, plans_name, target, added, overwrite=True, command="export-pruned")
    return path, name, format_layer_widths(widths)
