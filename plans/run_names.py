"""Run identity in one place: every name of a trained run that nnU-Net or the package builds, and its parser beside
it (each parser undoes its builder; ``tests/test_run_names.py`` checks the round trips).

- **model folder** ``<trainer>__<plans>__<configuration>`` (nnU-Net's ``$nnUNet_results/<dataset>/`` layout):
  ``model_name`` / ``parse_model_name`` (exactly three non-empty parts);
- **fold folder** ``fold_<N>`` or ``fold_all``: ``fold_name`` / ``parse_fold_name``; a **run** is
  ``<model folder>/fold_<N>`` (``run_path`` / ``parse_run_path``);
- **width suffixes** of a configuration (``<base>_<suffix>``, ``variant_configuration`` / ``suffix_of``):
  ``lunet<N>`` (every stage N wide), ``scaled<NN>`` (default widths x NN%), ``scaled_as_lunet<N>`` (default widths
  scaled to LUnetN's parameter count): ``width_suffix`` / ``parse_width_suffix`` (``("flat", N)``, ``("scaled",
  NN/100)``, ``("matched", N)``);
- **pruned configuration** ``<base>_pruned_<trainer>_f<K>[_level<NN> | _step<S>]`` (``export-pruned``'s widths of a
  pruning run of fold K at NN% of its channels or at step S): ``pruned_configuration`` / ``parse_pruned``;
- **trainer -> criterion -> label**: a pruning trainer is named after its criterion (``nnUNetTrainerSTAMP``,
  ``nnUNetTrainerPruneWidest``, ...; its ``_budget``/``_smoke`` and other ``_<variant>`` classes alike):
  ``criterion_of`` gives the criterion's short name (``CRITERIA``: the labels of tables and plots), from the name
  alone; ``short_trainer`` a trainer without ``nnUNetTrainer`` and its budget ending; ``lunet_trainer_width`` the
  width a LUnet trainer trains (``nnUNetTrainerLUnet<N>...``, ``nnUNetTrainerLUnet``: 32);
- the files ``compare`` keeps per run: its lock ``<model>__f<fold>`` and its log ``<model>__fold_<fold>.log``.
"""

import re
from dataclasses import dataclass
from typing import Optional, Tuple

from nnunet_lunet.widths import flat_name, matched_name, scaled_name

SEPARATOR = "__"
CRITERIA: Tuple[Tuple[str, str], ...] = (  # trainer prefix, criterion's short name
    ("nnUNetTrainerSTAMP", "STAMP"),
    ("nnUNetTrainerPruneRandomInLayer", "Random in layer"),
    ("nnUNetTrainerPruneWidest", "Widest layer"),
    ("nnUNetTrainerPruneL1Unnormalised", "L1 unnormalised"),
    ("nnUNetTrainerPruneL1", "L1"),
    ("nnUNetTrainerPruneRandom", "Uniform random"),
    ("nnUNetTrainerSTAMPDropout", "STAMP with targeted dropout"),
)
_FOLD = re.compile(r"fold_(\d+|all)")
_PRUNED_INFIX = "_pruned_"
_PRUNED_REST = r"(?P<trainer>.+?)_f(?P<fold>\d+|all)(?:_level(?P<level>\d+)|_step(?P<step>\d+))?"
_PRUNED = re.compile(r"(?P<base>.+?)" + _PRUNED_INFIX + _PRUNED_REST)
_PRUNED_REST = re.compile(_PRUNED_REST)
_WIDTH = {"flat": (re.compile(r"lunet(\d+)"), int), "scaled": (re.compile(r"scaled(\d+)"), lambda v: int(v) / 100),
          "matched": (re.compile(r"scaled_as_lunet(\d+)"), int)}
_BUDGET_ENDING = re.compile(r"_(budget|smoke)$")
_LUNET_TRAINER = re.compile(r"nnUNetTrainerLUnet(?P<width>\d*)(?:_.*)?")
DEFAULT_LUNET_WIDTH = 32  # nnUNetTrainerLUnet


# -- model and fold folders --------------------------------------------------------------------------------------
def model_name(trainer: str, plans: str, configuration: str) -> str:
    return SEPARATOR.join((trainer, plans, configuration))


def parse_model_name(name: str) -> Optional[Tuple[str, str, str]]:
    """``'T__P__C'`` -> ``(T, P, C)``; None for names that are not nnU-Net model folders."""
    parts = name.split(SEPARATOR)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def fold_name(fold) -> str:
    return f"fold_{fold}"


def parse_fold_name(name: str) -> Optional[str]:
    """``'fold_3'`` -> ``'3'``, ``'fold_all'`` -> ``'all'``; None otherwise."""
    found = _FOLD.fullmatch(name)
    return found.group(1) if found else None


def run_path(trainer: str, plans: str, configuration: str, fold) -> str:
    """``T__P__C/fold_N`` (relative to ``$nnUNet_results/<dataset>``)."""
    return f"{model_name(trainer, plans, configuration)}/{fold_name(fold)}"


def parse_run_path(path: str) -> Optional[Tuple[str, str, str, str]]:
    """``'T__P__C/fold_N'`` -> ``(T, P, C, 'N')``; None otherwise."""
    model, _, fold = path.rstrip("/").rpartition("/")
    parsed, fold = parse_model_name(model.rsplit("/", 1)[-1]), parse_fold_name(fold)
    return parsed + (fold,) if parsed and fold is not None else None


# -- configurations ----------------------------------------------------------------------------------------------
def variant_configuration(base: str, suffix: str) -> str:
    """``3d_fullres`` + ``lunet16`` -> ``3d_fullres_lunet16``; the base itself for no suffix."""
    return f"{base}_{suffix}" if suffix else base


def suffix_of(configuration: str, base: str) -> str:
    """``'lunet16'`` for ``3d_fullres_lunet16`` of ``3d_fullres``; ``''`` for the base itself."""
    return configuration[len(base) + 1:] if configuration.startswith(base + "_") else ""


def width_suffix(rule: str, value: float) -> str:
    """``("flat", 16)`` -> ``lunet16``, ``("scaled", 0.5)`` -> ``scaled50``, ``("matched", 16)`` ->
    ``scaled_as_lunet16``."""
    return {"flat": flat_name, "scaled": scaled_name, "matched": matched_name}[rule](value)


def parse_width_suffix(suffix: str) -> Optional[Tuple[str, float]]:
    """The inverse of ``width_suffix``; None for other suffixes."""
    for rule, (pattern, value) in _WIDTH.items():
        found = pattern.fullmatch(suffix)
        if found:
            return rule, value(found.group(1))
    return None


@dataclass(frozen=True)
class Pruned:
    """A pruned configuration's parts: the pruning run (``trainer`` on ``fold``) and where its widths were taken."""

    base: str
    trainer: str
    fold: str
    level: Optional[int] = None  # % of channels left
    step: Optional[int] = None


def pruned_configuration(base: str, trainer: str, fold, level: Optional[int] = None,
                         step: Optional[int] = None) -> str:
    assert level is None or step is None, "a pruned shape is taken at a level or at a step, not both"
    at = f"_level{level}" if level is not None else (f"_step{step}" if step is not None else "")
    return f"{base}{_PRUNED_INFIX}{trainer}_f{fold}{at}"


def parse_pruned(configuration: str, base: Optional[str] = None) -> Optional[Pruned]:
    """The parts of a pruned configuration (of ``base`` when given); None for other configurations."""
    if base is None:
        found = _PRUNED.fullmatch(configuration)
        base = found["base"] if found else None
    elif configuration.startswith(base + _PRUNED_INFIX):
        found = _PRUNED_REST.fullmatch(configuration[len(base + _PRUNED_INFIX):])
    else:
        found = None
    return Pruned(base, found["trainer"], found["fold"], _int(found["level"]), _int(found["step"])) if found else None


def _int(text: Optional[str]) -> Optional[int]:
    return int(text) if text else None


# -- trainers ----------------------------------------------------------------------------------------------------
def criterion_of(trainer: str) -> Optional[str]:
    """``'STAMP'`` for ``nnUNetTrainerSTAMP_budget`` etc.; None for a trainer that does not prune."""
    for prefix, name in CRITERIA:
        if trainer == prefix or trainer.startswith(prefix + "_"):
            return name
    return None


def lunet_trainer_width(trainer: str) -> Optional[int]:
    """The width of a LUnet trainer (``nnUNetTrainerLUnet16...``: 16; ``nnUNetTrainerLUnet``: 32); None for others."""
    found = _LUNET_TRAINER.fullmatch(trainer)
    return (int(found["width"]) if found["width"] else DEFAULT_LUNET_WIDTH) if found else None


def short_trainer(trainer: str) -> str:
    """``LeanRecipe`` for ``nnUNetTrainerLeanRecipe_budget``; ``nnUNetTrainer`` for ``nnUNetTrainer_smoke``."""
    trainer = _BUDGET_ENDING.sub("", trainer)
    return trainer.replace("nnUNetTrainer", "", 1) or trainer


# -- compare's files per run -------------------------------------------------------------------------------------
def lock_name(trainer: str, plans: str, configuration: str, fold) -> str:
    return f"{model_name(trainer, plans, configuration)}__f{fold}"


def log_name(trainer: str, plans: str, configuration: str, fold) -> str:
    return f"{model_name(trainer, plans, configuration)}__fold_{fold}.log"
