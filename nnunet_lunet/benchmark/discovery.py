"""Which trained models a benchmark covers: model folders in ``$nnUNet_results/<dataset>/`` and their folds.

Rules:

- A model is a folder ``<trainer>__<plans>__<configuration>`` (nnU-Net's naming: exactly three parts joined by
  ``__``, ``plans.run_names``). Other folders (e.g. an earlier benchmark's output) are ignored.
- Its configuration must be the requested one or a variant of it: equal to it, or starting with it plus ``_``
  (``3d_fullres`` covers ``3d_fullres_lunet16``, ``3d_fullres_scaled25``, ``3d_fullres_pruned_...``).
- ``trainers`` / ``plans`` (each None = all) keep only models with those exact names; ``models`` (a list of
  ``(trainer, plans, configuration)``) keeps exactly those, in that order, missing ones included (the demo
  passes its own list; a model it names that is not there becomes a failed row). ``models`` excludes ``trainers``
  and ``plans``, names each model once and only configurations the rule above covers (``check_models``).
- Folds: the requested ones (``0``..``N`` or ``all``); by default every ``fold_N`` / ``fold_all`` folder present.
- The reference for ratio columns: the one named, else nnU-Net's default network trained with the LUnet trainers'
  recipe (trainer ``nnUNetTrainerLeanRecipe``, else its ``_budget``, else its ``_smoke`` class), so that rows differ
  in the network only; else with nnU-Net's own recipe (``nnUNetTrainer``, ``_budget``, ``_smoke``, in this order);
  configuration equal to the requested one; plans ``nnUNetPlans``, else a plans file that holds its networks (the
  comparison's ``nnUNetPlans_compare[_b<B>]``, ``plans.names``); else none.
"""

import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.names import holds_source_network
from nnunet_lunet.plans.run_names import model_name, parse_fold_name, parse_model_name

STANDARD_TRAINERS = tuple(recipe + budget for recipe in ("nnUNetTrainerLeanRecipe", "nnUNetTrainer")
                          for budget in ("", "_budget", "_smoke"))
STANDARD_PLANS = "nnUNetPlans"


@dataclass(frozen=True)
class TrainedModel:
    """One model folder of nnU-Net's results."""

    trainer: str
    plans: str
    configuration: str
    folder: str

    @property
    def name(self) -> str:
        return model_name(self.trainer, self.plans, self.configuration)


parse_model_folder = parse_model_name  # 'T__P__C' -> (T, P, C), None for other names (plans.run_names)


def is_configuration_or_variant(name: str, configuration: str) -> bool:
    """``3d_fullres_lunet16`` is a variant of ``3d_fullres``; ``3d_fullres`` is itself; ``3d_lowres`` is neither."""
    return name == configuration or name.startswith(configuration + "_")


def check_models(models: Sequence[Tuple[str, str, str]], configuration: str, trainers: Optional[Sequence[str]],
                 plans: Optional[Sequence[str]]) -> None:
    """LUnetError unless an exact model list follows the module rules."""
    if trainers or plans:
        raise LUnetError("--models names the models exactly: leave out -tr and -p")
    names = [model_name(*m) for m in models]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise LUnetError(f"--models names {', '.join(twice)} more than once: name each model once")
    other = [n for n, m in zip(names, models) if not is_configuration_or_variant(m[2], configuration)]
    if other:
        raise LUnetError(f"--models {', '.join(other)}: not configuration {configuration} or a variant of it; "
                         f"benchmark it with -c set to its configuration")


def discover_models(results_folder: str, configuration: str, trainers: Optional[Sequence[str]] = None,
                    plans: Optional[Sequence[str]] = None,
                    models: Optional[Sequence[Tuple[str, str, str]]] = None) -> List[TrainedModel]:
    """Model folders of ``results_folder`` (``$nnUNet_results/<dataset>``) that the rules above select, sorted by
    name (or in the order of ``models``)."""
    found = {}
    if os.path.isdir(results_folder):
        for entry in os.listdir(results_folder):
            parsed = parse_model_folder(entry)
            path = os.path.join(results_folder, entry)
            if parsed is None or not os.path.isdir(path):
                continue
            t, p, c = parsed
            if not is_configuration_or_variant(c, configuration):
                continue
            if trainers and t not in trainers or plans and p not in plans:
                continue
            found[parsed] = TrainedModel(t, p, c, path)
    if models is not None:  # requested ones that are missing come back too: they become failed rows
        return [found.get(tuple(m), TrainedModel(*m, os.path.join(results_folder, model_name(*m)))) for m in models]
    return [found[k] for k in sorted(found)]


def list_folds(model: TrainedModel) -> List[str]:
    """``fold_N`` / ``fold_all`` folders present in a model folder, as fold names (``'0'``, ``'all'``), sorted."""
    if not os.path.isdir(model.folder):
        return []
    folds = [f for f, e in ((parse_fold_name(e), e) for e in os.listdir(model.folder))
             if f is not None and os.path.isdir(os.path.join(model.folder, e))]
    return sorted(folds, key=lambda f: (f == "all", int(f) if f != "all" else 0))


def normalise_folds(folds: Optional[Sequence]) -> Optional[List[str]]:
    """``[0, '1', 'all']`` -> ``['0', '1', 'all']``; LUnetError for anything else; None stays None (every fold)."""
    if folds is None:
        return None
    out = []
    for f in folds:
        text = str(f)
        if not (text == "all" or text.isdigit()):
            raise LUnetError(f"invalid fold {text!r}: give fold numbers (e.g. -f 0 1) or 'all'")
        out.append(str(int(text)) if text.isdigit() else text)
    return out


def pick_reference(models: Sequence[TrainedModel], configuration: str,
                   reference: Optional[str] = None) -> Optional[TrainedModel]:
    """The reference model (see module rules); LUnetError if ``reference`` names none of ``models``.

    ``reference`` is a model folder name (``T__P__C``) or a trainer name that only one of the models has.
    """
    if reference is not None:
        matches = [m for m in models if m.name == reference] or [m for m in models if m.trainer == reference]
        if len(matches) != 1:
            what = "matches several" if matches else "is none"
            raise LUnetError(f"--reference {reference} {what} of the benchmarked models "
                             f"({', '.join(m.name for m in models)}): pass one of these folder names")
        return matches[0]
    candidates = [m for m in models if m.configuration == configuration and m.trainer in STANDARD_TRAINERS
                  and holds_source_network(m.plans, STANDARD_PLANS)]
    return min(candidates, key=lambda m: (STANDARD_TRAINERS.index(m.trainer), m.plans != STANDARD_PLANS),
               default=None)
