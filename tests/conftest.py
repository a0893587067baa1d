"""Shared, session-wide fixtures: nnU-Net folders in a temporary directory and one generated, planned dataset.

The dataset is planned and preprocessed once with the real ``nnUNetv2_plan_and_preprocess`` (3D, which also yields a
2d configuration); every end-to-end test trains on it with the ``_smoke`` budget.

The suite runs in parallel processes (pytest-xdist, ``-n`` in pyproject.toml). Every worker sees the same nnU-Net
folders; what one of them makes for all (the dataset, plans, trained models) is made once (``shared_runs.once``); tests
that change a shared run work on a private copy (``shared_runs.private_copy``). Run one file alone with ``-n0``.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import pytest

from nnunetv2.utilities.crossval_split import generate_crossval_split
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run
from shared_runs import once

RESENC = "nnUNetResEncUNetMPlans"


# Seconds each file costs (two workers, 2 cores), so that workers take the longest first (--dist loadfile, in
# collection order): a long file last would run alone. From a timed run of the whole suite on 2 idle cores
# (pytest --durations=0, 2026-12-02, 857 s), less the memory probes the suite has stopped running since
# (NNUNET_LUNET_BENCH_MEMORY=0: about 10 s per benchmark row) and the demo's fourth row; files under 30 s are left out.
# Files added since that run, estimated on 2026-12-04 on a busy machine: test_tile_size.py (one 2D training of its
# own, several predictions), test_compare_jobs.py (scaled by test_compare.py's time in the same run),
# test_safe_checkpoints.py (seven nnUNetv2_train runs), test_onnx.py's seven predict refusals (+35 s), and the
# anisotropic files (34 and 30 CPU seconds, the dataset included).
FILE_SECONDS = {"test_e2e_pruning.py": 200, "test_onnx.py": 230, "test_tile_size.py": 180,
                "test_thin_networks_learn.py": 175, "test_compare.py": 150, "test_demo.py": 145,
                "test_benchmark.py": 130, "test_pruning_distributed.py": 110, "test_e2e_lunet.py": 80,
                "test_compare_jobs.py": 70, "test_pruning_resume.py": 70, "test_safe_checkpoints.py": 70,
                "test_plan_command.py": 45, "test_benchmark_folds.py": 45, "test_int8.py": 45,
                "test_pruning_guard.py": 55, "test_anisotropic_plans.py": 45, "test_e2e_gradual_pruning.py": 40,
                "test_seeded_training.py": 35, "test_e2e_resenc.py": 35, "test_pruning_anisotropic.py": 35,
                "test_bench_whole_case.py": 60}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: -FILE_SECONDS.get(item.path.name, 0))  # stable: a file's tests keep their order


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
def suite_root(tmp_path_factory) -> Path:
    """The folder every worker of this test session shares (the session's base temporary folder when run alone)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def nnunet_env(suite_root) -> Dict[str, str]:
    """A copy of the environment with nnU-Net's folders under the session's shared temporary folder.

    ``nnUNet_extTrainer`` is removed on purpose: the installed package must register its trainers by itself.
    """
    root = suite_root / "nnunet"
    env = {k: v for k, v in os.environ.items() if k != "nnUNet_extTrainer"}
    for var, sub in (("nnUNet_raw", "raw"), ("nnUNet_preprocessed", "preprocessed"), ("nnUNet_results", "results")):
        os.makedirs(root / sub, exist_ok=True)
        env[var] = str(root / sub)
    # One torch thread for the _smoke trainers, one data-augmentation worker and one export worker: the suite runs
    # two workers on 2 cores, and with more threads or processes than cores a smoke epoch got up to 25x slower
    # (trainers/budget.py); each worker process also costs seconds to start. (nnUNet_n_proc_DA=0 would save one more,
    # but nnU-Net's planner then calls torch.set_num_threads(0) and fails.)
    # The final validation of the package's trainers exports and scores in threads, not in two spawned processes that
    # import torch and nnU-Net again (trainers/validation_pools.py). The benchmark times ONNX Runtime only (beside
    # PyTorch): each further runtime costs every row an export and a compilation (INT8: a quantization);
    # test_benchmark.py times every runtime. Nor does it probe memory (a fresh interpreter per row, ~10 CPU seconds);
    # test_benchmark.py does.
    env.update(nnUNet_def_n_proc="1", nnUNet_n_proc_DA="1", nnUNet_compile="false", PYTHONUNBUFFERED="1",
               NNUNET_LUNET_THREADS="1", NNUNET_LUNET_VAL_THREADS="1", NNUNET_LUNET_BENCH_RUNTIMES="onnxruntime",
               NNUNET_LUNET_BENCH_MEMORY="0")
    return env


@pytest.fixture(scope="session")
def planned_dataset(nnunet_env, suite_root) -> PlannedDataset:
    """Dataset990: 10 training + 2 test cases of 32x40x32, planned and preprocessed for 2d and 3d_fullres, with
    nnU-Net's own 5-fold split written up front (a training writes it when missing: two at once would race)."""
    dataset = PlannedDataset(990, "Dataset990_LUnetSynthetic", nnunet_env)

    def make():
        run(["nnunet-lunet", "make-dataset", "--id", 990, "--cases", 10, "--test-cases", 2, "--overwrite"], nnunet_env)
        run(["nnUNetv2_plan_and_preprocess", "-d", 990, "-c", "2d", "3d_fullres", "-np", 2, 2, "-npfp", 2],
            nnunet_env)
        cases = sorted(f[:-len(".nii.gz")] for f in os.listdir(os.path.join(dataset.raw, "labelsTr")))
        with open(os.path.join(dataset.preprocessed, "splits_final.json"), "w") as f:
            json.dump(generate_crossval_split(cases, seed=12345, n_splits=5), f)  # nnU-Net's seed and folds

    once(suite_root, "planned_dataset", make)
    return dataset


@pytest.fixture(scope="session")
def anisotropic_dataset(nnunet_env, suite_root) -> PlannedDataset:
    """Dataset989: 5 generated cases of 8x256x256 voxels at 6x1.25x1.25 mm with four foreground labels (the shape of
    CHAOS abdominal MRI: thick slices, one large and three small structures), planned and preprocessed by the real
    nnU-Net for 2d and 3d_fullres. nnU-Net 2.8.1 plans 3d_fullres with 1x3x3 kernels and in-plane-only pooling
    ([1, 2, 2]) in its first stages, and 2d with seven stages up to 512 channels (test_anisotropic_plans.py checks
    that before relying on it). No model is trained on it: the networks are too large for the suite's CPU budget."""
    dataset = PlannedDataset(989, "Dataset989_LUnetAnisotropic", nnunet_env)
    once(suite_root, "anisotropic_dataset", lambda: (
        run(["nnunet-lunet", "make-dataset", "--id", 989, "--name", "LUnetAnisotropic", "--cases", 5, "--shape", 8,
             256, 256, "--spacing", 6, 1.25, 1.25, "--labels", 4, "--overwrite"], nnunet_env),
        run(["nnUNetv2_plan_and_preprocess", "-d", 989, "-c", "2d", "3d_fullres", "-np", 1, 1, "-npfp", 1],
            nnunet_env)))
    return dataset


@pytest.fixture(scope="session")
def resenc_plans(planned_dataset, suite_root) -> PlansManager:
    """nnU-Net's residual encoder preset (``nnUNetPlannerResEncM``, plans ``nnUNetResEncUNetMPlans``) planned once with
    ``nnUNetv2_plan_experiment`` on the session's dataset (it reuses the standard preprocessed data)."""
    once(suite_root, "resenc_plans", lambda: run(
        ["nnUNetv2_plan_experiment", "-d", planned_dataset.dataset_id, "-pl", "nnUNetPlannerResEncM"],
        planned_dataset.env))
    return PlansManager(os.path.join(planned_dataset.preprocessed, RESENC + ".json"))


@pytest.fixture(scope="session")
def resenc_scaled_plans(planned_dataset, resenc_plans, suite_root) -> str:
    """A small residual U-Net of the standard shape: ``nnunet-lunet plan`` run once on the ResEnc M plans for the
    ResidualEncoderUNet scaled linearly to LUnet16's size (configuration ``3d_fullres_scaled_as_lunet16``: widths
    doubling per stage, so pruning can show which stages lose channels first); returns the written plans name."""
    name = RESENC + "_scaledtest"
    once(suite_root, name, lambda: run(
        ["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "-p", RESENC, "-c", "3d_fullres", "--widths",
         "--scales", "--match-parameters", 16, "-o", name, "--overwrite"], planned_dataset.env))
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
    """Each network pruning supports, as a parameter: nnU-Net's default plans (PlainConvUNet), and the ResEnc M
    preset's ResidualEncoderUNet scaled to LUnet16's size (planned on first use; scaled down because a full-width
    residual encoder takes minutes per smoke epoch on 2 CPU cores, and not a LUnet, whose equal widths would leave
    nothing to show about which stages pruning narrows first)."""
    if request.param == "PlainConvUNet":
        return PrunablePlans("nnUNetPlans", "")
    return PrunablePlans(request.getfixturevalue("resenc_scaled_plans"), "_scaled_as_lunet16")


@pytest.fixture(scope="session")
def lunet_plans(planned_dataset, suite_root) -> str:
    """``nnunet-lunet plan`` run once with its default widths and scales; returns the written plans name.

    Not the default name, ``nnUNetPlans_lunet``, so that no test of the default name can collide with it.
    """
    name = "nnUNetPlans_lunettest"
    once(suite_root, name, lambda: run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "-o", name,
                                          "--overwrite"], planned_dataset.env))
    return name


@pytest.fixture(scope="session")
def train(planned_dataset, suite_root):
    """``train(configuration, trainer, plans="nnUNetPlans", fold=0) -> fold folder``: nnUNetv2_train once per key.

    Models are shared by every test and worker of the session (the end-to-end, pruning, ONNX and benchmark tests),
    so each (configuration, trainer, plans, fold) is trained only once. Treat the returned run as read-only: a test
    that continues or edits a run works on ``private_copy``. Seeded (``NNUNET_LUNET_SEED=0``): tests judge what these
    models segment (test_int8 wants the float32 LUnet16 above Dice 0.05; unseeded it came out at 0.09 in one suite run
    and 0.32 in another), so each is the same model in every run on one machine.
    """

    def _train(configuration: str, trainer: str, plans: str = "nnUNetPlans", fold: int = 0) -> str:
        name = f"{trainer}__{plans}__{configuration}"
        folder = os.path.join(planned_dataset.results, name, f"fold_{fold}")
        once(suite_root, f"trained_{name}_{fold}", lambda: run(
            ["nnUNetv2_train", planned_dataset.dataset_id, configuration, fold, "-tr", trainer, "-p", plans,
             "-device", "cpu"], dict(planned_dataset.env, NNUNET_LUNET_SEED="0")))
        return folder

    return _train
