"""Pruning criteria: which channels to remove. ``get_criterion(name)`` gives one; ``CRITERIA`` lists them."""

from typing import Dict, Type

from nnunet_lunet.pruning.criteria.base import Criterion, Decision
from nnunet_lunet.pruning.criteria.l1 import L1Criterion, L1UnnormalisedCriterion
from nnunet_lunet.pruning.criteria.random_in_stamp_layer import RandomInStampLayerCriterion
from nnunet_lunet.pruning.criteria.stamp import StampCriterion
from nnunet_lunet.pruning.criteria.uniform_random import RandomCriterion
from nnunet_lunet.pruning.criteria.widest_layer import WidestLayerCriterion

CRITERIA: Dict[str, Type[Criterion]] = {
    cls.name: cls
    for cls in (StampCriterion, RandomInStampLayerCriterion, WidestLayerCriterion, L1Criterion, L1UnnormalisedCriterion,
                RandomCriterion)
}


def get_criterion(name: str) -> Criterion:
    """A new criterion by name; ValueError naming the valid names otherwise."""
    if name not in CRITERIA:
        raise ValueError(f"unknown pruning criterion {name!r}; valid criteria: {sorted(CRITERIA)}")
    return CRITERIA[name]()


__all__ = ["CRITERIA", "Criterion", "Decision", "get_criterion"]
