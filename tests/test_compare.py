"""``nnunet-lunet compare`` end to end on the test run's generated, planned dataset with the smoke budget.

A two-fold, two-model comparison (LUnet16 and LUnet8: the thin rows, a few seconds per smoke epoch) into a private
``nnUNet_results``, trained fold by fold: the first call is interrupted by killing the second training's
``nnUNetv2_train`` (LUnet8 on fold 0) mid-run; then one finished run loses its validation summary (it must continue
from its final checkpoint, not retrain) and another its final checkpoint (zero bytes: not trained; it is set aside
and the run continues from the checkpoint nnU-Net finds next, or starts over).
The rerun refuses to continue without ``--c``, then finishes with ``--c`` without retraining the untouched finished
run, benchmarks all four runs and copies their small outputs; a third call trains and measures nothing, and a fourth
with another budget is refused. Each refusal gives one ``error:`` line and writes nothing; a run locked by another
process (a lane) is left to it.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from cli_runner import BIN, run

SMOKE = ["--epochs", 2, "--iterations", 5, "--val-iterations", 2]
ROWS = ["--preset", "small", "--rows", "lunet16", "lunet8"]
PLANS = "nnUNetPlans_compare"  # no --batch-size: the demo's tests write nnUNetPlans_compare_b2
TRAINER = "nnUNetTrainerLeanRecipe_budget"


def _env(planned_dataset, tmp_path):
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    return dict(planned_dataset.env, nnUNet_results=str(results))


def _command(planned_dataset, out, *extra, folds=(0, 1)):
    return ["nnunet-lunet", "compare", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", *ROWS, "-f", *folds,
            *SMOKE, "-o", out, "--repeats", 1, "--disable-tta", "-device", "cpu", *extra]


def _fold(env, planned_dataset, width, fold):
    return os.path.join(env["nnUNet_results"], planned_dataset.name,
                        f"{TRAINER}__{PLANS}__3d_fullres_lunet{width}", f"fold_{fold}")


def _descendants(pid: int) -> list:
    """The process's children, grandchildren, ... (Linux /proc), so that killing it leaves no orphans."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in os.listdir(f"/proc/{parent}/task") if os.path.isdir(f"/proc/{parent}/task") else []:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                children = []
            found += children
            todo += children
    return found


def _run_and_kill_second_training(command, env, second_fold: str) -> subprocess.CompletedProcess:
    """Run compare; when its second training has started (its debug.json is written), kill that nnUNetv2_train and
    its workers with SIGKILL; return compare's result."""
    process = subprocess.Popen([os.path.join(BIN, command[0])] + [str(a) for a in command[1:]], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, killed = [], False
    for line in process.stdout:
        lines.append(line)
        started = [ln for ln in lines if ln.startswith("[compare] training ")]
        if not killed and len(started) == 2:
            pid = int(started[1].rsplit("pid ", 1)[1].rstrip(")\n"))
            deadline = time.time() + 300
            while not os.path.isfile(os.path.join(second_fold, "debug.json")) and time.time() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # mid-run: past the start, before the end (an epoch takes seconds)
            for p in [pid] + _descendants(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            killed = True
    stderr = process.stderr.read()
    process.wait(timeout=600)
    assert killed, "".join(lines)
    return subprocess.CompletedProcess(command, process.returncode, "".join(lines), stderr)


def _single_error(result) -> str:
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _snapshot(*folders) -> dict:
    """Every file under ``folders`` with its size and modification time."""
    files = {}
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                files[path] = (os.path.getsize(path), os.path.getmtime(path))
    return files


def test_compare_resumes_after_a_killed_training(planned_dataset, tmp_path):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    folds = {(w, f): _fold(env, planned_dataset, w, f) for w in (16, 8) for f in (0, 1)}
    first = _run_and_kill_second_training(_command(planned_dataset, out), env, folds[(8, 0)])
    assert first.returncode == 2 and "1 training(s) did not finish" in first.stderr, first.stderr
    assert not os.path.exists(os.path.join(folds[(8, 0)], "checkpoint_final.pth"))  # killed mid-run
    for key in ((16, 0), (16, 1), (8, 1)):  # the others went on
        assert os.path.isfile(os.path.join(folds[key], "validation", "summary.json")), key

    untouched = os.path.getmtime(os.path.join(folds[(16, 0)], "checkpoint_final.pth"))
    os.remove(os.path.join(folds[(16, 1)], "validation", "summary.json"))  # stopped before its final validation
    open(os.path.join(folds[(8, 1)], "checkpoint_final.pth"), "w").close()  # a checkpoint that does not load
    logs_before = set(os.listdir(folds[(16, 1)]))

    refused = run(_command(planned_dataset, out), env, check=False)
    assert "pass --c to continue them" in _single_error(refused)

    second = run(_command(planned_dataset, out, "--c"), env, timeout=1500)
    assert "reusing LUnet16 fold 0" in second.stdout
    for label in ("LUnet16 fold 1", "LUnet8 fold 0", "LUnet8 fold 1"):
        assert f"[compare] continuing {label}" in second.stdout, second.stdout
    assert os.path.getmtime(os.path.join(folds[(16, 0)], "checkpoint_final.pth")) == untouched
    # LUnet16 fold 1 continued from its final checkpoint: its new training log trained no epoch
    new_logs = [n for n in set(os.listdir(folds[(16, 1)])) - logs_before if n.startswith("training_log_")]
    assert len(new_logs) == 1
    with open(os.path.join(folds[(16, 1)], new_logs[0])) as f:
        assert "Epoch 0" not in f.read()
    # LUnet8 fold 1's empty checkpoint was set aside and the run trained to a new one
    assert os.path.getsize(os.path.join(folds[(8, 1)], "checkpoint_final.pth")) > 0
    assert os.path.isfile(os.path.join(folds[(8, 1)], "checkpoint_final.pth.unloadable"))

    with open(out / "benchmark" / "benchmark.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["model"], r["fold"]) for r in rows) == sorted(
        (f"{TRAINER}__{PLANS}__3d_fullres_lunet{w}", str(f)) for w in (16, 8) for f in (0, 1))
    assert all(r["status"] == "ok" for r in rows), [r["status"] for r in rows]
    for (w, f), folder in folds.items():
        copy = out / "runs" / f"{TRAINER}__{PLANS}__3d_fullres_lunet{w}" / f"fold_{f}"
        assert (copy / "summary.json").is_file() and not list(copy.glob("*.pth"))
        with open(copy / "debug.json") as fh:
            debug = json.load(fh)
        assert (debug["num_epochs"], debug["num_iterations_per_epoch"]) == ("2", "5")
        # nnU-Net's absolute folders are written as their variables: the copies name no machine's folders
        assert debug["output_folder"] == f"$nnUNet_results/{planned_dataset.name}/{copy.parent.name}/fold_{f}"
        for path in copy.iterdir():
            assert env["nnUNet_results"] not in path.read_text(), path

    third = run(_command(planned_dataset, out, "--c"), env)
    assert third.stdout.count("[compare] reusing") == 4 and "up to date" in third.stdout, third.stdout
    assert "[compare] training" not in third.stdout and "continuing" not in third.stdout

    before = _snapshot(env["nnUNet_results"], planned_dataset.preprocessed, out)
    clash = run(_command(planned_dataset, out, "--c", "--epochs", 3), env, check=False)
    assert "was trained (or is being trained) with 2 epochs x 5 iterations" in _single_error(clash)
    assert _snapshot(env["nnUNet_results"], planned_dataset.preprocessed, out) == before


@pytest.mark.parametrize("change, message", [
    (["--preset", "tiny"], "unknown preset 'tiny'"),
    (["-f", 5], "fold 5 does not exist"),
    (["--epochs", 0], "--epochs must be at least 1"),
    (["--rows", "lunet3"], "--rows lunet3: not in preset small"),
    (["--rows", "lunet16", "stamp"], "the pruning rows cannot train at 2 epochs"),  # before any row trains
])
def test_compare_refuses_bad_input_and_writes_nothing(planned_dataset, tmp_path, change, message):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    before = _snapshot(env["nnUNet_results"], planned_dataset.preprocessed)
    result = run(_command(planned_dataset, out) + change, env, check=False)
    assert message in _single_error(result)
    assert not out.exists() and _snapshot(env["nnUNet_results"], planned_dataset.preprocessed) == before


def test_compare_refuses_an_unplanned_or_partly_preprocessed_dataset(planned_dataset, tmp_path):
    raw, pre = tmp_path / "raw", tmp_path / "preprocessed"
    env = dict(_env(planned_dataset, tmp_path), nnUNet_raw=str(raw), nnUNet_preprocessed=str(pre))
    shutil.copytree(planned_dataset.raw, raw / planned_dataset.name)
    pre.mkdir()
    result = run(_command(planned_dataset, tmp_path / "out"), env, check=False)
    assert "has no plans 'nnUNetPlans'" in _single_error(result)

    shutil.copytree(planned_dataset.preprocessed, pre / planned_dataset.name,
                    ignore=shutil.ignore_patterns("nnUNetPlans_compare*"))
    data = pre / planned_dataset.name / "nnUNetPlans_3d_fullres"
    next(data.glob("*.pkl")).unlink()  # as a preprocessing stopped before its last case leaves it
    before = _snapshot(pre, env["nnUNet_results"])
    result = run(_command(planned_dataset, tmp_path / "out"), env, check=False)
    assert "is not completely preprocessed" in _single_error(result)
    assert not (tmp_path / "out").exists() and _snapshot(pre, env["nnUNet_results"]) == before


def test_compare_leaves_a_run_locked_by_another_process_to_it(planned_dataset, tmp_path):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    for width in (16, 8):  # as a bash lane of the Hippocampus scripts holds its job
        lock = tmp_path / "results" / ".lanes" / f"{TRAINER}__{PLANS}__3d_fullres_lunet{width}__f0"
        lock.mkdir(parents=True)
        (lock / "lane").write_text("a\n")
    result = run(_command(planned_dataset, out, folds=(0,)), env, check=False)
    assert "2 run(s) are being trained by another process" in _single_error(result)
    assert not os.path.exists(_fold(env, planned_dataset, 16, 0))  # not trained here


def test_the_paper_preset_has_the_papers_rows_and_every_pruning_row_its_budget_trainer():
    from nnunet_lunet import trainers
    from nnunet_lunet.compare.presets import preset_rows

    rows = preset_rows("paper")
    assert [r.key for r in rows] == [
        "default", "lunet32", "lunet16", "lunet8", "lunet4", "scaled75", "scaled50", "scaled25", "unet_as_lunet16",
        "unet_as_lunet8", "stamp", "random_in_layer", "widest", "l1_unnormalised", "l1", "uniform_random",
        "stamp75_retrained",
        "stamp50_retrained", "stamp25_retrained"]
    assert all(r.pruning + "_budget" in trainers.__all__ for r in rows if r.pruning)
