"""Write a plans file that adds configurations to a dataset's existing nnU-Net plans; never overwrite silently.

The new file (e.g. ``nnUNetPlans_lunet.json``) sits next to the source plans in ``nnUNet_preprocessed/<dataset>/``.
It is a copy of the source plans (all source configurations stay, because the added ones inherit from them) with a
new ``plans_name`` and the added configurations, so ``nnUNetv2_train <id> 3d_fullres_lunet16 0 -p nnUNetPlans_lunet``
trains with nnU-Net's standard trainer.

The file carries ``WRITTEN_BY`` (``safe_output.marker``: package, command, version; nnU-Net ignores the key), and
``overwrite`` replaces only a file that has it, i.e. one this package wrote: nnU-Net's own plans and a user's are
refused with nothing changed. The file is written atomically (``safe_output.write_json``).
"""

import copy
import json
import os
from typing import Dict

from nnunet_lunet.datasets import load_plans, plans_file
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import PACKAGE, marker, write_json

WRITTEN_BY = "written_by"


def _written_by_package(path: str) -> bool:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get(WRITTEN_BY), dict) and \
        data[WRITTEN_BY].get("package") == PACKAGE


def check_target(dataset_name: str, source_plans: str, target_plans: str, overwrite: bool) -> str:
    """The target plans path, after refusing a target equal to the source or an existing one without overwrite."""
    if target_plans == source_plans:
        raise LUnetError(f"the output plans name equals the source plans '{source_plans}': choose another name "
                         f"(e.g. {source_plans}_lunet) so nnU-Net's own plans stay untouched")
    path = plans_file(dataset_name, target_plans)
    if os.path.exists(path) and not overwrite:
        raise LUnetError(f"{path} already exists: pass --overwrite to replace it, or choose another output plans name")
    if os.path.exists(path) and not _written_by_package(path):
        raise LUnetError(f"{path} was not written by nnunet-lunet (no '{WRITTEN_BY}' entry), so --overwrite leaves "
                         f"it alone: choose another output plans name, or move the file away yourself")
    return path


def write_plans_with(dataset_name: str, source_plans: str, target_plans: str, configurations: Dict[str, dict],
                     overwrite: bool = False, command: str = "plan") -> str:
    """Copy ``source_plans`` to ``target_plans`` with ``configurations`` added; return the written path.

    Everything is validated before anything is written; the file is replaced atomically.
    """
    path = check_target(dataset_name, source_plans, target_plans, overwrite)
    plans = copy.deepcopy(load_plans(dataset_name, source_plans))
    plans["plans_name"] = target_plans
    plans["configurations"].update(configurations)
    plans[WRITTEN_BY] = marker(command, complete=True)
    write_json(path, plans, indent=4)
    return path
