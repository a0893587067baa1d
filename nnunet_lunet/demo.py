"""The main job: ``nnunet-lunet compare --preset small`` on the MSD Hippocampus subset shipped with the package.

Steps, each checked complete and redone when not (so that a rerun of an interrupted demo picks up where it stopped):

1. the data, unless ``dataset`` names a dataset the user's nnU-Net folders hold (planned and preprocessed): the
   shipped subset (24 training and 16 held-out labelled cases, CC BY-SA 4.0, see
   ``nnunet_lunet/data/hippocampus_subset/LICENSE.md``), or with ``synthetic`` a generated dataset, in
   ``<workdir>/nnUNet_raw`` (nnU-Net's folders are then ``<workdir>/nnUNet_*``). The copy is checked file by file
   against the packaged subset (a partial or changed copy is replaced); a generated dataset is written into a
   temporary folder and moved into place. Then ``nnUNetv2_plan_and_preprocess`` unless the preprocessing is complete
   case by case (``compare.preprocessed``: nnU-Net writes ``nnUNetPlans.json`` before it preprocesses, so that file
   proves nothing), and ``nnUNetv2_plan_experiment`` for a residual encoder preset (``plans``) whose plans are missing;
2. ``compare`` with the small preset on ``fold`` at batch size 2 (a CPU budget) with the demo's budget, on the CPU,
   continuing interrupted runs (``--c``: the runs are the demo's own), the held-out cases as test set when there are
   any, everything else into ``workdir`` (``benchmark/``, ``runs/``, ``logs/``, ``compare.json``).

A run trained with another budget is refused, never retrained: pass that budget or use another ``workdir``.
"""

import filecmp
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from nnunet_lunet.datasets import RESENC_PLANNERS
from nnunet_lunet.errors import LUnetError

SYNTHETIC_ID, SYNTHETIC_NAME = 990, "Dataset990_LUnetSynthetic"
SUBSET_ID, SUBSET_NAME = 991, "Dataset991_HippocampusSubset"
SUBSET_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "hippocampus_subset")
DEFAULT_PLANS = "nnUNetPlans"
DEMO_PRESET = "small"
DEMO_BATCH_SIZE = 2
NNUNET_FOLDERS = ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results")


@dataclass(frozen=True)
class DemoSettings:
    workdir: str
    dataset: Optional[str] = None  # a user's planned dataset; None: the shipped subset (or synthetic)
    synthetic: bool = False
    configuration: str = "3d_fullres"
    fold: int = 0
    plans: str = DEFAULT_PLANS  # the source plans: nnUNetPlans or a residual encoder preset (RESENC_PLANNERS)
    epochs: int = 8
    iterations: int = 25
    val_iterations: int = 5
    repeats: int = 3
    rows: Optional[Sequence[str]] = None  # rows of the small preset; None: all


def _script(name: str) -> str:
    from nnunet_lunet.compare.training import script
    return script(name)


def _run(args: List[object], log: str) -> None:
    """Run a console script with this process's environment, its output into ``log``; LUnetError naming the log if
    it fails."""
    with open(log, "w") as f:
        result = subprocess.run([_script(str(args[0]))] + [str(a) for a in args[1:]], stdout=f,
                                stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise LUnetError(f"{' '.join(str(a) for a in args)} failed (exit {result.returncode}); see {log}")


def _same_tree(a: str, b: str) -> bool:
    """Whether folder ``b`` holds exactly ``a``'s files with the same sizes and contents."""
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(os.path.join(a, d), os.path.join(b, d))
                                               for d in comparison.common_dirs)


def copy_subset(raw: str) -> str:
    """The shipped Hippocampus subset as ``<raw>/Dataset991_HippocampusSubset``: kept when it is a complete copy,
    else (re)copied through a temporary folder and renamed into place."""
    target = os.path.join(raw, SUBSET_NAME)
    if not os.path.isfile(os.path.join(SUBSET_FOLDER, "dataset.json")):
        raise LUnetError(f"the packaged Hippocampus subset is missing ({SUBSET_FOLDER}): reinstall nnunet-lunet, "
                         f"or run the demo with --synthetic")
    if os.path.isdir(target) and _same_tree(SUBSET_FOLDER, target):
        return target
    print(f"[demo] copying the MSD Hippocampus subset (CC BY-SA 4.0) to {target}", flush=True)
    partial = tempfile.mkdtemp(prefix=".partial_", dir=raw)
    shutil.copytree(SUBSET_FOLDER, os.path.join(partial, SUBSET_NAME))
    if os.path.isdir(target):
        shutil.rmtree(target)  # an incomplete or changed copy the demo made
    os.replace(os.path.join(partial, SUBSET_NAME), target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def generate_synthetic(raw: str) -> str:
    """A generated dataset as ``<raw>/Dataset990_LUnetSynthetic``, written once (through a temporary folder)."""
    from nnunet_lunet.synthetic import make_synthetic_dataset
    target = os.path.join(raw, SYNTHETIC_NAME)
    if os.path.isdir(target):
        return target
    print(f"[demo] generating a synthetic dataset in {target}", flush=True)
    partial = tempfile.mkdtemp(prefix=".partial_", dir=raw)
    make_synthetic_dataset(partial, SYNTHETIC_ID, n_train=12, n_test=4)
    os.replace(os.path.join(partial, SYNTHETIC_NAME), target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def prepare_own_data(settings: DemoSettings) -> str:
    """Step 1 without a user dataset: the subset (or a generated dataset), planned and preprocessed until complete;
    returns the dataset name."""
    from nnunet_lunet.compare.preprocessed import incomplete_reason
    dataset_id, name = (SYNTHETIC_ID, SYNTHETIC_NAME) if settings.synthetic else (SUBSET_ID, SUBSET_NAME)
    raw = os.environ["nnUNet_raw"]
    generate_synthetic(raw) if settings.synthetic else copy_subset(raw)
    preprocessed = os.path.join(os.environ["nnUNet_preprocessed"], name)
    plans_path = os.path.join(preprocessed, DEFAULT_PLANS + ".json")
    reason = "not planned yet"
    if os.path.isfile(plans_path):
        from nnunet_lunet.datasets import load_plans
        reason = incomplete_reason(preprocessed, load_plans(name, DEFAULT_PLANS), settings.configuration)
    if reason is not None:
        print(f"[demo] nnUNetv2_plan_and_preprocess ({reason})", flush=True)
        _run(["nnUNetv2_plan_and_preprocess", "-d", dataset_id, "-c", settings.configuration, "-np", 2, "-npfp", 2],
             os.path.join(settings.workdir, "plan_and_preprocess.log"))
    if settings.plans != DEFAULT_PLANS and not os.path.isfile(os.path.join(preprocessed, settings.plans + ".json")):
        print(f"[demo] nnUNetv2_plan_experiment -pl {RESENC_PLANNERS[settings.plans]}", flush=True)
        _run(["nnUNetv2_plan_experiment", "-d", dataset_id, "-pl", RESENC_PLANNERS[settings.plans]],
             os.path.join(settings.workdir, "plan_experiment.log"))
    return name


def use_own_folders(workdir: str) -> Dict[str, str]:
    """Point nnU-Net's folders at ``<workdir>/nnUNet_*`` for this process and its children (before nnU-Net is
    imported: it reads them at import)."""
    folders = {var: os.path.join(workdir, var) for var in NNUNET_FOLDERS}
    for var, path in folders.items():
        os.makedirs(path, exist_ok=True)
        os.environ[var] = path
    os.environ.setdefault("nnUNet_def_n_proc", "2")
    os.environ.setdefault("nnUNet_n_proc_DA", "2")
    return folders


def compare_settings(settings: DemoSettings, dataset_name: str, command_line: str = ""):
    """Step 2 as ``compare``'s settings: the small preset at batch 2 on the CPU, into the workdir."""
    from nnunet_lunet.compare.runner import CompareSettings
    from nnunet_lunet.compare.runs import Budget
    from nnunet_lunet.datasets import require_env
    raw = os.path.join(require_env("nnUNet_raw"), dataset_name)
    test_images, test_labels = os.path.join(raw, "imagesTs"), os.path.join(raw, "labelsTs")
    held_out = os.path.isdir(test_images) and os.path.isdir(test_labels)
    return CompareSettings(dataset=dataset_name, configuration=settings.configuration, preset=DEMO_PRESET,
                           folds=[settings.fold], budget=Budget(settings.epochs, settings.iterations,
                                                                settings.val_iterations),
                           rows=settings.rows, plans=settings.plans, batch_size=DEMO_BATCH_SIZE,
                           output=settings.workdir, resume=True, device="cpu", repeats=settings.repeats,
                           disable_tta=True, test_images=test_images if held_out else None,
                           test_labels=test_labels if held_out else None, command_line=command_line,
                           rerun_hint="run the demo again")


def check_settings(settings: DemoSettings) -> None:
    if settings.dataset is not None and settings.synthetic:
        raise LUnetError("--dataset and --synthetic exclude each other: pick one")
    if settings.plans != DEFAULT_PLANS and settings.plans not in RESENC_PLANNERS:
        raise LUnetError(f"--plans {settings.plans}: the demo takes {DEFAULT_PLANS} or a residual encoder preset "
                         f"({', '.join(RESENC_PLANNERS)}); for other plans, run nnunet-lunet compare")
    for name in ("epochs", "iterations", "val_iterations", "repeats"):
        if getattr(settings, name) < 1:
            raise LUnetError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(settings, name)}")
    from nnunet_lunet.compare.presets import preset_rows
    preset_rows(DEMO_PRESET, settings.rows)


def run_demo(settings: DemoSettings, command_line: str = "") -> str:
    """All steps; returns the benchmark folder."""
    from nnunet_lunet.compare.runner import check, run_compare
    settings = DemoSettings(**dict(settings.__dict__, workdir=os.path.abspath(settings.workdir)))
    check_settings(settings)
    if settings.dataset is None:
        os.makedirs(settings.workdir, exist_ok=True)
        use_own_folders(settings.workdir)
        dataset_name = prepare_own_data(settings)
    else:
        from nnunet_lunet.datasets import resolve_dataset
        dataset_name = resolve_dataset(settings.dataset)
    compare = compare_settings(settings, dataset_name, command_line)
    if settings.dataset is not None:
        check(compare)  # a user's dataset: refused before the workdir is made
    return run_compare(compare)
