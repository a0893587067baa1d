"""What a benchmark row is, in a reader's words: its family (a plot series) and a short label. The one place where
table, plots and claims get their names from.

Rules (``base`` is the configuration benchmarked, ``-c``; ``suffix`` what a variant adds to it after ``_``; every
name is built and parsed by ``plans.run_names``, this module only words them):

- **default**: the base configuration with a trainer that is no LUnet or pruning trainer. Label ``default``.
- **LUnet**: configuration ``<base>_lunetN``, or a trainer ``nnUNetTrainerLUnetN...`` (``nnUNetTrainerLUnet``: 32).
  Label ``LUnetN``.
- **U-Net scaled**: ``<base>_scaledNN`` (the default widths times NN%). Label ``U-Net NN%``.
- **U-Net of a LUnet's size**: ``<base>_scaled_as_lunetN``. Label ``U-Net of LUnetN's size``.
- **pruning criterion** (trainers ``nnUNetTrainerSTAMP*``, ``nnUNetTrainerPruneRandomInLayer*``,
  ``nnUNetTrainerPruneWidest*``, ``nnUNetTrainerPruneL1Unnormalised*``; their ``_budget``/``_smoke`` variants alike):
  family ``STAMP``, ``Random in layer``, ``Widest layer``, ``L1 unnormalised``; label ``<criterion> NN%`` at a pruning
  level (NN% of the channels left), else the criterion alone.
- **retrained pruned shape**: ``<base>_pruned_<trainer>_f<K>[_levelNN | _stepS]`` (``export-pruned``'s names). Family
  ``<criterion> retrained``; label ``<criterion> NN% retrained`` (``step S`` for a step, nothing without either).
- anything else: family ``other``, label the trainer (``short_trainer``) plus the configuration's suffix.

Labels that two different models would share get the trainer in brackets (``disambiguate``): without
``nnUNetTrainer`` and a ``_budget``/``_smoke`` ending where that tells them apart, else in full; then the plans.
``group_name``: runs of one model on several folds share it; a retrained shape exported from fold K and trained on
fold K is written ``_f*`` there, so that "each fold's own pruned shape, retrained" is one model over the folds.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from nnunet_lunet.plans.run_names import (CRITERIA, criterion_of, lunet_trainer_width, model_name, parse_pruned,
                                          parse_width_suffix, pruned_configuration, short_trainer, suffix_of)

DEFAULT = "default network"
LUNET = "LUnet"
SCALED = "U-Net scaled"
MATCHED = "U-Net of a LUnet's size"
OTHER = "other"
RETRAINED = " retrained"
FAMILY_ORDER = [DEFAULT, LUNET, SCALED, MATCHED] + [c for _, c in CRITERIA] + [c + RETRAINED for _, c in CRITERIA]


@dataclass(frozen=True)
class Identity:
    family: str
    label: str
    criterion: Optional[str] = None  # the pruning criterion's short name (pruning runs and retrained shapes)
    level: Optional[int] = None  # % of channels left, where known
    lunet_width: Optional[int] = None  # LUnetN and the U-Net of LUnetN's size


def identify(trainer: str, configuration: str, base: str, level: Optional[int] = None) -> Identity:
    """Family and label of a model (at a pruning ``level``, % of channels left, for a pruning run)."""
    suffix = suffix_of(configuration, base)
    criterion = criterion_of(trainer)
    pruned = parse_pruned(configuration, base)
    if pruned:
        source = criterion_of(pruned.trainer) or pruned.trainer.replace("nnUNetTrainer", "")
        at = f" {pruned.level}%" if pruned.level is not None else (f" step {pruned.step}" if pruned.step else "")
        return Identity(source + RETRAINED, f"{source}{at}{RETRAINED}", source, pruned.level)
    if criterion is not None and not suffix:
        return Identity(criterion, criterion + (f" {level}%" if level is not None else ""), criterion, level)
    width = parse_width_suffix(suffix)
    trainer_width = lunet_trainer_width(trainer)
    if (width and width[0] == "flat") or (trainer_width and not suffix):
        lunet = int(width[1]) if width else trainer_width
        return Identity(LUNET, f"LUnet{lunet}", lunet_width=lunet)
    if width and width[0] == "matched":
        return Identity(MATCHED, f"U-Net of LUnet{int(width[1])}'s size", lunet_width=int(width[1]))
    if width and width[0] == "scaled":
        return Identity(SCALED, f"U-Net {round(width[1] * 100)}%")
    if not suffix and criterion is None:
        return Identity(DEFAULT, "default")
    return Identity(OTHER, " ".join(p for p in (short_trainer(trainer), suffix) if p))


def group_name(trainer: str, plans: str, configuration: str, fold: str) -> str:
    """The results folder name, with a retrained shape's ``_f<fold>`` written ``_f*`` when trained on that fold."""
    pruned = parse_pruned(configuration)
    if pruned and pruned.fold == str(fold):
        configuration = pruned_configuration(pruned.base, pruned.trainer, "*", pruned.level, pruned.step)
    return model_name(trainer, plans, configuration)


def disambiguate(models: Sequence[Tuple[str, str, str]], labels: Sequence[str]) -> List[str]:
    """``labels`` of ``models`` (``(group name, trainer, plans)``) made distinct where two different group names
    share one (module rules)."""
    def shared(candidates: Sequence[str]) -> set:
        seen: Dict[str, set] = {}
        for (name, _, _), label in zip(models, candidates):
            seen.setdefault(label, set()).add(name)
        return {label for label, names in seen.items() if len(names) > 1}

    out = list(labels)
    for detail in (lambda t, p: short_trainer(t), lambda t, p: t, lambda t, p: f"{t}, {p}"):
        clash = shared(out)
        if not clash:
            break
        out = [f"{label} ({detail(t, p)})" if own in clash else own
               for (_, t, p), label, own in zip(models, labels, out)]
    return out
