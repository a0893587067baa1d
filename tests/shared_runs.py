"""What the test session's parallel workers (pytest-xdist) share: things made once, and private copies of runs.

Every worker sees the same nnU-Net folders. ``once`` makes a shared thing (dataset, plans, trained model) under a file
lock: the first worker that asks makes it, the others wait and reuse it. A test that continues, damages or retrains a
shared run works on ``private_copy`` of it, so that no other test sees the change.
"""

import os
import shutil
from pathlib import Path
from typing import Callable, Tuple

import pytest
from filelock import FileLock


def once(root: Path, name: str, make: Callable[[], None]) -> None:
    """Run ``make`` once per test session, whichever worker asks first; the others wait until it is done.

    When ``make`` fails, the workers that ask later fail at once with its error instead of repeating it."""
    with FileLock(str(root / f"{name}.lock")):
        done, failed = root / f"{name}.done", root / f"{name}.failed"
        if failed.exists():
            pytest.fail(f"{name}: made by another worker of this session, and that failed:\n{failed.read_text()}")
        if not done.exists():
            try:
                make()
            except BaseException as error:
                failed.write_text(str(error)[-4000:])
                raise
            done.touch()


def private_copy(fold: str, dataset_name: str, tmp_path: Path) -> Tuple[str, str]:
    """``(results folder, copied fold folder)``: a shared run's model folder copied into a private results folder,
    for tests that continue, damage or retrain it (without its validation folder and plots)."""
    model = os.path.dirname(fold)
    results = tmp_path / "results"
    copy = results / dataset_name / os.path.basename(model)
    shutil.copytree(model, copy, ignore=shutil.ignore_patterns("validation", "*.pdf", "*.png"))
    return str(results), str(copy / os.path.basename(fold))
