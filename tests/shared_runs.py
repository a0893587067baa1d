"""What the test session's parallel workers (pytest-xdist) share: things made once, and private copies of runs.

Every worker sees the same nnU-Net folders. ``once`` makes a shared thing (dataset, plans, trained model) under a file
lock: the first worker that asks makes it, the others wait and reuse it. A test that continues, damages or retrains a
shared run works on ``private_copy`` of it, so that no other test sees the change.
"""

import os
import shutil
from pathlib import Path
from typing import Callable, Tuple

from filelock import FileLock


def once(root: Path, name: str, make: Callable[[], None]) -> None:
    """Run ``make`` once per test session, whichever worker asks first; the others wait until it is done.

    A ``make`` that failed is tried again by the next worker that asks (no marker is written)."""
    with FileLock(str(root / f"{name}.lock")):
        marker = root / f"{name}.done"
        if not marker.exists():
            make()
            marker.touch()


def private_copy(fold: str, dataset_name: str, tmp_path: Path) -> Tuple[str, str]:
    """``(results folder, copied fold folder)``: a shared run's model folder copied into a private results folder,
    for tests that continue, damage or retrain it (without its validation folder and plots)."""
    model = os.path.dirname(fold)
    results = tmp_path / "results"
    copy = results / dataset_name / os.path.basename(model)
    shutil.copytree(model, copy, ignore=shutil.ignore_patterns("validation", "*.pdf", "*.png"))
    return str(results), str(copy / os.path.basename(fold))
