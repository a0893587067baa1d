"""Write a plans file that adds configurations to a dataset's existing nnU-Net plans; never overwrite silently.

The new file (e.g. ``nnUNetPlans_lunet.json``) sits next to the source plans in ``nnUNet_preprocessed/<dataset>/``.
It is a copy of the source plans (all source configurations stay, because the added ones inherit from them) with a
new ``plans_name`` and the added configurations, so ``nnUNetv2_train <id> 3d_fullres_lunet16 0 -p nnUNetPlans_lunet``
trains with nnU-Net's standard trainer.

The file carries ``WRITTEN_BY`` (``safe_output.marker``: package, command, version; nnU-Net ignores the key), and
``overwrite`` replaces only a file that has it, i.e. one this package wrote: nnU-Net's own plans and a user's are
refused with nothing changed. A file without it that is plainly one the package wrote before it added the entry is
taken as the package's too (``_older_variant_file``): named ``target`` in its ``plans_name``, every entry but the
configurations as in the source plans, each configuration either a source configuration as in the source (its
batch size aside) or an added one that only inherits from a source configuration and sets its network
(``inherits_from`` and ``architecture``, what ``plans.variants`` writes). The refusal names what differs. The file is
written atomically (``safe_output.write_json``).
"""

import copy
import json
import os
from typing import Dict, Optional

from nnunet_lunet.datasets import load_plans, plans_file
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import PACKAGE, marker, write_json

WRITTEN_BY = "written_by"


def _read(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _written_by_package(data: dict) -> bool:
    return isinstance(data.get(WRITTEN_BY), dict) and data[WRITTEN_BY].get("package") == PACKAGE


def _older_variant_file(data: dict, source: dict, target: str) -> Optional[str]:
    """None when ``data`` is a width-variant copy of ``source`` named ``target`` (module rules), else what differs."""
    if data.get("plans_name") != target:
        return f"its plans_name is {data.get('plans_name')!r}, not {target!r}"
    for key in sorted(set(data) | set(source)):
        if key not in ("plans_name", "configurations") and data.get(key) != source.get(key):
            return f"its entry {key!r} differs from the source plans'"
    sources = source.get("configurations", {})
    for name, entry in (data.get("configurations") or {}).items():
        if name in sources:
            if {k: v for k, v in entry.items() if k != "batch_size"} != \
                    {k: v for k, v in sources[name].items() if k != "batch_size"}:
                return f"its configuration {name} differs from the source plans' (beyond the batch size)"
        elif not (isinstance(entry, dict) and set(entry) == {"inherits_from", "architecture"}
                  and entry["inherits_from"] in sources):
            return f"its configuration {name} is not a width variant (inherits_from a source configuration, " \
                   f"architecture) of the source plans"
    return None


def check_target(dataset_name: str, source_plans: str, target_plans: str, overwrite: bool) -> str:
    """The target plans path, after refusing a target equal to the source, an existing one without overwrite, and
    one the package did not write (module rules)."""
    if target_plans == source_plans:
        raise LUnetError(f"the output plans name equals the source plans '{source_plans}': choose another name "
                         f"(e.g. {source_plans}_lunet) so nnU-Net's own plans stay untouched")
    path = plans_file(dataset_name, target_plans)
    if os.path.exists(path) and not overwrite:
        raise LUnetError(f"{path} already exists: pass --overwrite to replace it, or choose another output plans name")
    if os.path.exists(path):
        data = _read(path)
        if data is None:
            raise LUnetError(f"{path} is not a plans file (no JSON object) and was not written by nnunet-lunet, so "
                             f"--overwrite leaves it alone: choose another output plans name, or move it away yourself")
        if not _written_by_package(data):
            differs = _older_variant_file(data, load_plans(dataset_name, source_plans), target_plans)
            if differs is not None:
                raise LUnetError(f"{path} was not written by nnunet-lunet (no '{WRITTEN_BY}' entry, and {differs}), "
                                 f"so --overwrite leaves it alone: choose another output plans name, or move the "
                                 f"file away yourself")
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
