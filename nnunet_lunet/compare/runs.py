"""One training of a comparison (a model on a fold), where nnU-Net keeps it, and what state it is in.

Rules:

- A job's fold folder is nnU-Net's: ``$nnUNet_results/<dataset>/<trainer>__<plans>__<configuration>/fold_N``
  (``plans.run_names.run_path``).
- Its budget is what nnU-Net recorded in the folder's ``debug.json`` (``num_epochs``, ``num_iterations_per_epoch``,
  ``num_val_iterations_per_epoch``, written when training starts): a folder of another budget is a clash, refused
  before anything is trained, never retrained or mixed; a folder with checkpoints but no ``debug.json`` is too
  (its budget is unknown).
- ``finished``: ``validation/summary.json`` is there and ``checkpoint_final.pth`` loads; ``interrupted``: the folder
  was started (``debug.json``) but is not finished: it continues with ``--c``; ``new``: nothing there yet.
- A checkpoint "loads" when it is a complete torch zip archive (every member's CRC checks, ``data.pkl`` present):
  a zero-byte or truncated file, as a kill during saving leaves, does not. Nothing is unpickled to decide it.
"""

import json
import os
import zipfile
from dataclasses import dataclass
from typing import Dict, Optional

from nnunet_lunet.compare.presets import Row
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import model_name, run_path

FINAL = "checkpoint_final.pth"
CHECKPOINTS = ("checkpoint_final.pth", "checkpoint_latest.pth", "checkpoint_best.pth")
NNUNET_BUDGET = (1000, 250, 50)  # nnU-Net's own epochs x iterations x validation iterations


@dataclass(frozen=True)
class Budget:
    epochs: int = NNUNET_BUDGET[0]
    iterations: int = NNUNET_BUDGET[1]
    val_iterations: int = NNUNET_BUDGET[2]

    def env(self) -> Dict[str, str]:
        """The ``_budget`` trainers' variables (``trainers/budget.py``), all three always set."""
        return {"NNUNET_LUNET_EPOCHS": str(self.epochs), "NNUNET_LUNET_ITERATIONS": str(self.iterations),
                "NNUNET_LUNET_VAL_ITERATIONS": str(self.val_iterations)}

    def describe(self) -> str:
        return f"{self.epochs} epochs x {self.iterations} iterations ({self.val_iterations} validation iterations)"


@dataclass(frozen=True)
class Job:
    row: Row
    fold: int
    trainer: str
    plans: str
    configuration: str
    folder: str  # the fold folder

    @property
    def model(self) -> str:
        return model_name(self.trainer, self.plans, self.configuration)

    @property
    def name(self) -> str:
        return f"{self.row.label} fold {self.fold}"


def make_job(results: str, row: Row, fold: int, plans: str, configuration: str) -> Job:
    folder = os.path.join(results, run_path(row.trainer, plans, configuration, fold))
    return Job(row, fold, row.trainer, plans, configuration, folder)


def checkpoint_loads(path: str) -> bool:
    """Whether ``path`` is a complete torch checkpoint (module rules); never unpickles."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            return any(n.endswith("/data.pkl") or n == "data.pkl" for n in names) and archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def recorded_budget(folder: str) -> Optional[Budget]:
    """The budget in the folder's ``debug.json``; None when there is none (training never started)."""
    path = os.path.join(folder, "debug.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            debug = json.load(f)
        return Budget(int(debug["num_epochs"]), int(debug["num_iterations_per_epoch"]),
                      int(debug["num_val_iterations_per_epoch"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LUnetError(f"{path} cannot be read ({error}): it is not a run nnU-Net wrote; move that fold folder "
                         f"away") from None


def is_finished(folder: str) -> bool:
    return (os.path.isfile(os.path.join(folder, "validation", "summary.json"))
            and checkpoint_loads(os.path.join(folder, FINAL)))


def state(job: Job) -> str:
    """``finished``, ``interrupted`` or ``new`` (module rules)."""
    if is_finished(job.folder):
        return "finished"
    started = os.path.isfile(os.path.join(job.folder, "debug.json")) or any(
        os.path.exists(os.path.join(job.folder, c)) for c in CHECKPOINTS)
    return "interrupted" if started else "new"


def check_budget(job: Job, budget: Budget) -> None:
    """LUnetError if the job's folder holds a run of another (or an unknown) budget."""
    recorded = recorded_budget(job.folder)
    if recorded is None:
        if any(os.path.exists(os.path.join(job.folder, c)) for c in CHECKPOINTS):
            raise LUnetError(f"{job.folder} holds checkpoints but no debug.json, so its budget is unknown: move that "
                             f"fold folder away, or point nnUNet_results elsewhere")
        return
    if recorded != budget:
        raise LUnetError(f"{job.model} fold {job.fold} was trained (or is being trained) with {recorded.describe()}, "
                         f"not {budget.describe()}: pass that budget (--epochs {recorded.epochs} --iterations "
                         f"{recorded.iterations} --val-iterations {recorded.val_iterations}), or use another "
                         f"nnUNet_results folder for another budget")


def set_aside_unloadable(folder: str) -> list:
    """Rename checkpoints that do not load to ``<name>.unloadable`` (so that ``--c`` continues from one that does,
    or starts over); returns the renamed names."""
    renamed = []
    for name in CHECKPOINTS:
        path = os.path.join(folder, name)
        if os.path.exists(path) and not checkpoint_loads(path):
            os.replace(path, path + ".unloadable")
            renamed.append(name)
    return renamed
