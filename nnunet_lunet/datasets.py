"""Finding a dataset and its plans in nnU-Net's folders, with errors that say what to do.

nnU-Net reads its folders from the environment variables ``nnUNet_raw``, ``nnUNet_preprocessed`` and
``nnUNet_results``; the paths are read at call time, not import time, so tests and the demo can set them late.
"""

import json
import os
import re
from typing import Optional

from nnunet_lunet.errors import LUnetError

ENV_VARS = ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")


def require_env(name: str) -> str:
    """The folder named by an nnU-Net environment variable; LUnetError if it is unset."""
    value = os.environ.get(name)
    if not value:
        raise LUnetError(f"{name} is not set: export {name}=/path/to/folder (see nnU-Net's "
                         f"documentation/setting_up_paths.md)")
    return value


def _candidates(dataset_id: int) -> list:
    """Dataset folder names with this id in nnU-Net's three folders (nnU-Net's own search)."""
    from nnunetv2.utilities.dataset_name_id_conversion import find_candidate_datasets
    return sorted(str(name) for name in find_candidate_datasets(dataset_id))


def resolve_dataset(dataset: str) -> str:
    """``4``, ``004`` or ``Dataset004_Hippocampus`` -> ``Dataset004_Hippocampus``; LUnetError if unknown/ambiguous."""
    text = str(dataset)
    match = re.fullmatch(r"Dataset(\d{3})_.+", text)
    if match is None and not text.isdigit():
        raise LUnetError(f"invalid dataset {text!r}: give an nnU-Net dataset id (e.g. 4) or name "
                         f"(e.g. Dataset004_Hippocampus)")
    dataset_id = int(match.group(1)) if match else int(text)
    candidates = _candidates(dataset_id)
    if match:
        if text not in candidates:
            raise LUnetError(f"unknown dataset {text}: no such folder in nnUNet_raw, nnUNet_preprocessed or "
                             f"nnUNet_results ({', '.join(f'{v}={os.environ.get(v)}' for v in ENV_VARS)})")
        return text
    if not candidates:
        raise LUnetError(f"unknown dataset {text}: no Dataset{dataset_id:03d}_* folder in nnUNet_raw, "
                         f"nnUNet_preprocessed or nnUNet_results "
                         f"({', '.join(f'{v}={os.environ.get(v)}' for v in ENV_VARS)}); check -d and those variables")
    if len(candidates) > 1:
        raise LUnetError(f"dataset id {dataset_id} is ambiguous ({', '.join(candidates)}): pass the full name with -d")
    return candidates[0]


def plans_file(dataset_name: str, plans_name: str) -> str:
    """Path of ``<plans_name>.json`` in the dataset's preprocessed folder (it may not exist)."""
    return os.path.join(require_env("nnUNet_preprocessed"), dataset_name, plans_name + ".json")


# nnU-Net's residual encoder presets: plans name -> the planner that writes them (they reuse nnUNetPlans' data)
RESENC_PLANNERS = {f"nnUNetResEncUNet{size}Plans": f"nnUNetPlannerResEnc{size}" for size in ("M", "L", "XL")}


def planning_command(dataset_id: int, plans_name: str) -> str:
    """The nnU-Net command that writes ``plans_name``."""
    if plans_name in RESENC_PLANNERS:
        return f"nnUNetv2_plan_experiment -d {dataset_id} -pl {RESENC_PLANNERS[plans_name]}"
    return f"nnUNetv2_plan_and_preprocess -d {dataset_id}"


def load_plans(dataset_name: str, plans_name: str) -> dict:
    """The plans dict; LUnetError naming the missing file and the nnU-Net command that writes it."""
    path = plans_file(dataset_name, plans_name)
    if not os.path.isfile(path):
        dataset_id = int(dataset_name[7:10])
        raise LUnetError(f"dataset {dataset_name} has no plans '{plans_name}' ({path} is missing): run "
                         f"{planning_command(dataset_id, plans_name)} first (or pass the right -p)")
    with open(path) as f:
        return json.load(f)


def resolved_configuration(plans: dict, configuration: str) -> dict:
    """A configuration with its ``inherits_from`` chain merged (top-level keys only, as nnU-Net does)."""
    configurations = plans["configurations"]
    if configuration not in configurations:
        raise LUnetError(f"unknown configuration '{configuration}' in plans {plans.get('plans_name')}: available are "
                         f"{', '.join(sorted(configurations))}")
    own = configurations[configuration]
    parent: Optional[str] = own.get("inherits_from")
    if parent is None:
        return dict(own)
    merged = resolved_configuration(plans, parent)
    merged.update(own)
    merged.pop("inherits_from", None)
    return merged


def require_preprocessed(dataset_name: str, plans: dict, configuration: str) -> None:
    """LUnetError unless the configuration's preprocessed data folder exists (variants reuse it for training)."""
    data_identifier = resolved_configuration(plans, configuration)["data_identifier"]
    folder = os.path.join(require_env("nnUNet_preprocessed"), dataset_name, data_identifier)
    if not os.path.isdir(folder):
        raise LUnetError(f"configuration '{configuration}' of {dataset_name} is planned but not preprocessed "
                         f"({folder} is missing): run nnUNetv2_preprocess -d {int(dataset_name[7:10])} "
                         f"-plans_name {plans['plans_name']} -c {configuration}")
