"""Plan templates: a width variant of a planned configuration, expressed as nnU-Net plans data.

A variant configuration ``<source>_<suffix>`` inherits everything from its source configuration (patch size, batch
size, spacing, normalisation, and ``data_identifier``, so the preprocessed data are reused: no second
preprocessing) and overrides one key, ``architecture``. nnU-Net merges inherited configurations on top-level keys
only, so the child carries the whole architecture dict: a deep copy of the source's with new widths.

Keeping the source's patch and batch size makes the comparison fair: nnU-Net's planner would pick a larger patch
or batch for a thinner network, because its memory estimate shrinks.
"""

import copy
from dataclasses import dataclass
from typing import Callable, List, Tuple

from nnunet_lunet.architecture import SUPPORTED_NETWORKS, default_widths, require_supported, with_widths
from nnunet_lunet.datasets import resolved_configuration
from nnunet_lunet.widths import (check_scale, check_width, flat_name, flat_widths, matched_name, matching_scale,
                                 scaled_name, scaled_widths)


@dataclass(frozen=True)
class WidthVariant:
    """A named rule mapping a configuration's network (its plans ``architecture`` dict) to per-stage widths."""

    suffix: str
    rule: Callable[[dict], List[int]]

    def widths(self, architecture: dict) -> List[int]:
        return self.rule(architecture)


def flat_variant(width: int) -> WidthVariant:
    """LUnet: ``width`` channels at every stage."""
    width = check_width(width)
    return WidthVariant(flat_name(width), lambda arch: flat_widths(width, len(default_widths(arch))))


def scaled_variant(scale: float) -> WidthVariant:
    """The default widths times ``scale`` (floor 1)."""
    scale = check_scale(scale)
    return WidthVariant(scaled_name(scale), lambda arch: scaled_widths(default_widths(arch), scale))


def matched_variant(width: int, count_parameters: Callable[[dict], int]) -> WidthVariant:
    """The default widths scaled so that the network's parameter count is nearest LUnet ``width``'s on the same
    configuration: the paper's "standard U-Net of the same size". ``count_parameters`` counts an architecture dict's
    network (with the dataset's input channels and classes)."""
    width = check_width(width)

    def rule(architecture: dict) -> List[int]:
        default = default_widths(architecture)
        target = count_parameters(with_widths(architecture, flat_widths(width, len(default))))
        scale = matching_scale(lambda s: count_parameters(with_widths(architecture, scaled_widths(default, s))),
                               target)
        return scaled_widths(default, scale)

    return WidthVariant(matched_name(width), rule)


def is_variant_source(plans: dict, configuration: str) -> bool:
    """Configurations we derive variants from by default: those of a supported network that are not cascade stages."""
    resolved = resolved_configuration(plans, configuration)
    arch = resolved.get("architecture", {})
    return arch.get("network_class_name") in SUPPORTED_NETWORKS and resolved.get("previous_stage") is None


def derive_configuration(plans: dict, source: str, variant: WidthVariant) -> Tuple[str, dict]:
    """The name and plans entry of ``variant`` applied to configuration ``source`` of ``plans``."""
    resolved = resolved_configuration(plans, source)
    require_supported(resolved["architecture"], f"configuration {source}")
    widths = variant.widths(resolved["architecture"])
    return f"{source}_{variant.suffix}", derived_configuration(source, with_widths(resolved["architecture"], widths))


def derived_configuration(source: str, architecture: dict) -> dict:
    """A configuration that is ``source`` in all but its network: the one template every variant uses."""
    return {"inherits_from": source, "architecture": copy.deepcopy(architecture)}


def with_batch_size(plans: dict, configuration: str, batch_size: int) -> dict:
    """``configuration``'s own plans entry with another batch size (its variants inherit it)."""
    assert batch_size >= 1, f"expected a batch size >= 1, got {batch_size}"
    return dict(copy.deepcopy(plans["configurations"][configuration]), batch_size=int(batch_size))
