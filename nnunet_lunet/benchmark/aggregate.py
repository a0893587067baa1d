"""Runs of one model on several folds as one entry: n, median and min-max; paired per-fold differences.

Rules:

- A **point** is one model (``labels.group_name``: the results folder, a retrained shape of each fold's own pruning
  run counted as one) at one pruning level. A pruning run with ``validation_levelNN`` evaluations gives a point per
  level (Dice from the level's summary, parameters from the pruning log, ``records.read_levels``); without them, and
  every other model, one point from nnU-Net's final validation (a pruning run's level is then the share of channels
  its last step left, rounded).
- Per point and numeric column, over the folds that have a value: ``Spread`` = n, median, min, max
  (``statistics.median``: the middle value, or the mean of the two middle ones). Columns: validation Dice (nnU-Net's
  ``foreground_mean``), the Dice of each label (``val_dice_<label>``, from nnU-Net's final validation; a pruning
  level's evaluation gives the mean only), parameters, MACs per patch, the latencies' per-fold medians, the epoch
  time.
- **Paired differences** to a point ``b``: for each fold both have, ``Dice(a) - Dice(b)`` on that fold; their Spread
  (n = the folds both have). The reference of the table is the reference row's model at its final validation.
- Failed rows count with whatever numbers they have (a row that failed in timing still has its Dice).
- Budgets: the set of ``budget`` values of the point's folds, so that comparisons can refuse to mix them.
"""

import re
import statistics
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from nnunet_lunet.benchmark.labels import FAMILY_ORDER, Identity, disambiguate, group_name, identify

DICE = "val_dice_mean"
LEVEL_DICE = re.compile(r"level(\d+)_val_dice_mean")
LABEL_DICE = re.compile(r"val_dice_(?!mean$|note$)(.+)")
SPREAD_COLUMNS = ("parameters", "macs_per_patch", "latency_patch_median_ms", "latency_case_median_s",
                  "epoch_time_median_s")


@dataclass(frozen=True)
class Spread:
    n: int
    median: float
    min: float
    max: float


def spread(values: Sequence[float]) -> Optional[Spread]:
    """n, median, min, max of ``values``; None if there are none."""
    values = [float(v) for v in values]
    return Spread(len(values), statistics.median(values), min(values), max(values)) if values else None


@dataclass
class Point:
    key: str  # group name + "@level" for a pruning level
    model: str  # labels.group_name
    trainer: str
    plans: str
    identity: Identity
    label: str = ""
    reference: bool = False
    dice: Dict[str, float] = field(default_factory=dict)  # fold -> validation Dice
    values: Dict[str, Dict[str, float]] = field(default_factory=dict)  # column -> fold -> value
    budgets: List[str] = field(default_factory=list)

    @property
    def folds(self) -> List[str]:
        return sorted(self.dice, key=lambda f: (not f.isdigit(), int(f) if f.isdigit() else 0, f))

    def spread_of(self, column: str) -> Optional[Spread]:
        return spread(list(self.dice.values()) if column == DICE else list(self.values.get(column, {}).values()))


def _number(value: object) -> Optional[float]:
    """A cell as a number: rows hold numbers, rows read back from a CSV hold strings."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN


def _levels(row: Dict[str, object]) -> List[int]:
    return sorted((int(m[1]) for m in map(LEVEL_DICE.fullmatch, row) if m and _number(row[m[0]]) is not None),
                  reverse=True)


def _row_points(row: Dict[str, object]):
    """``(level or None, whether from a level evaluation, Dice, {column: value})`` of one row (module rules)."""
    levels = _levels(row)
    if levels:
        return [(lv, True, _number(row[f"level{lv}_val_dice_mean"]),
                 {"parameters": _number(row.get(f"level{lv}_parameters"))}) for lv in levels]
    left = _number(row.get("channels_left_percent"))
    labels = {k: _number(v) for k, v in row.items() if LABEL_DICE.fullmatch(k)}
    return [(round(left) if left is not None else None, False, _number(row.get(DICE)),
             {**{c: _number(row.get(c)) for c in SPREAD_COLUMNS}, **labels})]


def label_order(key: str):
    """Sort key of per-label columns: '2' before '10', regions '(1, 2)' after labels."""
    return len(key), key


def label_columns(points: Sequence["Point"]) -> List[str]:
    """The ``val_dice_<label>`` columns any point has, in label order."""
    return sorted({c for p in points for c in p.values if LABEL_DICE.fullmatch(c)}, key=label_order)


def aggregate(rows: Sequence[Dict[str, object]], base: str) -> List[Point]:
    """The points of ``rows`` (``base``: the configuration benchmarked), in family order, largest first."""
    points: Dict[str, Point] = {}
    for row in rows:
        trainer, plans, configuration, fold = (str(row[k]) for k in ("trainer", "plans", "configuration", "fold"))
        model = group_name(trainer, plans, configuration, fold)
        for level, from_levels, dice, values in _row_points(row):
            key = model + (f"@{level}" if from_levels else "")
            point = points.setdefault(key, Point(key, model, trainer, plans, identify(trainer, configuration, base,
                                                                                      level)))
            point.reference = point.reference or (row.get("reference") == "yes" and not from_levels)
            if dice is not None:
                point.dice[fold] = dice
            for column, value in values.items():
                if value is not None:
                    point.values.setdefault(column, {})[fold] = value
            if row.get("budget") not in (None, "") and str(row["budget"]) not in point.budgets:
                point.budgets.append(str(row["budget"]))
    ordered = sorted(points.values(), key=_order)
    labels = disambiguate([(p.model, p.trainer, p.plans) for p in ordered], [p.identity.label for p in ordered])
    for point, label in zip(ordered, labels):
        point.label = label
    return ordered


def _order(point: Point):
    family = point.identity.family
    size = point.spread_of("parameters")
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), family,
            -(size.median if size else 0), point.key)


def reference_point(points: Sequence[Point]) -> Optional[Point]:
    return next((p for p in points if p.reference), None)


def paired_differences(a: Point, b: Point) -> Dict[str, float]:
    """``{fold: Dice(a) - Dice(b)}`` over the folds both have."""
    return {f: a.dice[f] - b.dice[f] for f in a.folds if f in b.dice}


def _spread_cells(prefix: str, s: Optional[Spread]) -> Dict[str, object]:
    return {f"{prefix}_median": s and s.median, f"{prefix}_min": s and s.min, f"{prefix}_max": s and s.max}


def summary_rows(points: Sequence[Point]) -> List[Dict[str, object]]:
    """One CSV row per point (``report.SUMMARY_COLUMNS``)."""
    ref = reference_point(points)
    out = []
    for p in points:
        diff = spread(list(paired_differences(p, ref).values())) if ref is not None and p is not ref else None
        row: Dict[str, object] = {
            "label": p.label, "family": p.identity.family, "model": p.model, "level": p.identity.level,
            "reference": "yes" if p.reference else "", "n": len(p.dice), "folds": " ".join(p.folds),
            **_spread_cells("val_dice", p.spread_of(DICE)),
            "diff_to_reference_n": diff and diff.n, **_spread_cells("diff_to_reference", diff),
            "budget": " ".join(p.budgets)}
        for column in list(SPREAD_COLUMNS) + label_columns(points):
            row.update(_spread_cells(column, p.spread_of(column)))
        out.append(row)
    return out


def add_fold_differences(rows: Sequence[Dict[str, object]]) -> None:
    """``dice_diff_to_reference`` of every row: its validation Dice minus the reference row's of the same fold."""
    ref = {str(r["fold"]): _number(r.get(DICE)) for r in rows if r.get("reference") == "yes"}
    for row in rows:
        dice, ref_dice = _number(row.get(DICE)), ref.get(str(row["fold"]))
        row["dice_diff_to_reference"] = dice - ref_dice if dice is not None and ref_dice is not None else None
