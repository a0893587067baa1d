"""The demo from nnU-Net's residual encoder preset M (``-p nnUNetResEncUNetMPlans``), where STAMP prunes a
ResidualEncoderUNet: in 2d, since a full-width 3D residual encoder takes minutes per smoke epoch on 2 CPU cores and
the code path is the same. (Its own file so that the suite's workers run it beside ``test_demo.py``.)"""

from demo_checks import check_demo


def test_demo_from_the_residual_encoder_preset(planned_dataset, resenc_plans, tmp_path):
    check_demo(planned_dataset, resenc_plans.plans_name, "2d", tmp_path)
