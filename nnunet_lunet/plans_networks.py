"""Build the network of any plans configuration the way nnU-Net does, for the trainers, counting and benchmarking.

Rules: ``build_network`` is the package's one call of nnU-Net's ``get_network_from_plans``; input channels come from
nnU-Net's ``determine_num_input_channels`` (``io_channels``), so cascade stages get theirs right.
"""

import json
from functools import lru_cache
from typing import Callable, Optional, Tuple

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager, PlansManager
from torch import nn

from nnunet_lunet.architecture import architecture_of
from nnunet_lunet.datasets import load_dataset_json  # noqa: F401  (its home is datasets; importable here as before)
from nnunet_lunet.model_stats import count_parameters


_FIRST_STAGE = {"architecture": {}}  # a configuration that is no cascade stage (no previous_stage)


def io_channels(plans: dict, dataset_json: dict, configuration: Optional[str] = None) -> Tuple[int, int]:
    """(input channels, segmentation heads) as nnU-Net's trainer and predictor compute them
    (``determine_num_input_channels``: a cascade stage also reads the previous stage's one-hot segmentation). Without
    ``configuration``: those of a stage that is not a cascade stage (the image's channels)."""
    plans_manager = PlansManager(plans)
    stage = plans_manager.get_configuration(configuration) if configuration else ConfigurationManager(_FIRST_STAGE)
    n_in = determine_num_input_channels(plans_manager, stage, dataset_json)
    return n_in, plans_manager.get_label_manager(dataset_json).num_segmentation_heads


def build_network(architecture: dict, n_in: int, n_out: int, deep_supervision: bool) -> nn.Module:
    """The network a plans ``architecture`` dict describes, built and initialised by nnU-Net's own
    ``get_network_from_plans``: the one call of it, for the trainers, ``build_from_plans`` and everything above."""
    return get_network_from_plans(architecture["network_class_name"], architecture["arch_kwargs"],
                                  architecture["_kw_requires_import"], n_in, n_out,
                                  allow_init=True, deep_supervision=deep_supervision)


def build_from_plans(plans: dict, configuration: str, dataset_json: dict, deep_supervision: bool = False,
                     architecture: Optional[dict] = None) -> nn.Module:
    """The configuration's network (or ``architecture`` in its place) with the configuration's channels, initialised
    as nnU-Net initialises it."""
    if architecture is None:
        architecture = architecture_of(PlansManager(plans).get_configuration(configuration))
    return build_network(architecture, *io_channels(plans, dataset_json, configuration), deep_supervision)


def parameter_counter(plans: dict, dataset_json: dict) -> Callable[[dict], int]:
    """``count(architecture) -> parameters`` of that network with the dataset's channels (deep supervision on, as
    trained); memoised, since width searches ask for the same network more than once. Width variants are derived
    only from stages that are not cascade stages, so the input channels are the image's."""
    channels = io_channels(plans, dataset_json)

    @lru_cache(maxsize=None)
    def by_json(architecture_json: str) -> int:
        return count_parameters(build_network(json.loads(architecture_json), *channels, deep_supervision=True))

    return lambda architecture: by_json(json.dumps(architecture, sort_keys=True))
