"""How each row was trained, and where it differs from the reference: a comparison is only fair between rows
trained alike.

Rules:

- Everything comes from ``debug.json``, which nnU-Net writes into every fold folder when training starts (``str()``
  of the trainer's attributes): the trainer class, the optimizer (its class name and, from its printed parameter
  group, ``initial_lr``, ``momentum`` and ``weight_decay``; Adam has no momentum), the budget
  (``num_epochs`` x ``num_iterations_per_epoch``), the batch size and the patch size. The checkpoint that was
  measured comes from the benchmark's settings.
- A row differs from the reference in a field when both values are known and not equal. The trainer name itself is
  not compared (``nnUNetTrainerLUnet16`` and ``nnUNetTrainerLeanRecipe`` share a recipe): its recipe is.
- A fold without ``debug.json`` gets empty fields and is compared on nothing.
"""

import json
import os
import re
from typing import Dict, List, Optional, Sequence

FIELDS = ("recipe", "initial_lr", "momentum", "weight_decay", "budget", "train_batch_size", "train_patch_size",
          "checkpoint")
COMPARED = FIELDS  # every field; listed apart so that a descriptive field can be added without being compared


def _group_value(optimizer: str, name: str) -> Optional[str]:
    match = re.search(rf"^\s*{name}: (\S+)$", optimizer, flags=re.MULTILINE)
    return match.group(1) if match else None


def read_training_setup(fold_folder: str, checkpoint: str) -> Dict[str, Optional[str]]:
    """The ``FIELDS`` of the run in ``fold_folder`` (values as strings; None where unknown)."""
    setup: Dict[str, Optional[str]] = dict.fromkeys(FIELDS)
    setup["checkpoint"] = checkpoint
    path = os.path.join(fold_folder, "debug.json")
    if not os.path.isfile(path):
        return setup
    with open(path) as f:
        debug = json.load(f)
    optimizer = debug.get("optimizer", "")
    patch = re.search(r"'patch_size': \[([^\]]*)\]", debug.get("configuration_manager", ""))
    setup.update(
        recipe=optimizer.split(" ", 1)[0] or None,
        initial_lr=_group_value(optimizer, "initial_lr") or debug.get("initial_lr"),
        momentum=_group_value(optimizer, "momentum"),
        weight_decay=_group_value(optimizer, "weight_decay") or debug.get("weight_decay"),
        budget=(f"{debug['num_epochs']}x{debug['num_iterations_per_epoch']}"
                if "num_epochs" in debug and "num_iterations_per_epoch" in debug else None),
        train_batch_size=debug.get("batch_size"),
        train_patch_size="x".join(p.strip() for p in patch.group(1).split(",")) if patch else None,
    )
    return setup


def differences(row: Dict[str, object], reference: Dict[str, object]) -> List[str]:
    """The compared fields in which ``row`` and ``reference`` both have a value and the values differ."""
    return [f for f in COMPARED if row.get(f) not in (None, "") and reference.get(f) not in (None, "")
            and str(row[f]) != str(reference[f])]


def flag_differences(rows: Sequence[Dict[str, object]], reference_model: Optional[str]) -> List[str]:
    """Set each row's ``differs`` column (fields that differ from the reference row of its fold, comma-separated);
    return one note per differing row saying what differs, for under the table."""
    refs = {r["fold"]: r for r in rows if reference_model and r["model"] == reference_model}
    notes = []
    for row in rows:
        ref = refs.get(row["fold"], next(iter(refs.values()), None))
        fields = differences(row, ref) if ref is not None and row is not ref else []
        row["differs"] = ", ".join(fields)
        if fields:
            what = "; ".join(f"{f} {row[f]} (reference {ref[f]})" for f in fields)
            notes.append(f"not trained like the reference: {row['model']} fold {row['fold']}: {what}")
    return notes
