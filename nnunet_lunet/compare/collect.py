"""A finished run's small outputs, copied for committing: ``<out>/runs/<model>/fold_N/``.

What is copied (no checkpoints): ``validation/summary.json`` as ``summary.json``, each pruning level's
``validation_level<L>/summary.json`` as ``summary_level<L>.json``, ``debug.json``, ``pruning_log.json`` and
nnU-Net's ``training_log_*.txt`` (not ``progress.png``: half a megabyte a run, and the log holds its numbers). Copies replace earlier copies of the same files; nothing else in
the folder is touched.
"""

import glob
import os
import shutil
from typing import Sequence

from nnunet_lunet.compare.runs import Job

SMALL_FILES = ("debug.json", "pruning_log.json")


def copy_small_outputs(job: Job, runs: str) -> str:
    """Copy one finished job's small outputs into ``runs``; returns its copy folder."""
    target = os.path.join(runs, job.model, f"fold_{job.fold}")
    os.makedirs(target, exist_ok=True)
    pairs = [(os.path.join(job.folder, "validation", "summary.json"), "summary.json")]
    for level in sorted(glob.glob(os.path.join(job.folder, "validation_level*", "summary.json"))):
        pairs.append((level, "summary_" + os.path.basename(os.path.dirname(level))[len("validation_"):] + ".json"))
    pairs += [(os.path.join(job.folder, name), name) for name in SMALL_FILES]
    pairs += [(path, os.path.basename(path)) for path in glob.glob(os.path.join(job.folder, "training_log_*.txt"))]
    for source, name in pairs:
        if os.path.isfile(source):
            shutil.copy2(source, os.path.join(target, name))
    return target


def copy_all(jobs: Sequence[Job], runs: str) -> None:
    for job in jobs:
        copy_small_outputs(job, runs)
