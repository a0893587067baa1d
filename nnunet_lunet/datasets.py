"""Finding a dataset, its plans and its ``dataset.json`` in nnU-Net's folders, with errors that say what to do.

Rules: this module owns dataset naming (``DatasetXXX_Name``; ``dataset_id`` is the one place that reads the id from a
name) and the loading of a dataset's plans and ``dataset.json``; configuration inheritance is resolved here too, and a
chain that comes back to itself is refused. nnU-Net reads its folders from the environment variables ``nnUNet_raw``,
``nnUNet_preprocessed`` and ``nnUNet_results``; the paths are read at call time, not import time, so tests and the
demo can set them late.
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


def _candidates(number: int) -> list:
    """Dataset folder names with this id in nnU-Net's three folders (nnU-Net's own search)."""
    from nnunetv2.utilities.dataset_name_id_conversion import find_candidate_datasets
    return sorted(str(name) for name in find_candidate_datasets(number))


DATASET_NAME = re.compile(r"Dataset(\d{3})_.+")


def dataset_id(dataset_name: str) -> int:
    """``Dataset004_Hippocampus`` -> 4."""
    match = DATASET_NAME.fullmatch(dataset_name)
    if match is None:
        raise ValueError(f"{dataset_name!r} is not an nnU-Net dataset name (DatasetXXX_Name)")
    return int(match.group(1))


def resolve_dataset(dataset: str) -> str:
    """``4``, ``004`` or ``Dataset004_Hippocampus`` -> ``Dataset004_Hippocampus``; LUnetError if unknown/ambiguous."""
    text = str(dataset)
    match = DATASET_NAME.fullmatch(text)
    if match is None and not text.isdigit():
        raise LUnetError(f"invalid dataset {text!r}: give an nnU-Net dataset id (e.g. 4) or name "
                         f"(e.g. Dataset004_Hippocampus)")
    number = dataset_id(text) if match else int(text)
    candidates = _candidates(number)
    if match:
        if text not in candidates:
            raise LUnetError(f"unknown dataset {text}: no such folder in nnUNet_raw, nnUNet_preprocessed or "
                             f"nnUNet_results ({', '.join(f'{v}={os.environ.get(v)}' for v in ENV_VARS)})")
        return text
    if not candidates:
        raise LUnetError(f"unknown dataset {text}: no Dataset{number:03d}_* folder in nnUNet_raw, "
                         f"nnUNet_preprocessed or nnUNet_results "
                         f"({', '.join(f'{v}={os.environ.get(v)}' for v in ENV_VARS)}); check -d and those variables")
    if len(candidates) > 1:
        raise LUnetError(f"dataset id {number} is ambiguous ({', '.join(candidates)}): pass the full name with -d")
    return candidates[0]


def plans_file(dataset_name: str, plans_name: str) -> str:
    """Path of ``<plans_name>.json`` in the dataset's preprocessed folder (it may not exist)."""
    return os.path.join(require_env("nnUNet_preprocessed"), dataset_name, plans_name + ".json")


# nnU-Net's residual encoder presets: plans name -> the planner that writes them (they reuse nnUNetPlans' data)
RESENC_PLANNERS = {f"nnUNetResEncUNet{size}Plans": f"nnUNetPlannerResEnc{size}" for size in ("M", "L", "XL")}


def planning_command(number: int, plans_name: str) -> str:
    """The nnU-Net command that writes ``plans_name``."""
    if plans_name in RESENC_PLANNERS:
        return f"nnUNetv2_plan_experiment -d {number} -pl {RESENC_PLANNERS[plans_name]}"
    return f"nnUNetv2_plan_and_preprocess -d {number}"


def _load_json(path: str, missing: str) -> dict:
    """The JSON file at ``path``; LUnetError ``missing`` when there is none."""
    if not os.path.isfile(path):
        raise LUnetError(missing)
    with open(path) as f:
        return json.load(f)


def load_plans(dataset_name: str, plans_name: str) -> dict:
    """The plans dict; LUnetError naming the missing file and the nnU-Net command that writes it."""
    path = plans_file(dataset_name, plans_name)
    return _load_json(path, f"dataset {dataset_name} has no plans '{plans_name}' ({path} is missing): run "
                            f"{planning_command(dataset_id(dataset_name), plans_name)} first (or pass the right -p)")


def load_dataset_json(dataset_name: str) -> dict:
    """``dataset.json`` as nnU-Net's preprocessing copied it into the preprocessed folder."""
    path = os.path.join(require_env("nnUNet_preprocessed"), dataset_name, "dataset.json")
    return _load_json(path, f"{path} is missing: run nnUNetv2_plan_and_preprocess -d {dataset_id(dataset_name)} (its "
                            f"preprocessing copies dataset.json there)")


def resolved_configuration(plans: dict, configuration: str) -> dict:
    """A configuration with its ``inherits_from`` chain merged (top-level keys only, as nnU-Net does); LUnetError on an
    unknown configuration or a chain that comes back to itself."""
    configurations = plans["configurations"]
    chain = []
    name: Optional[str] = configuration
    while name is not None:
        if name not in configurations:
            raise LUnetError(f"unknown configuration '{name}' in plans {plans.get('plans_name')}: available are "
                             f"{', '.join(sorted(configurations))}")
        if name in chain:
            raise LUnetError(f"configuration '{configuration}' of plans {plans.get('plans_name')} inherits from "
                             f"itself ({' -> '.join([*chain, name])}): fix inherits_from in the plans file")
        chain.append(name)
        name = configurations[name].get("inherits_from")
    merged: dict = {}
    for name in reversed(chain):
        merged.update(configurations[name])
    if len(chain) > 1:
        merged.pop("inherits_from", None)
    return merged


def require_preprocessed(dataset_name: str, plans: dict, configuration: str) -> None:
    """LUnetError unless the configuration's preprocessed data folder exists (variants reuse it for training)."""
    data_identifier = resolved_configuration(plans, configuration)["data_identifier"]
    folder = os.path.join(require_env("nnUNet_preprocessed"), dataset_name, data_identifier)
    if not os.path.isdir(folder):
        raise LUnetError(f"configuration '{configuration}' of {dataset_name} is planned but not preprocessed "
                         f"({folder} is missing): run nnUNetv2_preprocess -d {dataset_id(dataset_name)} "
                         f"-plans_name {plans['plans_name']} -c {configuration}")
