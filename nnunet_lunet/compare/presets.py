"""The comparisons ``nnunet-lunet compare`` knows: a preset is data, a list of ``Row``s.

A row is one model of the comparison, trained on every requested fold with one recipe (the lean recipe) and one
budget. Three kinds:

- a width row: nnU-Net's network at other widths, a configuration variant that ``nnunet-lunet plan`` writes
  (``variant``: ``("flat", 16)`` is LUnet16 = ``<config>_lunet16``, ``("scaled", 0.5)`` the default widths at 50% =
  ``<config>_scaled50``, ``("matched", 16)`` the default widths scaled to LUnet16's parameter count =
  ``<config>_scaled_as_lunet16``; ``None`` is nnU-Net's default network, the reference);
- a pruning row: the default network trained by a pruning trainer (``pruning``, e.g. ``nnUNetTrainerSTAMP``) that
  removes channels gradually and records validation Dice at each level (``fold_N/validation_level75`` ...);
- a retrain row: the widths a pruning row reached at ``level`` % of its channels (``nnunet-lunet export-pruned
  --level``), trained from scratch.

Keys (``--rows``) are short and stable; labels are what tables and plots show.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import width_suffix

RECIPE_TRAINER = "nnUNetTrainerLeanRecipe_budget"  # every width and retrain row
BUDGET_SUFFIX = "_budget"  # a pruning row's trainer: <pruning>_budget
PRUNING_LEVELS = (75, 50, 25)  # % of channels remaining at which pruning rows record Dice


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    family: str
    variant: Optional[Tuple[str, float]] = None  # ("flat", width) / ("scaled", scale) / ("matched", width)
    pruning: Optional[str] = None  # the pruning criterion's trainer (pruning and retrain rows)
    level: Optional[int] = None  # retrain rows: % of channels remaining

    @property
    def kind(self) -> str:
        return "width" if self.pruning is None else ("pruning" if self.level is None else "retrain")

    @property
    def suffix(self) -> str:
        """The width variant's configuration suffix (``lunet16``, ``scaled50``, ``scaled_as_lunet16``; "" for none)."""
        if self.variant is None:
            return ""
        return width_suffix(*self.variant)

    @property
    def trainer(self) -> str:
        return RECIPE_TRAINER if self.kind != "pruning" else self.pruning + BUDGET_SUFFIX


def _width(key: str, label: str, family: str, rule: Optional[str] = None, value: float = 0) -> Row:
    return Row(key, label, family, variant=(rule, value) if rule else None)


DEFAULT = _width("default", "default", "default network")


def _lunet(width: int) -> Row:
    return _width(f"lunet{width}", f"LUnet{width}", "LUnet", "flat", width)


def _scaled(percent: int) -> Row:
    return _width(f"scaled{percent}", f"U-Net {percent}%", "scaled U-Net", "scaled", percent / 100)


def _matched(width: int) -> Row:
    return _width(f"unet_as_lunet{width}", f"U-Net of LUnet{width}'s size", "scaled U-Net", "matched", width)


PRUNING = {"stamp": ("STAMP", "nnUNetTrainerSTAMP"),
           "random_in_layer": ("random in STAMP's layer", "nnUNetTrainerPruneRandomInLayer"),
           "widest": ("widest layer", "nnUNetTrainerPruneWidest"),
           "l1_unnormalised": ("L1 unnormalised", "nnUNetTrainerPruneL1Unnormalised"),
           "l1": ("L1", "nnUNetTrainerPruneL1"),
           "uniform_random": ("uniform random", "nnUNetTrainerPruneRandom")}


def _pruning(key: str) -> Row:
    label, trainer = PRUNING[key]
    return Row(key, label, "pruned: " + label, pruning=trainer)


def _retrained(key: str, level: int) -> Row:
    label, trainer = PRUNING[key]
    return Row(f"{key}{level}_retrained", f"{label} {level}% retrained", "pruned, retrained", pruning=trainer,
               level=level)


PRESETS: Dict[str, List[Row]] = {
    # what the demo trains: the reference, two LUnets, the U-Net of LUnet16's size and a STAMP run
    "small": [DEFAULT, _lunet(16), _lunet(8), _matched(16), _pruning("stamp")],
    # the paper's comparison (arXiv 2512.03834, Fig. 3-5)
    "paper": ([DEFAULT] + [_lunet(w) for w in (32, 16, 8, 4)] + [_scaled(p) for p in (75, 50, 25)]
              + [_matched(16), _matched(8)] + [_pruning(k) for k in PRUNING]
              + [_retrained("stamp", level) for level in PRUNING_LEVELS]),
}


def preset_rows(preset: str, keys: Optional[Sequence[str]] = None) -> List[Row]:
    """The rows of ``preset`` (all, or those of ``keys`` in the preset's order); LUnetError for unknown names.

    A retrain row needs its pruning row, which is added when ``keys`` leaves it out."""
    if preset not in PRESETS:
        raise LUnetError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    rows = PRESETS[preset]
    if keys is None:
        return list(rows)
    known = {r.key for r in rows}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise LUnetError(f"--rows {' '.join(unknown)}: not in preset {preset}; its rows are "
                         f"{' '.join(known_keys(preset))}")
    wanted = set(keys) | {r.pruning for r in rows if r.key in keys and r.kind == "retrain"}
    return [r for r in rows if r.key in wanted or (r.kind == "pruning" and r.pruning in wanted)]


def known_keys(preset: str) -> List[str]:
    return [r.key for r in PRESETS[preset]]
