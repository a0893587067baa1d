"""Shared, session-wide fixtures: nnU-Net folders in a temporary directory and one generated, planned dataset.

The dataset is planned and preprocessed once with the real ``nnUNetv2_plan_and_preprocess`` (3D, which also yields a
2d configuration); every end-to-end test trains on it with the ``_smoke`` budget.
"""

import os
from dataclasses import dataclass
from typing import Dict

import pytest

from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run

RESENC = "nnUNetResEncUNetMPlans"


@dataclass
class PlannedDataset:
    dataset_id: int
    name: str
    env: Dict[str, str]

    @property
    def raw(self) -> str:
        return os.path.join(self.env["nnUNet_raw"], self.name)

    @property
    def preprocessed(self) -> str:
        return os.path.join(self.env["nnUNet_preprocessed"], self.name)

    @property
    def results(self) -> str:
        return os.path.join(self.env["nnUNet_results"], self.name)


@pytest.fixture(scope="session")
def nnunet_env(tmp_path_factory) -> Dict[str, str]:
    """A copy of the environment with nnU-Net's folders under a temporary directory and 2 worker processes.

    ``nnUNet_extTrainer`` is removed on purpose: the installed package must register its trainers by itself.
    """
    root = tmp_path_factory.mktemp("nnunet")
    env = {k: v for k, v in os.environ.items() if k != "nnUNet_extTrainer"}
    for var, sub in (("nnUNet_raw", "raw"), ("nnUNet_preprocessed", "preprocessed"), ("nnUNet_results", "results")):
        os.makedirs(root / sub)
        env[var] = str(root / sub)
    # One torch thread for the _smoke trainers: beside nnU-Net's data-augmentation workers on 2 cores, two threads
    # waiting for each other made a smoke epoch up to 25x slower (trainers/budget.py).
    env.update(nnUNet_def_n_proc="2", nnUNet_n_proc_DA="2", nnUNet_compile="false", PYTHONUNBUFFERED="1",
               NNUNET_LUNET_THREADS="1")
    return env


@pytest.fixture(scope="session")
def planned_dataset(nnunet_env) -> PlannedDataset:
    """Dataset990: 10 training + 2 test cases of 32x40x32, planned and preprocessed for 2d and 3d_fullres."""
    run(["nnunet-lunet", "make-dataset", "--id", 990, "--cases", 10, "--test-cases", 2], nnunet_env)
    run(["nnUNetv2_plan_and_preprocess", "-d", 990, "-c", "2d", "3d_fullres", "-np", 2, 2, "-npfp", 2], nnunet_env)
    return PlannedDataset(990, "Dataset990_LUnetSynthetic", nnunet_env)


@pytest.fixture(scope="session")
def resenc_plans(planned_dataset) -> PlansManager:
    """nnU-Net's residual encoder preset (``nnUNetPlannerResEncM``, plans ``nnUNetResEncUNetMPlans``) planned once with
    ``nnUNetv2_plan_experiment`` on the session's dataset (it reuses the standard preprocessed data)."""
    path = os.path.join(planned_dataset.preprocessed, RESENC + ".json")
    if not os.path.isfile(path):
        run(["nnUNetv2_plan_experiment", "-d", planned_dataset.dataset_id, "-pl", "nnUNetPlannerResEncM"],
            planned_dataset.env)
    return PlansManager(path)


@pytest.fixture(scope="session")
def resenc_lunet_plans(planned_dataset, resenc_plans) -> str:
    """Residual LUnets: ``nnunet-lunet plan`` run once on the ResEnc M plans for LUnet16 only (configurations
    ``2d_lunet16`` and ``3d_fullres_lunet16``, ResidualEncoderUNets 16 wide); returns the written plans name."""
    name = RESENC + "_lunet16test"
    run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "-p", RESENC, "-c", "2d", "3d_fullres",
         "--widths", 16, "--scales", "-o", name], planned_dataset.env)
    return name


@dataclass
class PrunablePlans:
    """Plans that pruning supports, and the suffix of their configurations' names (``3d_fullres`` + suffix)."""

    plans: str
    suffix: str

    def configuration(self, base: str) -> str:
        return base + self.suffix


@pytest.fixture(params=["PlainConvUNet", "ResidualEncoderUNet"])
def prunable_plans(request) -> PrunablePlans:
    """Each network pruning supports, as a parameter: nnU-Net's default plans (PlainConvUNet), and residual LUnets
    (LUnet16 of the ResEnc M preset, ResidualEncoderUNet: planned on first use; a LUnet because a full-width residual
    encoder takes minutes per smoke epoch on 2 CPU cores)."""
    if request.param == "PlainConvUNet":
        return PrunablePlans("nnUNetPlans", "")
    return PrunablePlans(request.getfixturevalue("resenc_lunet_plans"), "_lunet16")


@pytest.fixture(scope="session")
def lunet_plans(planned_dataset) -> str:
    """``nnunet-lunet plan`` run once with its default widths and scales; returns the written plans name.

    Not the default name, ``nnUNetPlans_lunet``: the demo test writes that one for 3d_fullres only.
    """
    run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "-o", "nnUNetPlans_lunettest"], planned_dataset.env)
    return "nnUNetPlans_lunettest"


@pytest.fixture(scope="session")
def train(planned_dataset):
    """``train(configuration, trainer, plans="nnUNetPlans", fold=0) -> fold folder``: nnUNetv2_train once per key.

    Models are shared by every test of the session (the end-to-end, pruning, benchmark and demo tests), so each
    (configuration, trainer, plans, fold) is trained only once; a model the demo already trained in this session
    (same smoke budget) counts as trained.
    """
    done: Dict[tuple, str] = {}

    def _train(configuration: str, trainer: str, plans: str = "nnUNetPlans", fold: int = 0) -> str:
        key = (configuration, trainer, plans, fold)
        folder = os.path.join(planned_dataset.results, f"{trainer}__{plans}__{configuration}", f"fold_{fold}")
        if key not in done and not os.path.isfile(os.path.join(folder, "checkpoint_final.pth")):
            run(["nnUNetv2_train", planned_dataset.dataset_id, configuration, fold, "-tr", trainer, "-p", plans,
                 "-device", "cpu"], planned_dataset.env)
        done[key] = folder
        return folder

    return _train
