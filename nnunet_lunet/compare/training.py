"""Training a comparison's jobs with nnU-Net's console script, in one or more lanes.

Rules:

- Each job is ``nnUNetv2_train <dataset> <configuration> <fold> -tr <trainer> -p <plans> -device <device>``, with
  ``--c`` when the job was interrupted before, and the budget in the environment (``runs.Budget.env``); its output
  goes to ``<logs>/<model>__fold_N.log`` (appended, so an interrupted run's output stays).
- Before continuing, checkpoints that do not load are renamed ``*.unloadable`` (``runs.set_aside_unloadable``), so
  that nnU-Net continues from one that does, or starts the run over when none does (it says so in the log).
- ``lanes`` jobs run at once; with more than one lane each training gets one torch thread (``NNUNET_LUNET_THREADS``,
  unless set): on a shared CPU one thread per run is several times faster than threads waiting for each other.
- A job is taken by creating its lock (``locks``: the file ``$nnUNet_results/.lanes/<model>__f<fold>``, created
  exclusively, owner ``lanes`` and this process; the bash lanes of ``benchmarks/hippocampus/paper`` held folders of
  the same names, which are never taken); a lock whose owner has ended is taken over; a job locked by another
  running process or job (or by anything else) is left to it and reported at the end. The lock is removed when the
  job ends. ``--executor slurm|local`` jobs take the same locks (``cluster``).
- A failed job does not stop the others; ``train_jobs`` raises one LUnetError naming the failed jobs and their logs
  at the end. ``[compare] training ... (pid N)`` is printed when a job starts.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from nnunet_lunet.compare import locks
from nnunet_lunet.compare.runs import Budget, Job, set_aside_unloadable, state
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import lock_name, log_name


@dataclass(frozen=True)
class TrainOptions:
    dataset: str
    budget: Budget
    device: str
    lanes: int
    logs: str
    disable_tta: bool
    rerun_hint: str = "run the same command again with --c"


def script(name: str) -> str:
    """A console script from this interpreter's bin folder (the installed nnU-Net and nnunet-lunet)."""
    return os.path.join(os.path.dirname(sys.executable), name)


def train_command(job: Job, options: TrainOptions, resume: bool) -> List[str]:
    return ([script("nnUNetv2_train"), options.dataset, job.configuration, str(job.fold), "-tr", job.trainer, "-p",
             job.plans, "-device", options.device] + (["--c"] if resume else []))


def train_environment(options: TrainOptions) -> Dict[str, str]:
    env = dict(os.environ, **options.budget.env())
    env.setdefault("nnUNet_def_n_proc", "2")
    env.setdefault("nnUNet_n_proc_DA", "2")
    env["NNUNET_LUNET_VAL_TTA"] = "0" if options.disable_tta else "1"
    if options.lanes > 1:
        env.setdefault("NNUNET_LUNET_THREADS", "1")
    return env


def log_path(job: Job, options: TrainOptions) -> str:
    return os.path.join(options.logs, log_name(job.trainer, job.plans, job.configuration, job.fold))


def _start(job: Job, options: TrainOptions, env: Dict[str, str]) -> Tuple[subprocess.Popen, object]:
    resume = state(job) == "interrupted"
    if resume:
        renamed = set_aside_unloadable(job.folder)
        if renamed:
            print(f"[compare] {job.name}: {', '.join(renamed)} did not load, renamed *.unloadable", flush=True)
    command = train_command(job, options, resume)
    log = open(log_path(job, options), "a")
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"[compare] {'continuing' if resume else 'training'} {job.name}: {job.model} "
          f"({options.budget.describe()}{', --c' if resume else ''}; pid {process.pid})", flush=True)
    return process, log


def lock_path(job: Job) -> str:
    results = os.path.dirname(os.path.dirname(os.path.dirname(job.folder)))
    return os.path.join(results, ".lanes", lock_name(job.trainer, job.plans, job.configuration, job.fold))


def train_jobs(jobs: Sequence[Job], options: TrainOptions) -> None:
    """Train ``jobs`` (module rules); LUnetError at the end if any failed or is locked by another process."""
    os.makedirs(options.logs, exist_ok=True)
    env = train_environment(options)
    pending, running, failed, locked = list(jobs), [], [], []
    owner = locks.this_process("lanes")
    while pending or running:
        while pending and len(running) < options.lanes:
            job = pending.pop(0)
            if not locks.take(lock_path(job), owner):
                locked.append(job)
                print(f"[compare] {job.name} is being trained by {locks.holder(lock_path(job))}: left to it",
                      flush=True)
                continue
            running.append((job,) + _start(job, options, env))
        time.sleep(0.5)
        for entry in list(running):
            job, process, log = entry
            if process.poll() is None:
                continue
            running.remove(entry)
            log.close()
            locks.release(lock_path(job), owner)
            if process.returncode == 0 and state(job) == "finished":
                print(f"[compare] finished {job.name}", flush=True)
            else:
                failed.append((job, process.returncode))
                print(f"[compare] {job.name} failed (exit {process.returncode}); see {log_path(job, options)}",
                      file=sys.stderr, flush=True)
    if failed:
        names = "; ".join(f"{j.name} (exit {code}, log {log_path(j, options)})" for j, code in failed)
        raise LUnetError(f"{len(failed)} training(s) did not finish: {names}. Fix the cause and {options.rerun_hint}: "
                         f"finished runs are kept, interrupted ones continue")
    if locked:
        raise LUnetError(f"{len(locked)} run(s) are being trained by another process, e.g. {locked[0].folder} (lock "
                         f"{lock_path(locked[0])}): run the same command again when it has finished; if nothing trains "
                         f"it, remove that lock")
