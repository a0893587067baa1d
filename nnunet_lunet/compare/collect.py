"""A finished run's small outputs, copied for committing: ``<out>/runs/<model>/fold_N/``.

What is copied (no checkpoints): ``validation/summary.json`` as ``summary.json``, each pruning level's
``validation_level<L>/summary.json`` as ``summary_level<L>.json``, ``debug.json``, ``pruning_log.json`` and
nnU-Net's ``training_log_*.txt`` (not ``progress.png``: half a megabyte a run, and the log holds its numbers).
nnU-Net writes absolute paths into these files (``debug.json``'s output folders, ``summary.json``'s prediction and
reference files): in the copies each of the folders ``nnUNet_results``, ``nnUNet_preprocessed`` and ``nnUNet_raw``
is written as ``$nnUNet_results`` etc., so committed copies name no machine's folders (``portable_text``). Copies
replace earlier copies of the same files; nothing else in the folder is touched.
"""

import glob
import os
import shutil
from typing import Sequence

from nnunet_lunet.compare.runs import Job
from nnunet_lunet.plans.run_names import run_path

SMALL_FILES = ("debug.json", "pruning_log.json")
ROOTS = ("nnUNet_results", "nnUNet_preprocessed", "nnUNet_raw")


def portable_text(text: str) -> str:
    """``text`` with each nnU-Net folder of this environment written as its variable (module rules); the longest
    folder first, so that one nested in another is replaced whole."""
    roots = [(os.path.abspath(os.environ[v]), "$" + v) for v in ROOTS if os.environ.get(v)]
    for folder, variable in sorted(roots, key=lambda r: -len(r[0])):
        text = text.replace(folder, variable)
    return text


def _copy(source: str, target: str) -> None:
    with open(source, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    with open(target, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(portable_text(text))
    shutil.copystat(source, target)


def copy_small_outputs(job: Job, runs: str) -> str:
    """Copy one finished job's small outputs into ``runs``; returns its copy folder."""
    target = os.path.join(runs, run_path(job.trainer, job.plans, job.configuration, job.fold))
    os.makedirs(target, exist_ok=True)
    pairs = [(os.path.join(job.folder, "validation", "summary.json"), "summary.json")]
    for level in sorted(glob.glob(os.path.join(job.folder, "validation_level*", "summary.json"))):
        pairs.append((level, "summary_" + os.path.basename(os.path.dirname(level))[len("validation_"):] + ".json"))
    pairs += [(os.path.join(job.folder, name), name) for name in SMALL_FILES]
    pairs += [(path, os.path.basename(path)) for path in glob.glob(os.path.join(job.folder, "training_log_*.txt"))]
    for source, name in pairs:
        if os.path.isfile(source):
            _copy(source, os.path.join(target, name))
    return target


def copy_all(jobs: Sequence[Job], runs: str) -> None:
    for job in jobs:
        copy_small_outputs(job, runs)
