"""The README's main job, ``nnunet-lunet demo``, end to end with the smoke budget.

``--dataset`` mode on the session's generated, planned dataset (the shipped Hippocampus subset is exercised by
``test_thin_networks_learn``): the demo writes its batch-2 plans with the equal-size network, trains its five models
with one recipe and benchmarks them on the held-out cases; here from nnU-Net's default plans in 3d_fullres
(``test_demo_resenc.py``: from the residual encoder preset M).
"""

import os

from cli_runner import run
from demo_checks import check_demo


def test_demo_trains_and_benchmarks_every_model(planned_dataset, tmp_path):
    check_demo(planned_dataset, "nnUNetPlans", "3d_fullres", tmp_path)


def test_demo_rejects_a_zero_budget(planned_dataset, tmp_path):
    result = run(["nnunet-lunet", "demo", "--workdir", tmp_path, "--epochs", 0], planned_dataset.env, check=False)
    assert result.returncode == 2 and "--epochs must be at least 1" in result.stderr
    assert os.listdir(tmp_path) == []


def test_demo_rejects_plans_it_cannot_plan(planned_dataset, tmp_path):
    result = run(["nnunet-lunet", "demo", "--workdir", tmp_path / "demo", "-p", "nnUNetPlans_lunet"],
                 planned_dataset.env, check=False)
    assert result.returncode == 2 and "--plans nnUNetPlans_lunet: the demo takes nnUNetPlans or" in result.stderr
    assert not os.path.exists(tmp_path / "demo")
