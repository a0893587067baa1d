"""Build the network of any plans configuration the way nnU-Net does, for counting and benchmarking."""

import json
import os
from functools import lru_cache
from typing import Callable, Optional

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from torch import nn

from nnunet_lunet.architecture import architecture_of
from nnunet_lunet.datasets import load_dataset_json  # noqa: F401  (its home is datasets; importable here as before)
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.model_stats import count_parameters


def io_channels(plans: dict, dataset_json: dict) -> tuple:
    """(input channels, segmentation heads) as nnU-Net's trainer computes them."""
    n_in = len(dataset_json.get("channel_names", dataset_json.get("modality", {})))
    n_out = PlansManager(plans).get_label_manager(dataset_json).num_segmentation_heads
    return n_in, n_out


def build_architecture(plans: dict, dataset_json: dict, architecture: dict,
                       deep_supervision: bool = False) -> nn.Module:
    """The network a plans ``architecture`` dict describes, with the dataset's channels, initialised as nnU-Net does."""
    n_in, n_out = io_channels(plans, dataset_json)
    return get_network_from_plans(architecture["network_class_name"], architecture["arch_kwargs"],
                                  architecture["_kw_requires_import"], n_in, n_out,
                                  allow_init=True, deep_supervision=deep_supervision)


def build_from_plans(plans: dict, configuration: str, dataset_json: dict, deep_supervision: bool = False,
                     architecture: Optional[dict] = None) -> nn.Module:
    """The configuration's network (or ``architecture`` in its place), initialised as nnU-Net initialises it."""
    if architecture is None:
        architecture = architecture_of(PlansManager(plans).get_configuration(configuration))
    return build_architecture(plans, dataset_json, architecture, deep_supervision)


def parameter_counter(plans: dict, dataset_json: dict) -> Callable[[dict], int]:
    """``count(architecture) -> parameters`` of that network with the dataset's channels (deep supervision on, as
    trained); memoised, since width searches ask for the same network more than once."""

    @lru_cache(maxsize=None)
    def by_json(architecture_json: str) -> int:
        return count_parameters(build_architecture(plans, dataset_json, json.loads(architecture_json),
                                                   deep_supervision=True))

    return lambda architecture: by_json(json.dumps(architecture, sort_keys=True))
