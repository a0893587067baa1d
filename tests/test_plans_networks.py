"""The network builder (``nnunet_lunet.plans_networks``): input channels as nnU-Net counts them, cascade stages
included, and the network built from a configuration with those channels."""

import torch
from plans_factory import plain_conv_unet_configuration

from nnunet_lunet.plans_networks import build_from_plans, io_channels

DATASET_JSON = {"channel_names": {"0": "T1", "1": "T2"}, "labels": {"background": 0, "a": 1, "b": 2, "c": 3},
                "numTraining": 1, "file_ending": ".nii.gz"}


def plans() -> dict:
    lowres = plain_conv_unet_configuration(3, 3, base=4)
    lowres["next_stage"] = "3d_cascade_fullres"
    return {"plans_name": "p", "dataset_name": "Dataset001_X", "configurations": {
        "3d_lowres": lowres,
        "3d_cascade_fullres": {"inherits_from": "3d_lowres", "previous_stage": "3d_lowres"}}}


def test_a_cascade_stage_also_reads_the_previous_segmentation():
    # 2 image channels; the cascade's second stage adds one one-hot channel per foreground label (3)
    assert io_channels(plans(), DATASET_JSON, "3d_lowres") == (2, 4)
    assert io_channels(plans(), DATASET_JSON, "3d_cascade_fullres") == (5, 4)
    assert io_channels(plans(), DATASET_JSON) == (2, 4)


def test_the_network_is_built_with_the_configurations_channels():
    for configuration, n_in in (("3d_lowres", 2), ("3d_cascade_fullres", 5)):
        net = build_from_plans(plans(), configuration, DATASET_JSON)
        out = net(torch.zeros(1, n_in, 8, 8, 8))
        assert out.shape == (1, 4, 8, 8, 8)
