"""The pruning trainers by criterion, made from one table (``CRITERION_TRAINERS``): for every row, the trainer
(``nnUNetTrainerSTAMP``, ...), its ``_budget`` variant (the gradual schedule at a set budget, ``budget.Budget`` and
``gradual_pruning.GradualPruning``) and its ``_smoke`` variant (``budget.SmokeBudget`` and ``SmokePruningSchedule``).
Adding a criterion takes a criterion in ``nnunet_lunet.pruning.criteria`` and a row here (and its names in
``trainers/__init__.py``'s ``__all__``).

The ``_budget`` rows train WITHOUT targeted dropout: the comparison's other rows (LUnets, scaled U-Nets, the pruned
widths retrained from scratch, the default network) train without it, so each pruning row differs from them, and
from the other criteria, only in how its channels were chosen. STAMP's targeted dropout stays in
``nnUNetTrainerSTAMP`` and ``nnUNetTrainerSTAMPDropout_budget`` (the dropout ablation at the gradual schedule).
"""

from typing import Dict, NamedTuple

from nnunet_lunet.trainers.budget import Budget, SmokeBudget
from nnunet_lunet.trainers.gradual_pruning import GradualPruning
from nnunet_lunet.trainers.pruning import PruningTrainer


class CriterionTrainer(NamedTuple):
    name: str  # the trainer's class name (-tr); _budget and _smoke are appended for the variants
    criterion: str  # nnunet_lunet.pruning.criteria
    targeted_dropout: bool  # of the trainer itself (the _budget variant never has it, see the module docstring)
    doc: str


CRITERION_TRAINERS = (
    CriterionTrainer("nnUNetTrainerSTAMP", "stamp", True,
                     "STAMP (Dinsdale et al. 2022): activation-based criterion and targeted dropout, on nnU-Net's own "
                     "network."),
    CriterionTrainer("nnUNetTrainerPruneRandomInLayer", "random_in_stamp_layer", True,
                     "The paper's alternative: STAMP's per-layer counts for each step, random channels in those "
                     "layers."),
    CriterionTrainer("nnUNetTrainerPruneWidest", "widest_layer", False,
                     "The paper's alternative: a random channel of the currently widest layer (no activation pass "
                     "needed)."),
    CriterionTrainer("nnUNetTrainerPruneL1Unnormalised", "l1_unnormalised", False,
                     "A control for claim (d): the smallest filter L1 norms across all layers, without STAMP's "
                     "per-layer normalisation (does a criterion that is not normalised per layer also prune the "
                     "widest layers first?)."),
    CriterionTrainer("nnUNetTrainerPruneL1", "l1", False,
                     "A control for claim (d): the smallest filter L1 norms, normalised per layer as STAMP's scores."),
    CriterionTrainer("nnUNetTrainerPruneRandom", "random", False,
                     "A control for claim (d): uniformly random channels over the whole network."),
)


class GradualPruningWithoutDropout(GradualPruning):
    """The pruning rows' setting: the gradual schedule, no targeted dropout (see the module docstring)."""

    pruning_targeted_dropout = False


class SmokePruningSchedule:
    """A pruning schedule that fits the smoke budget: one step per epoch from epoch 1, 25% of the channels per
    step, down to 50% (one step in the default 2 epochs, the second when a run is continued or given more epochs).
    A setup check of the machinery, so no bound on a layer beyond keeping one channel."""

    pruning_warmup_epochs = 1
    pruning_every_n_epochs = 1
    pruning_fraction_per_step = 0.25
    pruning_target_fraction = 0.5
    pruning_score_batches = 2
    pruning_max_step_share = 1.0
    pruning_min_channels = 1
    pruning_min_width_fraction = 0.0


def _make(name: str, bases: tuple, attributes: dict) -> type:
    return type(name, bases, {"__module__": __name__, **attributes})


def _trainers() -> Dict[str, type]:
    made = {}
    for row in CRITERION_TRAINERS:
        base = _make(row.name, (PruningTrainer,), {"__doc__": row.doc, "pruning_criterion": row.criterion,
                                                   "pruning_targeted_dropout": row.targeted_dropout})
        made[row.name] = base
        made[f"{row.name}_budget"] = _make(f"{row.name}_budget", (Budget, GradualPruningWithoutDropout, base), {
            "__doc__": f"{row.doc} Pruned gradually to 25% at a set budget."})
        made[f"{row.name}_smoke"] = _make(f"{row.name}_smoke", (SmokePruningSchedule, SmokeBudget, base), {})
    made["nnUNetTrainerSTAMPDropout_budget"] = _make(
        "nnUNetTrainerSTAMPDropout_budget", (Budget, GradualPruning, made["nnUNetTrainerSTAMP"]),
        {"__doc__": "STAMP with its targeted dropout on the gradual schedule: the dropout ablation."})
    return made


TRAINERS = _trainers()
globals().update(TRAINERS)  # importable by name, and found by nnU-Net's trainer search (a module attribute)
__all__ = sorted(TRAINERS)
