"""Build the network of any plans configuration the way nnU-Net does, for counting and benchmarking."""

import json
import os
from typing import Optional

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from torch import nn

from nnunet_lunet.datasets import require_env


def load_dataset_json(dataset_name: str) -> dict:
    """``dataset.json`` as nnU-Net's preprocessing copied it into the preprocessed folder."""
    path = os.path.join(require_env("nnUNet_preprocessed"), dataset_name, "dataset.json")
    with open(path) as f:
        return json.load(f)


def io_channels(plans: dict, dataset_json: dict) -> tuple:
    """(input channels, segmentation heads) as nnU-Net's trainer computes them."""
    n_in = len(dataset_json.get("channel_names", dataset_json.get("modality", {})))
    n_out = PlansManager(plans).get_label_manager(dataset_json).num_segmentation_heads
    return n_in, n_out


def build_from_plans(plans: dict, configuration: str, dataset_json: dict, deep_supervision: bool = False,
                     architecture: Optional[dict] = None) -> nn.Module:
    """The configuration's network (or ``architecture`` in its place), initialised as nnU-Net initialises it."""
    cm = PlansManager(plans).get_configuration(configuration)
    n_in, n_out = io_channels(plans, dataset_json)
    if architecture is None:
        return get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs,
                                      cm.network_arch_init_kwargs_req_import, n_in, n_out,
                                      allow_init=True, deep_supervision=deep_supervision)
    return get_network_from_plans(architecture["network_class_name"], architecture["arch_kwargs"],
                                  architecture["_kw_requires_import"], n_in, n_out,
                                  allow_init=True, deep_supervision=deep_supervision)
