"""``nnunet-lunet compare --executor slurm|local``: trainings as jobs submitted through submitit.

- ``--executor local`` on the test run's generated dataset (the smoke budget, LUnet16 and LUnet8 on fold 0, two
  jobs at once): one job is killed mid-training (its job process and ``nnUNetv2_train``), compare ends with that
  job's log; the rerun with ``--c`` reuses the finished run, submits the killed one again, which continues with
  ``--c``, and benchmarks both. The job ids are in ``OUT/compare.json``.
- ``--executor slurm`` against a stand-in ``sbatch``/``squeue``/``sacct``/``srun`` (small scripts on PATH that keep
  each submitted script and report the states the test writes): what is submitted (partition, GPUs, time, the
  ``nnUNetv2_train`` command line, the environment), a rerun while the jobs are queued submits nothing, a rerun
  after one job failed submits only that one again, and jobs reported failed end a waiting compare with their log
  paths.
- No ``sbatch`` on PATH, or no submitit (hidden from the interpreter): one ``error:`` line each, nothing written.
- Locks: created exclusively, taken over only when the owner is known to have ended (a process gone, a SLURM job the
  stand-in ``sacct`` reports ended), never a lock of another form or of a running job.
"""

import csv
import json
import os
import signal
import stat
import subprocess
import time

from cli_runner import BIN, assert_refused, run
from test_compare import PLANS, SMOKE, TRAINER, _descendants, _env, _fold

ROWS = ["--preset", "small", "--rows", "lunet16", "lunet8"]
STAND_INS = {
    "sbatch": """n=$(( $(cat "$FAKE_SLURM/next" 2>/dev/null || echo 1000) + 1 ))
echo $n > "$FAKE_SLURM/next"
cp "$1" "$FAKE_SLURM/sbatch_$n.sh"
echo PENDING > "$FAKE_SLURM/state_$n"
echo "Submitted batch job $n"
""",
    "sacct": """for f in "$FAKE_SLURM"/state_*; do [ -e "$f" ] && echo "${f##*state_}|$(cat "$f")"; done; true
""",
    "squeue": "true\n",
    "srun": 'exec "$@"\n',
}


def _command(planned_dataset, out, *extra):
    return ["nnunet-lunet", "compare", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", *ROWS, "-f", 0, *SMOKE,
            "-o", out, "--repeats", 1, "--disable-tta", *extra]


def _stand_in_slurm(tmp_path, env):
    """A folder of stand-in SLURM commands first on PATH; returns the env and the folder they write to."""
    bin_dir, state = tmp_path / "slurm_bin", tmp_path / "slurm_state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in STAND_INS.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return dict(env, PATH=f"{bin_dir}:{env['PATH']}", FAKE_SLURM=str(state)), state


def _scripts(state):
    return sorted(state.glob("sbatch_*.sh"))


def test_slurm_submits_each_run_once_and_reports_failed_jobs_with_their_logs(planned_dataset, tmp_path):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    env, state = _stand_in_slurm(tmp_path, env)
    slurm = ["--executor", "slurm", "-device", "cuda", "--partition", "gpu", "--gpus", 1, "--time", "1-00:00:00",
             "--cpus", 8, "--mem", "64G", "--account", "lab", "--sbatch", "constraint=a100"]
    first = run(_command(planned_dataset, out, *slurm, "--no-wait"), env)
    scripts = _scripts(state)
    assert len(scripts) == 2, first.stdout
    for script, width in zip(scripts, (16, 8)):
        text = script.read_text()
        for line in ("#SBATCH --partition=gpu", "#SBATCH --gpus-per-node=1", "#SBATCH --time=1440",
                     "#SBATCH --cpus-per-task=8", "#SBATCH --mem=64G", "#SBATCH --account=lab",
                     "#SBATCH --constraint=a100", f"export nnUNet_results={env['nnUNet_results']}",
                     f"export nnUNet_preprocessed={env['nnUNet_preprocessed']}", "export NNUNET_LUNET_EPOCHS=2",
                     "export NNUNET_LUNET_ITERATIONS=5", "export NNUNET_LUNET_VAL_TTA=0",
                     f"# {BIN}/nnUNetv2_train {planned_dataset.name} 3d_fullres_lunet{width} 0 -tr {TRAINER} "
                     f"-p {PLANS} -device cuda\n"):
            assert line in text, (line, text)
    with open(out / "compare.json") as f:
        jobs = json.load(f)["jobs"]
    assert sorted(e["job_id"] for e in jobs.values()) == ["1001", "1002"]
    assert first.stdout.count("  queued  ") == 2, first.stdout  # the table

    again = run(_command(planned_dataset, out, *slurm, "--no-wait"), env)
    assert len(_scripts(state)) == 2 and again.stdout.count("is queued, not submitted again") == 2, again.stdout

    (state / "state_1001").write_text("FAILED\n")  # only LUnet16's job ended: only it is submitted again
    third = run(_command(planned_dataset, out, *slurm, "--no-wait"), env)
    assert [s.name for s in _scripts(state)] == ["sbatch_1001.sh", "sbatch_1002.sh", "sbatch_1003.sh"], third.stdout
    assert "lunet16" in _scripts(state)[2].read_text() and "job 1002 is queued" in third.stdout, third.stdout

    for job_id in ("1003", "1002"):
        (state / f"state_{job_id}").write_text("RUNNING\n")
    waiting = subprocess.Popen([os.path.join(BIN, "nnunet-lunet")] + [str(a) for a in _command(
        planned_dataset, out, *slurm, "--poll-seconds", 0.2)[1:]], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in waiting.stdout:
        seen += "is running, not submitted again" in line
        if seen == 2:
            break
    for job_id in ("1003", "1002"):
        (state / f"state_{job_id}").write_text("FAILED\n")
    stdout, stderr = waiting.communicate(timeout=120)
    result = subprocess.CompletedProcess(waiting.args, waiting.returncode, stdout, stderr)
    assert_refused(result, "2 training job(s) did not finish", "job 1003", "job 1002",
                   os.path.join(str(out), "logs", f"{TRAINER}__{PLANS}__3d_fullres_lunet16__fold_0.log"),
                   os.path.join(str(out), "jobs", "1003_0_log.err"))
    assert len(_scripts(state)) == 3


def test_slurm_without_sbatch_and_jobs_without_submitit_are_refused(planned_dataset, tmp_path):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    bare = dict(env, PATH=f"{BIN}:/usr/bin:/bin")
    assert subprocess.run(["which", "sbatch"], env=bare, capture_output=True).returncode != 0
    result = run(_command(planned_dataset, out, "--executor", "slurm"), bare, check=False)
    assert_refused(result, "sbatch", "--executor lanes or --executor local")

    hidden = tmp_path / "hidden" / "submitit"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('submitit is not installed (hidden by the test)')\n")
    result = run(_command(planned_dataset, out, "--executor", "local"), dict(env, PYTHONPATH=str(hidden.parent)),
                 check=False)
    assert_refused(result, 'pip install "nnunet-lunet[slurm]"')
    assert not out.exists()


def _kill_job_when_training(process, fold: str):
    """Read compare's output; when LUnet8's job is submitted and its training has started, kill the job's process
    tree; returns compare's output lines."""
    lines, killed = [], False
    for line in process.stdout:
        lines.append(line)
        if not killed and line.startswith("[compare] submitted LUnet8 fold 0"):
            pid = int(line.split("; job ", 1)[1].split(",")[0])
            deadline = time.time() + 300
            while not os.path.isfile(os.path.join(fold, "debug.json")) and time.time() < deadline and \
                    process.poll() is None:
                time.sleep(0.2)
            time.sleep(2)  # mid-run
            for p in [pid] + _descendants(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            killed = True
    assert killed, "".join(lines)
    return lines


def test_local_jobs_train_two_rows_and_a_killed_job_continues_with_c(planned_dataset, tmp_path):
    env, out = _env(planned_dataset, tmp_path), tmp_path / "out"
    command = _command(planned_dataset, out, "--executor", "local", "--lanes", 2, "-device", "cpu",
                       "--poll-seconds", 0.5)
    lunet16, lunet8 = (_fold(env, planned_dataset, w, 0) for w in (16, 8))
    process = subprocess.Popen([os.path.join(BIN, command[0])] + [str(a) for a in command[1:]], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_job_when_training(process, lunet8)
    stderr = process.stderr.read()
    process.wait(timeout=600)
    log8 = os.path.join(str(out), "logs", f"{TRAINER}__{PLANS}__3d_fullres_lunet8__fold_0.log")
    assert process.returncode == 2 and "1 training job(s) did not finish" in stderr and log8 in stderr, stderr
    assert os.path.isfile(os.path.join(lunet16, "checkpoint_final.pth"))
    assert not os.path.exists(os.path.join(lunet8, "checkpoint_final.pth"))
    untouched = os.path.getmtime(os.path.join(lunet16, "checkpoint_final.pth"))

    second = run(command + ["--c"], env, timeout=900)
    assert "reusing LUnet16 fold 0" in second.stdout and "submitting it again" in second.stdout, second.stdout
    assert "[compare] submitted LUnet8 fold 0" in second.stdout and ", --c; job" in second.stdout, second.stdout
    with open(log8) as f:
        commands = [ln for ln in f if ln.startswith("$ ")]
    assert len(commands) == 2 and "--c" not in commands[0] and commands[1].rstrip().endswith("--c"), commands
    assert os.path.getmtime(os.path.join(lunet16, "checkpoint_final.pth")) == untouched
    with open(out / "benchmark" / "benchmark.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["model"], r["status"]) for r in rows) == [
        (f"{TRAINER}__{PLANS}__3d_fullres_lunet{w}", "ok") for w in (16, 8)]
    with open(out / "compare.json") as f:
        jobs = json.load(f)["jobs"]
    assert set(jobs) == {f"{TRAINER}__{PLANS}__3d_fullres_lunet{w}/fold_0" for w in (16, 8)}
    assert all(e["executor"] == "local" and e["job_id"].isdigit() for e in jobs.values())
    assert not os.listdir(os.path.join(env["nnUNet_results"], ".lanes"))  # every lock released


def test_a_lock_is_taken_over_only_when_its_owner_has_ended(tmp_path, monkeypatch):
    from nnunet_lunet.compare import locks

    env, state = _stand_in_slurm(tmp_path, dict(os.environ))
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("FAKE_SLURM", str(state))
    path = str(tmp_path / ".lanes" / "T__P__C__f0")
    job = locks.this_process("slurm", "1001")
    assert locks.take(path, job) and not locks.take(path, locks.this_process("lanes"))  # exclusive
    (state / "state_1001").write_text("RUNNING\n")
    assert not locks.take(path, locks.this_process("slurm", "1002")) and "slurm job 1001" in locks.holder(path)
    assert locks.take(path, locks.this_process("slurm", "1001"))  # a requeued job takes its own lock back
    (state / "state_1001").write_text("TIMEOUT\n")
    lane = locks.this_process("lanes")
    assert locks.holder(path) is None and locks.take(path, lane) and locks.read_owner(path) == lane

    gone = subprocess.Popen(["true"])
    gone.wait()
    os.unlink(path)
    assert locks.take(path, locks.Owner("lanes", str(gone.pid), locks.host(), gone.pid))
    assert locks.take(path, lane)  # its process is gone
    locks.release(path, lane)
    assert not os.path.exists(path)

    os.mkdir(path)  # a bash lane's lock folder: never taken
    assert not locks.take(path, lane) and "another kind" in locks.holder(path)
