"""The main job: one command from nothing to a side-by-side table of LUnet, pruned and standard nnU-Net.

Steps, each skipped when its result is already there (so an interrupted demo picks up where it stopped):
1. the data: by default the MSD Hippocampus subset shipped with the package (24 training and 16 held-out labelled
   cases, CC BY-SA 4.0, see ``nnunet_lunet/data/hippocampus_subset/LICENSE.md``), copied into
   ``<workdir>/nnUNet_raw`` and planned and preprocessed with ``nnUNetv2_plan_and_preprocess``; with ``synthetic``
   a generated dataset instead; with ``dataset`` a dataset the user's nnU-Net folders already hold, planned and
   preprocessed. Without ``dataset`` nnU-Net's folders are ``<workdir>/nnUNet_*``;
2. ``nnunet-lunet plan``: plans ``<plans>_demo`` (``nnUNetPlans_demo`` by default) with batch size 2 (a CPU budget)
   and the network scaled to LUnet16's parameter count (the paper's equal-size baseline). ``plans`` picks the source
   plans: nnU-Net's default ``nnUNetPlans`` or a residual encoder preset (``nnUNetResEncUNet{M,L,XL}Plans``), which
   step 1 plans with ``nnUNetv2_plan_experiment -pl nnUNetPlannerResEnc{M,L,XL}`` on the shipped or generated data
   (it reuses the standard preprocessed data); with ``dataset`` the plans must already exist;
3. train, on the CPU with one budget and one recipe for all (the lean recipe, Adam lr 1e-3: under nnU-Net's SGD the
   thin networks stay at "all background" for hundreds of steps, see ``trainers/recipes.py``): nnU-Net's default
   network (the reference), LUnet16, LUnet8, the equal-size U-Net and a STAMP pruning run (the ``_smoke`` trainers,
   budget set through ``NNUNET_LUNET_EPOCHS``/``ITERATIONS``/``VAL_ITERATIONS``);
4. ``nnunet-lunet benchmark --models`` over exactly those models, the default network as reference, with the
   held-out cases as test set when there are any, on the CPU (a subprocess with the demo's nnU-Net folders, like
   every step).

A model already trained with the same budget is reused; one trained with another budget, or unfinished, is never
overwritten without ``overwrite``.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from tqdm import tqdm

from nnunet_lunet.benchmark.outputs import default_output
from nnunet_lunet.datasets import RESENC_PLANNERS, load_plans, require_env, require_preprocessed, resolve_dataset
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.synthetic import make_synthetic_dataset

SYNTHETIC_ID, SYNTHETIC_NAME = 990, "Dataset990_LUnetSynthetic"
SUBSET_ID, SUBSET_NAME = 991, "Dataset991_HippocampusSubset"
SUBSET_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "hippocampus_subset")
DEFAULT_PLANS = "nnUNetPlans"
DEMO_SUFFIX = "_demo"
DEMO_BATCH_SIZE = 2
MATCHED_SUFFIX = "_scaled_as_lunet16"


@dataclass(frozen=True)
class DemoModel:
    label: str
    configuration_suffix: str  # appended to the configuration ("" or MATCHED_SUFFIX)
    trainer: str


DEMO_MODELS = [
    DemoModel("nnU-Net default network", "", "nnUNetTrainerLeanRecipe_smoke"),  # the reference: first
    DemoModel("LUnet16", "", "nnUNetTrainerLUnet16_smoke"),
    DemoModel("LUnet8", "", "nnUNetTrainerLUnet8_smoke"),
    DemoModel("U-Net of LUnet16's size", MATCHED_SUFFIX, "nnUNetTrainerLeanRecipe_smoke"),
    DemoModel("STAMP", "", "nnUNetTrainerSTAMP_smoke"),
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


@dataclass(frozen=True)
class DemoSettings:
    workdir: str
    dataset: Optional[str] = None  # a user's planned dataset; None: the shipped subset (or synthetic)
    synthetic: bool = False
    configuration: str = "3d_fullres"
    fold: int = 0
    plans: str = DEFAULT_PLANS  # the source plans: nnUNetPlans or a residual encoder preset (RESENC_PLANNERS)
    budget: Budget = Budget(8, 25, 5)
    overwrite: bool = False
    repeats: int = 3

    @property
    def demo_plans(self) -> str:
        return self.plans + DEMO_SUFFIX


def _script(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def _argv(args: List[object]) -> List[str]:
    """A console script's command line: ``args[0]`` from this interpreter's bin folder, the rest as strings."""
    return [_script(str(args[0]))] + [str(a) for a in args[1:]]


def _run(args: List[str], env: Dict[str, str], log: str) -> None:
    """Run a console script, its output into ``log``; LUnetError naming the log if it fails."""
    with open(log, "w") as f:
        result = subprocess.run(_argv(args), env=env, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise LUnetError(f"{' '.join(str(a) for a in args)} failed (exit {result.returncode}); see {log}")


def copy_subset(raw: str) -> str:
    """The shipped Hippocampus subset as ``<raw>/Dataset991_HippocampusSubset`` (copied once)."""
    target = os.path.join(raw, SUBSET_NAME)
    if not os.path.isdir(target):
        if not os.path.isfile(os.path.join(SUBSET_FOLDER, "dataset.json")):
            raise LUnetError(f"the packaged Hippocampus subset is missing ({SUBSET_FOLDER}): reinstall nnunet-lunet, "
                             f"or run the demo with --synthetic")
        shutil.copytree(SUBSET_FOLDER, target)
    return target


def prepare_own_data(settings: DemoSettings, env: Dict[str, str]) -> str:
    """Step 1 without a user dataset: the subset (or a generated dataset), planned and preprocessed once."""
    dataset_id, name = (SYNTHETIC_ID, SYNTHETIC_NAME) if settings.synthetic else (SUBSET_ID, SUBSET_NAME)
    raw = os.path.join(env["nnUNet_raw"], name)
    if not os.path.isdir(raw):
        if settings.synthetic:
            print(f"[demo] generating a synthetic dataset in {raw}")
            make_synthetic_dataset(env["nnUNet_raw"], SYNTHETIC_ID, n_train=12, n_test=4)
        else:
            print(f"[demo] copying the MSD Hippocampus subset (CC BY-SA 4.0) to {raw}")
            copy_subset(env["nnUNet_raw"])
    if not os.path.isfile(os.path.join(env["nnUNet_preprocessed"], name, "nnUNetPlans.json")):
        print("[demo] nnUNetv2_plan_and_preprocess")
        _run(["nnUNetv2_plan_and_preprocess", "-d", dataset_id, "-c", settings.configuration, "-np", 2,
              "-npfp", 2], env, os.path.join(settings.workdir, "plan_and_preprocess.log"))
    if settings.plans != DEFAULT_PLANS and not os.path.isfile(
            os.path.join(env["nnUNet_preprocessed"], name, settings.plans + ".json")):
        print(f"[demo] nnUNetv2_plan_experiment -pl {RESENC_PLANNERS[settings.plans]}")
        _run(["nnUNetv2_plan_experiment", "-d", dataset_id, "-pl", RESENC_PLANNERS[settings.plans]], env,
             os.path.join(settings.workdir, "plan_experiment.log"))
    return name


def ensure_demo_plans(dataset_name: str, settings: DemoSettings, env: Dict[str, str]) -> None:
    """Step 2: ``<plans>_demo`` (batch 2, the equal-size network); reused if it already has what the demo needs."""
    path = os.path.join(env["nnUNet_preprocessed"], dataset_name, settings.demo_plans + ".json")
    needed = settings.configuration + MATCHED_SUFFIX
    if os.path.isfile(path):
        with open(path) as f:
            configurations = json.load(f)["configurations"]
        if needed in configurations and configurations[settings.configuration].get("batch_size") == DEMO_BATCH_SIZE:
            return
        if not settings.overwrite:
            raise LUnetError(f"{path} exists but is not the demo's (batch size {DEMO_BATCH_SIZE} and {needed}): pass "
                             f"--overwrite to replace it, or use another --workdir")
    _run(["nnunet-lunet", "plan", "-d", dataset_name, "-p", settings.plans, "-c", settings.configuration, "--widths",
          "--scales", "--match-parameters", 16, "--batch-size", DEMO_BATCH_SIZE, "-o", settings.demo_plans]
         + (["--overwrite"] if settings.overwrite else []), env, os.path.join(settings.workdir, "plan.log"))


def model_folder_name(settings: DemoSettings, model: DemoModel) -> str:
    """The model's nnU-Net results folder name, ``TRAINER__PLANS__CONFIGURATION``."""
    return f"{model.trainer}__{settings.demo_plans}__{settings.configuration}{model.configuration_suffix}"


def fold_folder(env: Dict[str, str], dataset_name: str, settings: DemoSettings, model: DemoModel) -> str:
    return os.path.join(env["nnUNet_results"], dataset_name, model_folder_name(settings, model),
                        f"fold_{settings.fold}")


def check_retrainable(env: Dict[str, str], dataset_name: str, settings: DemoSettings) -> List[DemoModel]:
    """The models still to train; LUnetError, before anything is trained, if one would overwrite another run."""
    todo = []
    for model in DEMO_MODELS:
        folder = fold_folder(env, dataset_name, settings, model)
        if os.path.isfile(os.path.join(folder, "checkpoint_final.pth")) and settings.budget.matches(folder):
            continue
        if os.path.exists(folder) and not settings.overwrite:
            raise LUnetError(f"{folder} holds a run with another budget, or an unfinished one: pass --overwrite to "
                             f"retrain it, or use another --workdir")
        todo.append(model)
    return todo


def train_command(dataset_name: str, settings: DemoSettings, model: DemoModel) -> List[str]:
    """Step 3 for one model: its ``nnUNetv2_train`` command (the budget goes in the environment, ``Budget.env``)."""
    return ["nnUNetv2_train", dataset_name, settings.configuration + model.configuration_suffix, settings.fold, "-tr",
            model.trainer, "-p", settings.demo_plans, "-device", "cpu"]


def train_models(dataset_name: str, settings: DemoSettings, env: Dict[str, str]) -> None:
    """Step 3: train every demo model not yet trained with this budget."""
    train_env = dict(env, **settings.budget.env())
    todo = check_retrainable(env, dataset_name, settings)
    for model in tqdm(DEMO_MODELS, desc="[demo] training", unit="model"):
        config = settings.configuration + model.configuration_suffix
        if model not in todo:
            tqdm.write(f"[demo] reusing {model.label}: {fold_folder(env, dataset_name, settings, model)}")
            continue
        tqdm.write(f"[demo] training {model.label} ({model.trainer}, {config}, {settings.budget.epochs} epochs x "
                   f"{settings.budget.iterations} iterations, batch {DEMO_BATCH_SIZE})")
        _run(train_command(dataset_name, settings, model), train_env,
             os.path.join(settings.workdir, f"train_{model.trainer}__{config}.log"))


def demo_environment(workdir: str, use_user_folders: bool) -> Dict[str, str]:
    env = dict(os.environ)
    if not use_user_folders:
        for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
            env[var] = os.path.join(workdir, var)
            os.makedirs(env[var], exist_ok=True)
    env.setdefault("nnUNet_def_n_proc", "2")
    env.setdefault("nnUNet_n_proc_DA", "2")
    return env


def benchmark_command(dataset_name: str, settings: DemoSettings, env: Dict[str, str]) -> Tuple[List[str], str]:
    """Step 4 as ``(nnunet-lunet benchmark command, its output folder)``: the demo's models exactly, the first as
    the reference, the held-out cases as test set when the dataset has them, on the CPU like the training (also
    where a GPU is present), no test-time mirroring (it costs 8x in 3D: too slow for a CPU demo)."""
    output = (os.path.join(settings.workdir, "benchmark") if settings.dataset is None else
              default_output(dataset_name, settings.configuration, env["nnUNet_results"]))
    models = [model_folder_name(settings, m) for m in DEMO_MODELS]
    command = ["nnunet-lunet", "benchmark", "-d", dataset_name, "-c", settings.configuration, "-f", settings.fold,
               "--models", *models, "--reference", models[0], "--repeats", settings.repeats, "--disable-tta",
               "--device", "cpu", "-o", output] + (["--overwrite"] if settings.overwrite else [])
    test_images = os.path.join(env["nnUNet_raw"], dataset_name, "imagesTs")
    test_labels = os.path.join(env["nnUNet_raw"], dataset_name, "labelsTs")
    if os.path.isdir(test_images) and os.path.isdir(test_labels):
        command += ["--test-images", test_images, "--test-labels", test_labels]
    return command, output


def run_demo(settings: DemoSettings) -> str:
    """All steps; returns the benchmark folder."""
    settings = DemoSettings(**dict(settings.__dict__, workdir=os.path.abspath(settings.workdir)))
    if settings.dataset is not None and settings.synthetic:
        raise LUnetError("--dataset and --synthetic exclude each other: pick one")
    if settings.plans != DEFAULT_PLANS and settings.plans not in RESENC_PLANNERS:
        raise LUnetError(f"--plans {settings.plans}: the demo takes {DEFAULT_PLANS} or a residual encoder preset "
                         f"({', '.join(RESENC_PLANNERS)}); for other plans, train with nnUNetv2_train and run "
                         f"nnunet-lunet benchmark")
    os.makedirs(settings.workdir, exist_ok=True)
    env = demo_environment(settings.workdir, use_user_folders=settings.dataset is not None)
    if settings.dataset is None:
        dataset_name = prepare_own_data(settings, env)
    else:
        for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
            require_env(var)
        dataset_name = resolve_dataset(settings.dataset)
        require_preprocessed(dataset_name, load_plans(dataset_name, settings.plans), settings.configuration)
    ensure_demo_plans(dataset_name, settings, env)
    train_models(dataset_name, settings, env)
    command, output = benchmark_command(dataset_name, settings, env)
    print(f"[demo] {' '.join(str(a) for a in command)}", flush=True)
    # the table and the files' paths go to the terminal; an error is its own "error:" line above ours
    result = subprocess.run(_argv(command), env=env)
    if result.returncode != 0:
        raise LUnetError(f"the benchmark step failed (exit {result.returncode}, its error above); the trained models "
                         f"are kept: fix that and run the demo again (it reuses them)")
    return output
