"""The main job: one command from nothing to a side-by-side table of LUnet, pruned and standard nnU-Net.

Steps, each skipped when its result is already there (so an interrupted demo picks up where it stopped):
1. without ``dataset``: generate a synthetic dataset in ``<workdir>/nnUNet_raw`` and plan and preprocess it with
   ``nnUNetv2_plan_and_preprocess`` (nnU-Net's folders are ``<workdir>/nnUNet_*``); with ``dataset``: use the
   user's nnU-Net folders and a dataset nnU-Net has already planned and preprocessed;
2. ``nnunet-lunet plan`` (for the 25%-width U-Net);
3. train, on the CPU with one short budget for all: nnU-Net's default network, LUnet 32/16/8, the 25%-width U-Net and
   a STAMP pruning run (the ``_smoke`` trainers, budget set through ``NNUNET_LUNET_EPOCHS``/``ITERATIONS``);
4. ``nnunet-lunet benchmark`` over those models.

A model already trained with the same budget is reused; one trained with another budget, or unfinished, is never
overwritten without ``overwrite``.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional

from nnunet_lunet.errors import LUnetError

SYNTHETIC_ID = 990
SYNTHETIC_NAME = "Dataset990_LUnetSynthetic"


@dataclass(frozen=True)
class DemoModel:
    label: str
    configuration_suffix: str  # appended to the configuration ("" or "_scaled25")
    trainer: str
    plans: str


DEMO_MODELS = [
    DemoModel("nnU-Net default", "", "nnUNetTrainer_smoke", "nnUNetPlans"),
    DemoModel("LUnet32", "", "nnUNetTrainerLUnet_smoke", "nnUNetPlans"),
    DemoModel("LUnet16", "", "nnUNetTrainerLUnet16_smoke", "nnUNetPlans"),
    DemoModel("LUnet8", "", "nnUNetTrainerLUnet8_smoke", "nnUNetPlans"),
    DemoModel("Unet 25%", "_scaled25", "nnUNetTrainer_smoke", "nnUNetPlans_lunet"),
    DemoModel("STAMP", "", "nnUNetTrainerSTAMP_smoke", "nnUNetPlans"),
]


@dataclass(frozen=True)
class Budget:
    epochs: int
    iterations: int
    val_iterations: int

    def env(self) -> Dict[str, str]:
        return {"NNUNET_LUNET_EPOCHS": str(self.epochs), "NNUNET_LUNET_ITERATIONS": str(self.iterations),
                "NNUNET_LUNET_VAL_ITERATIONS": str(self.val_iterations)}

    def matches(self, fold_folder: str) -> bool:
        """Whether the run in ``fold_folder`` used this budget (nnU-Net records it in ``debug.json``)."""
        with open(os.path.join(fold_folder, "debug.json")) as f:
            debug = json.load(f)
        return ((debug.get("num_epochs"), debug.get("num_iterations_per_epoch"),
                 debug.get("num_val_iterations_per_epoch"))
                == (str(self.epochs), str(self.iterations), str(self.val_iterations)))


def _script(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def _run(args: List[str], env: Dict[str, str], log: str) -> None:
    """Run a console script, its output into ``log``; LUnetError naming the log if it fails."""
    with open(log, "w") as f:
        result = subprocess.run([_script(args[0])] + [str(a) for a in args[1:]], env=env, stdout=f,
                                stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise LUnetError(f"{' '.join(str(a) for a in args)} failed (exit {result.returncode}); see {log}")


def prepare_synthetic(workdir: str, env: Dict[str, str], configuration: str) -> str:
    """Step 1 without a user dataset: generate, plan and preprocess (each only if not done yet)."""
    from nnunet_lunet.synthetic import make_synthetic_dataset
    raw = os.path.join(env["nnUNet_raw"], SYNTHETIC_NAME)
    if not os.path.isdir(raw):
        print(f"[demo] generating a synthetic dataset in {raw}")
        make_synthetic_dataset(env["nnUNet_raw"], SYNTHETIC_ID, n_train=12, n_test=4)
    if not os.path.isfile(os.path.join(env["nnUNet_preprocessed"], SYNTHETIC_NAME, "nnUNetPlans.json")):
        print("[demo] nnUNetv2_plan_and_preprocess")
        _run(["nnUNetv2_plan_and_preprocess", "-d", SYNTHETIC_ID, "-c", configuration, "-np", 2],
             env, os.path.join(workdir, "plan_and_preprocess.log"))
    return SYNTHETIC_NAME


def ensure_lunet_plans(dataset_name: str, configuration: str, env: Dict[str, str], workdir: str) -> None:
    """Step 2: ``nnUNetPlans_lunet`` with ``<configuration>_scaled25``; reused if it already has it."""
    path = os.path.join(env["nnUNet_preprocessed"], dataset_name, "nnUNetPlans_lunet.json")
    if os.path.isfile(path):
        with open(path) as f:
            if f"{configuration}_scaled25" in json.load(f)["configurations"]:
                return
        raise LUnetError(f"{path} exists without a {configuration}_scaled25 configuration: add it with "
                         f"nnunet-lunet plan -d {dataset_name} -c {configuration} --overwrite")
    _run(["nnunet-lunet", "plan", "-d", dataset_name, "-c", configuration], env, os.path.join(workdir, "plan.log"))


def train_models(dataset_name: str, configuration: str, fold: int, budget: Budget, env: Dict[str, str],
                 workdir: str, overwrite: bool) -> None:
    """Step 3: train every demo model not yet trained with this budget."""
    from tqdm import tqdm
    train_env = dict(env, **budget.env())
    for model in tqdm(DEMO_MODELS, desc="[demo] training", unit="model"):
        config = configuration + model.configuration_suffix
        fold_folder = os.path.join(env["nnUNet_results"], dataset_name,
                                   f"{model.trainer}__{model.plans}__{config}", f"fold_{fold}")
        if os.path.isfile(os.path.join(fold_folder, "checkpoint_final.pth")) and budget.matches(fold_folder):
            tqdm.write(f"[demo] reusing {model.label}: {fold_folder}")
            continue
        if os.path.exists(fold_folder) and not overwrite:
            raise LUnetError(f"{fold_folder} holds a run with another budget, or an unfinished one: pass "
                             f"--overwrite to retrain it, or use another --workdir")
        tqdm.write(f"[demo] training {model.label} ({model.trainer}, {config}, {budget.epochs} epochs x "
                   f"{budget.iterations} iterations)")
        _run(["nnUNetv2_train", dataset_name, config, fold, "-tr", model.trainer, "-p", model.plans, "-device", "cpu"],
             train_env, os.path.join(workdir, f"train_{model.trainer}__{config}.log"))


def demo_environment(workdir: str, use_user_folders: bool) -> Dict[str, str]:
    env = dict(os.environ)
    if not use_user_folders:
        for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
            env[var] = os.path.join(workdir, var)
            os.makedirs(env[var], exist_ok=True)
    env.setdefault("nnUNet_def_n_proc", "2")
    env.setdefault("nnUNet_n_proc_DA", "2")
    return env


def run_demo(workdir: str, dataset: Optional[str], configuration: str, fold: int, budget: Budget,
             overwrite: bool, repeats: int) -> str:
    """All steps; returns the benchmark folder."""
    from nnunet_lunet.benchmark import run_benchmark
    from nnunet_lunet.datasets import load_plans, require_env, require_preprocessed, resolve_dataset
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    env = demo_environment(workdir, use_user_folders=dataset is not None)
    if dataset is None:
        dataset_name = prepare_synthetic(workdir, env, configuration)
    else:
        for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
            require_env(var)
        dataset_name = resolve_dataset(dataset)
        require_preprocessed(dataset_name, load_plans(dataset_name, "nnUNetPlans"), configuration)
    ensure_lunet_plans(dataset_name, configuration, env, workdir)
    train_models(dataset_name, configuration, fold, budget, env, workdir, overwrite)
    output = os.path.join(workdir, "benchmark") if dataset is None else None
    os.environ.update({k: env[k] for k in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")})
    test_images = os.path.join(env["nnUNet_raw"], dataset_name, "imagesTs")
    test_labels = os.path.join(env["nnUNet_raw"], dataset_name, "labelsTs")
    has_test = os.path.isdir(test_images) and os.path.isdir(test_labels)
    return run_benchmark(dataset_name, configuration, folds=[fold],
                         models=[(m.trainer, m.plans, configuration + m.configuration_suffix) for m in DEMO_MODELS],
                         output=output, overwrite=overwrite, repeats=repeats,
                         mirroring=False,  # test-time mirroring costs 8x in 3D: too slow for a CPU demo
                         test_images=test_images if has_test else None, test_labels=test_labels if has_test else None)
