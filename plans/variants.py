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
from typing import Callable, List, Sequence, Tuple

from nnunet_lunet.architecture import default_widths, require_supported, with_widths
from nnunet_lunet.datasets import resolved_configuration
from nnunet_lunet.widths import check_scale, check_width, flat_name, flat_widths, scaled_name, scaled_widths


@dataclass(frozen=True)
class WidthVariant:
    """A named rule mapping a configuration's default per-stage widths to new ones."""

    suffix: str
    rule: Callable[[Sequence[int]], List[int]]

    def widths(self, default: Sequence[int]) -> List[int]:
        return self.rule(default)


def flat_variant(width: int) -> WidthVariant:
    """LUnet: ``width`` channels at every stage."""
    width = check_width(width)
    return WidthVariant(flat_name(width), lambda default: flat_widths(width, len(default)))


def scaled_variant(scale: float) -> WidthVariant:
    """The default widths times ``scale`` (floor 1)."""
    scale = check_scale(scale)
    return WidthVariant(scaled_name(scale), lambda default: scaled_widths(default, scale))


def is_variant_source(plans: dict, configuration: str) -> bool:
    """Configurations we derive variants from by default: PlainConvUNet ones that are not cascade stages."""
    resolved = resolved_configuration(plans, configuration)
    arch = resolved.get("architecture", {})
    return (arch.get("network_class_name", "").endswith("PlainConvUNet")
            and resolved.get("previous_stage") is None)


def derive_configuration(plans: dict, source: str, variant: WidthVariant) -> Tuple[str, dict]:
    """The name and plans entry of ``variant`` applied to configuration ``source`` of ``plans``."""
    resolved = resolved_configuration(plans, source)
    require_supported(resolved["architecture"], source)
    widths = variant.widths(default_widths(resolved["architecture"]))
    return f"{source}_{variant.suffix}", derived_configuration(source, with_widths(resolved["architecture"], widths))


def derived_configuration(source: str, architecture: dict) -> dict:
    """A configuration that is ``source`` in all but its network: the one template every variant uses."""
    return {"inherits_from": source, "architecture": copy.deepcopy(architecture)}
