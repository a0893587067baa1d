"""``compare --executor slurm|local``: each (row, fold) training is a job submitted through submitit (the ``slurm``
extra), on a SLURM cluster (``SlurmExecutor``) or on this machine (``LocalExecutor``, the same code path).

Rules:

- ``check_executor`` runs before anything is written: submitit must import (else one error naming the extra) and,
  for ``slurm``, ``sbatch`` must be on PATH (else one error naming ``--executor lanes`` or ``local``).
- A job runs ``TrainRun``: it takes the run's lock (``locks``; owner: its job id and host), trains with the same
  ``nnUNetv2_train`` command as a lane (``training.train_command``; ``--c`` when the folder holds an interrupted run;
  ``-num_gpus N`` with ``--num-gpus``), appends to the same log, and fails unless the run is finished. At its time
  limit or a preemption submitit requeues it (``Checkpointable``) and the requeued job continues with ``--c``.
- The job's environment: the variables of ``job_variables`` (nnU-Net's folders and settings, the budget, the
  package's ``NNUNET_LUNET_*``), set by the job itself and, on SLURM, also exported in the sbatch script's setup
  lines, with a comment line holding the ``nnUNetv2_train`` command.
- ``SLURM options``: partition, GPUs, CPUs and memory per job, time limit, account, QoS, and any ``--sbatch
  KEY=VALUE`` (an ``#SBATCH --KEY=VALUE`` line). The local executor runs at most ``--lanes`` jobs at once (job slot k
  sees GPU k with ``-device cuda``).
"""

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

from nnunet_lunet.compare import locks
from nnunet_lunet.compare.runs import Job, set_aside_unloadable, state
from nnunet_lunet.compare.training import TrainOptions, log_path, lock_path, train_command, train_environment
from nnunet_lunet.errors import LUnetError

EXECUTORS = ("lanes", "slurm", "local")
EXTRA = 'pip install "nnunet-lunet[slurm]"'
MAX_REQUEUES = 100  # each requeue continues with --c; a full-budget run may need many time limits
LOCAL_TIMEOUT_MIN = 60 * 24 * 30  # the local executor's own time limit: none worth having


@dataclass(frozen=True)
class ClusterOptions:
    executor: str = "lanes"
    partition: Optional[str] = None
    gpus: int = 1  # per job (SLURM); nnUNetv2_train uses -num_gpus when num_gpus > 1
    num_gpus: int = 1
    cpus: Optional[int] = None
    mem: Optional[str] = None  # e.g. 64G
    time: Optional[str] = None  # minutes, or D-HH:MM:SS
    account: Optional[str] = None
    qos: Optional[str] = None
    sbatch: Sequence[str] = field(default_factory=tuple)  # KEY=VALUE
    no_wait: bool = False
    poll_seconds: float = 30.0


def check_executor(cluster: ClusterOptions) -> None:
    """LUnetError unless the executor can be used here (module rules). Reads only."""
    if cluster.executor == "lanes":
        return
    try:
        import submitit  # noqa: F401
    except ImportError:
        raise LUnetError(f"--executor {cluster.executor} submits jobs through submitit, which is not installed: "
                         f"{EXTRA}, or use --executor lanes") from None
    missing = [c for c in ("sbatch", "srun") if cluster.executor == "slurm" and shutil.which(c) is None]
    if missing:
        raise LUnetError(f"--executor slurm needs SLURM's {' and '.join(missing)}, not on PATH here: run on the "
                         f"cluster's login node, or train on this machine with --executor lanes or --executor local")
    bad = [line for line in cluster.sbatch if "=" not in line or line.startswith("-")]
    if bad:
        raise LUnetError(f"--sbatch {bad[0]}: give KEY=VALUE without dashes, e.g. --sbatch constraint=a100")
    if cluster.num_gpus < 1 or cluster.gpus < 0:
        raise LUnetError("--num-gpus must be at least 1 and --gpus at least 0")
    if cluster.time is not None:
        time_minutes(cluster.time)


def time_minutes(text: str) -> int:
    """SLURM's time formats (``MM``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``) in whole minutes (at least 1), as submitit
    wants them; LUnetError for anything else."""
    days, _, clock = text.rpartition("-") if "-" in text else ("0", "", text)
    parts = clock.split(":")
    if not (days.isdigit() and 1 <= len(parts) <= 3 and all(p.isdigit() for p in parts)):
        raise LUnetError(f"--time {text}: give minutes or D-HH:MM:SS, e.g. --time 1440 or --time 1-00:00:00")
    numbers = [int(p) for p in parts]
    if "-" in text:  # D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, seconds = (numbers + [0, 0])[:3]
    elif len(numbers) == 3:  # HH:MM:SS
        hours, minutes, seconds = numbers
    else:  # MM, MM:SS
        hours, minutes, seconds = 0, numbers[0], (numbers + [0])[1]
    return max(1, int(days) * 1440 + hours * 60 + minutes + (1 if seconds else 0))


def job_variables(options: TrainOptions) -> Dict[str, str]:
    """The environment a job's training needs (module rules)."""
    env = train_environment(options)
    return {k: v for k, v in sorted(env.items()) if k.startswith(("nnUNet_", "NNUNET_LUNET_"))}


class TrainRun:
    """One job's work (module rules); its ``checkpoint`` method makes submitit requeue it at a time limit or a
    preemption instead of losing it."""

    def __init__(self, job: Job, options: TrainOptions, variables: Dict[str, str], executor: str, num_gpus: int):
        self.job, self.options, self.variables = job, options, variables
        self.executor, self.num_gpus = executor, num_gpus

    def command(self, resume: bool):
        extra = ["-num_gpus", str(self.num_gpus)] if self.num_gpus > 1 else []
        return train_command(self.job, self.options, resume) + extra

    def __call__(self) -> str:
        import submitit
        owner = locks.this_process(self.executor, submitit.JobEnvironment().job_id)
        if state(self.job) == "finished":  # trained meanwhile (by a lane, or an earlier attempt of this job)
            return self.job.folder
        path = lock_path(self.job)
        if not locks.take(path, owner):
            raise RuntimeError(f"{self.job.folder} is being trained by {locks.holder(path)}: this job leaves it")
        try:
            resume = state(self.job) == "interrupted"
            renamed = set_aside_unloadable(self.job.folder) if resume else []
            command = self.command(resume)
            os.makedirs(self.options.logs, exist_ok=True)
            with open(log_path(self.job, self.options), "a") as log:
                if renamed:
                    log.write(f"[compare] {', '.join(renamed)} did not load, renamed *.unloadable\n")
                log.write(f"$ {shlex.join(command)}\n")
                log.flush()
                code = subprocess.call(command, env=dict(os.environ, **self.variables), stdout=log,
                                       stderr=subprocess.STDOUT)
            if code != 0 or state(self.job) != "finished":
                raise RuntimeError(f"nnUNetv2_train exited {code}; see {log_path(self.job, self.options)}")
        finally:
            locks.release(path, owner)
        return self.job.folder

    def checkpoint(self, *args, **kwargs):
        """Requeued as it is: the next attempt finds the interrupted run and continues it with --c."""
        from submitit.helpers import DelayedSubmission
        return DelayedSubmission(self, *args, **kwargs)


def make_executor(cluster: ClusterOptions, folder: str, device: str):
    """The submitit executor of ``cluster.executor``, its log folder ``folder``."""
    import submitit
    if cluster.executor == "local":
        executor = submitit.LocalExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
        executor.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN,
                                   gpus_per_node=cluster.num_gpus if device == "cuda" else 0)
        return executor
    executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=MAX_REQUEUES)
    parameters = {"partition": cluster.partition, "cpus_per_task": cluster.cpus, "mem": cluster.mem,
                  "time": time_minutes(cluster.time) if cluster.time else None, "account": cluster.account,
                  "qos": cluster.qos,
                  "gpus_per_node": cluster.gpus or None, "ntasks_per_node": 1}
    executor.update_parameters(**{k: v for k, v in parameters.items() if v is not None},
                               additional_parameters=dict(line.split("=", 1) for line in cluster.sbatch))
    return executor


def submit(executor, cluster: ClusterOptions, job: Job, options: TrainOptions, slot: int = 0):
    """Submit one job; returns submitit's job."""
    variables = job_variables(options)
    run = TrainRun(job, options, variables, cluster.executor, cluster.num_gpus)
    if cluster.executor == "slurm":
        resume = state(job) == "interrupted"
        setup = [f"# {shlex.join(run.command(resume))}"] + [f"export {k}={shlex.quote(v)}"
                                                             for k, v in variables.items()]
        executor.update_parameters(job_name=f"lunet_{job.row.key}_f{job.fold}", setup=setup)
    elif options.device == "cuda":
        executor.update_parameters(visible_gpus=tuple(range(slot * cluster.num_gpus,
                                                            (slot + 1) * cluster.num_gpus)))
    return executor.submit(run)


def output_paths(folder: str, job_id: str) -> Tuple[str, str]:
    """The job's own stdout and stderr (submitit's), beside the training log."""
    from submitit.core.utils import JobPaths
    paths = JobPaths(folder, job_id=job_id, task_id=0)
    return str(paths.stdout), str(paths.stderr)
