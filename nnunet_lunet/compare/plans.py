"""The comparison's plans: ``<plans>_compare`` (``<plans>_compare_b<B>`` with a batch size; named in ``plans.names``),
with the width variants its rows train, written by the plan code (``plans.variants``, ``plans.writer``) as
``nnunet-lunet plan`` does.

Rules: the file is reused as it is when it has every configuration the rows need and the source configuration's
batch size is the requested one (``--batch-size``, else the source plans'); configurations it lacks are added
(those it has are kept as they are, so runs already trained on them stay valid); a file of the same name with another
batch size is refused (it is not this comparison's). ``missing_configurations`` checks, ``write_compare_plans``
writes.
"""

import json
import os
from typing import Dict, List, Optional, Sequence

from nnunet_lunet.compare.presets import Row
from nnunet_lunet.datasets import load_plans, plans_file, resolved_configuration
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.names import compare_plans_name  # noqa: F401 - the comparison's plans name, here too
from nnunet_lunet.plans.run_names import variant_configuration


def needed_configurations(rows: Sequence[Row], configuration: str) -> Dict[str, Row]:
    """``{configuration name: row}`` for the width rows (the source configuration for the default network) and the
    pruning rows (they train the source configuration: a comparison of pruning rows alone needs it too)."""
    return {variant_configuration(configuration, r.suffix): r for r in rows if r.kind in ("width", "pruning")}


def _batch_size(plans: dict, configuration: str) -> int:
    return int(resolved_configuration(plans, configuration)["batch_size"])


def missing_configurations(dataset: str, source_plans: dict, target: str, configuration: str, rows: Sequence[Row],
                           batch_size: Optional[int]) -> List[str]:
    """The configurations the rows need that ``target`` lacks (all of them if it does not exist); LUnetError if it
    exists with another batch size. Reads only."""
    path = plans_file(dataset, target)
    needed = list(needed_configurations(rows, configuration))
    if not os.path.isfile(path):
        return needed
    try:
        with open(path) as f:
            existing = json.load(f)
        have = _batch_size(existing, configuration)
    except (OSError, ValueError, KeyError) as error:
        raise LUnetError(f"{path} cannot be read as plans ({error}): move it away") from None
    wanted = batch_size if batch_size is not None else _batch_size(source_plans, configuration)
    if have != wanted:
        raise LUnetError(f"{path} plans {configuration} at batch size {have}, not {wanted}: it is not this "
                         f"comparison's plans; move it away or pass --batch-size {have}")
    return [c for c in needed if c not in existing["configurations"]]


def write_compare_plans(dataset: str, source: str, target: str, configuration: str, rows: Sequence[Row],
                        missing: Sequence[str], batch_size: Optional[int]) -> str:
    """Write ``target`` with the missing configurations added (module rules); returns its path."""
    from nnunet_lunet.plans.variants import (derive_configuration, flat_variant, matched_variant, scaled_variant,
                                             with_batch_size)
    from nnunet_lunet.plans.writer import write_plans_with
    from nnunet_lunet.plans_networks import load_dataset_json, parameter_counter

    source_plans = load_plans(dataset, source)
    path = plans_file(dataset, target)
    configurations: Dict[str, dict] = {}
    if os.path.isfile(path):  # keep what is there (runs may use it)
        with open(path) as f:
            existing = json.load(f)["configurations"]
        configurations = {k: v for k, v in existing.items() if k not in source_plans["configurations"]
                          or k == configuration}
    elif batch_size is not None:
        configurations[configuration] = with_batch_size(source_plans, configuration, batch_size)
    counter = None
    by_name = needed_configurations(rows, configuration)
    for name in missing:
        rule, value = by_name[name].variant or (None, None)
        if rule is None:
            continue  # the source configuration: in the copy already
        if rule == "matched" and counter is None:
            counter = parameter_counter(source_plans, load_dataset_json(dataset))
        variant = {"flat": lambda: flat_variant(int(value)), "scaled": lambda: scaled_variant(value),
                   "matched": lambda: matched_variant(int(value), counter)}[rule]()
        derived_name, derived = derive_configuration(source_plans, configuration, variant)
        configurations[derived_name] = derived
    return write_plans_with(dataset, source, target, configurations, overwrite=True)
