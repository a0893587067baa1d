"""Submitting a wave of trainings as jobs (``cluster``), remembering them in ``OUT/compare.json``, and waiting for
them.

Rules:

- Every submitted job is recorded at once under ``jobs`` in ``OUT/compare.json`` (key ``<model>/fold_N``: executor,
  job id, host, the training log and the job's own output files), so that a later call knows it.
- A run is never submitted twice: a finished run is not submitted; a run whose recorded job is queued or running
  is left to that job; a run locked by anything else that has not ended (a lane, another comparison's job) is left
  to it. A run whose recorded job ended without finishing it is submitted again (it continues with ``--c``).
- A recorded job's state: SLURM's (``job_states.slurm_states``); a local job's from its result file (submitit's
  ``<id>_0_result.pkl``: success or error) or else its process (``job_states.local_process_state``). A job
  SLURM calls completed whose run is not finished on disk counts as failed.
- ``--no-wait``: submit, print one table of every run's state (queued, running, finished, failed, with its log) and
  return; otherwise wait (polling every ``poll_seconds``), printing each change, and raise one LUnetError naming
  every failed job's log at the end. The local executor runs at most ``lanes`` jobs at once.
"""

import json
import os
import pickle
import time
from typing import Dict, List, Optional, Sequence

from nnunet_lunet.compare import cluster as clusters
from nnunet_lunet.compare import locks
from nnunet_lunet.compare.job_states import classify, host, local_process_state, slurm_states
from nnunet_lunet.compare.runs import Job, state
from nnunet_lunet.compare.training import TrainOptions, lock_path, log_path
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import run_path
from nnunet_lunet.safe_output import write_json

ACTIVE = ("queued", "running")
UNKNOWN_GRACE_SECONDS = 600  # a job just submitted may be unknown to sacct and squeue for a moment


def job_key(job: Job) -> str:
    return run_path(job.trainer, job.plans, job.configuration, job.fold)


class JobRecords:
    """The ``jobs`` of ``compare.json`` (module rules)."""

    def __init__(self, record_path: str, jobs_folder: str):
        self.path, self.folder = record_path, jobs_folder

    def read(self) -> Dict[str, dict]:
        try:
            with open(self.path) as f:
                return dict(json.load(f).get("jobs", {}))
        except (OSError, ValueError, AttributeError):
            return {}

    def add(self, job: Job, executor: str, job_id: str, options: TrainOptions, slot: int) -> dict:
        out, err = clusters.output_paths(self.folder, job_id)
        entry = {"executor": executor, "job_id": str(job_id), "host": host(), "log": log_path(job, options),
                 "output": out, "errors": err, "slot": slot, "submitted": time.strftime("%Y-%m-%dT%H:%M:%S")}
        with open(self.path) as f:
            record = json.load(f)
        record.setdefault("jobs", {})[job_key(job)] = entry
        write_json(self.path, record)
        return entry


def _local_state(entry: dict) -> str:
    result = entry["output"].replace("_log.out", "_result.pkl")
    if os.path.isfile(result):
        try:
            with open(result, "rb") as f:
                outcome = pickle.load(f)[0]
        except Exception:  # noqa: BLE001 - a result that cannot be read is no success
            outcome = "error"
        return "finished" if outcome == "success" else "failed"
    alive = local_process_state(int(entry["job_id"]), entry["host"], "submitit")
    return {"running": "running", "ended": "failed"}.get(alive, "unknown")


def job_state(job: Job, entry: Optional[dict], slurm: Dict[str, str]) -> str:
    """``finished`` (on disk), ``queued``, ``running``, ``failed`` or ``unknown`` (a recorded job's), ``new``/
    ``interrupted`` (none recorded)."""
    on_disk = state(job)
    if on_disk == "finished":
        return "finished"
    if entry is None:
        return on_disk
    found = classify(slurm.get(entry["job_id"], "")) if entry["executor"] == "slurm" else _local_state(entry)
    return "failed" if found == "finished" else found


def _states(jobs: Sequence[Job], records: Dict[str, dict]) -> Dict[str, str]:
    ids = [e["job_id"] for e in records.values() if e.get("executor") == "slurm"]
    slurm = slurm_states(ids) if ids else {}
    return {job_key(j): job_state(j, records.get(job_key(j)), slurm) for j in jobs}


def print_table(jobs: Sequence[Job], records: Dict[str, dict], states: Dict[str, str]) -> None:
    rows = [("run", "state", "job", "log")]
    for job in jobs:
        entry = records.get(job_key(job), {})
        log = entry.get("errors") if states[job_key(job)] == "failed" else entry.get("log")
        rows.append((job.name, states[job_key(job)], entry.get("job_id", "-"), log or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3], flush=True)


def run_wave(jobs: Sequence[Job], options: TrainOptions, cluster: clusters.ClusterOptions, records: JobRecords,
             device: str) -> bool:
    """Submit and (unless ``--no-wait``) wait for ``jobs`` (module rules); True when every run is finished."""
    known = records.read()
    states = _states(jobs, known)
    todo: List[Job] = []
    locked: List[Job] = []
    for job in jobs:
        key, entry = job_key(job), known.get(job_key(job))
        if states[key] == "finished":
            print(f"[compare] reusing {job.name}: {job.folder}", flush=True)
        elif states[key] in ACTIVE:
            print(f"[compare] {job.name}: job {entry['job_id']} is {states[key]}, not submitted again", flush=True)
        elif states[key] == "unknown":
            print(f"[compare] {job.name}: the state of job {entry['job_id']} is unknown (neither sacct nor squeue "
                  f"know it), so it is not submitted again; if it no longer runs, remove its entry from the jobs "
                  f"of {records.path}", flush=True)
        elif locks.holder(lock_path(job)):
            locked.append(job)
            print(f"[compare] {job.name} is being trained by {locks.holder(lock_path(job))}: left to it", flush=True)
        else:
            if entry is not None:
                print(f"[compare] {job.name}: job {entry['job_id']} ended without finishing it (see "
                      f"{entry['log']}): submitting it again", flush=True)
            todo.append(job)
    os.makedirs(options.logs, exist_ok=True)
    executor = clusters.make_executor(cluster, records.folder, device) if todo else None
    limit = options.lanes if cluster.executor == "local" else len(jobs)  # SLURM queues them all
    failed: List[Job] = []
    submitted_at: Dict[str, float] = {}
    while True:
        known = records.read()
        states = _states(jobs, known)
        waiting = lambda j: states[job_key(j)] in ACTIVE or (  # noqa: E731
            states[job_key(j)] == "unknown" and time.time() - submitted_at.get(job_key(j), 0) < UNKNOWN_GRACE_SECONDS)
        active = [j for j in jobs if waiting(j) and job_key(j) in known]
        while todo and len(active) < limit:
            job = todo.pop(0)
            slots = {known[job_key(j)].get("slot") for j in active}
            slot = min(s for s in range(limit + 1) if s not in slots)
            resume = state(job) == "interrupted"
            submitted = clusters.submit(executor, cluster, job, options, slot)
            entry = records.add(job, cluster.executor, submitted.job_id, options, slot)
            submitted_at[job_key(job)] = time.time()
            print(f"[compare] submitted {job.name}: {job.model} ({options.budget.describe()}"
                  f"{', --c' if resume else ''}; job {submitted.job_id}, log {entry['log']})", flush=True)
            active.append(job)
            known = records.read()
        if cluster.no_wait or not (todo or active):
            break
        time.sleep(cluster.poll_seconds)
        new = _states(jobs, records.read())
        for job in jobs:
            before, after = states[job_key(job)], new[job_key(job)]
            if after != before and before in ACTIVE:
                print(f"[compare] {job.name}: {after}", flush=True)
                if after == "failed":
                    failed.append(job)
    known = records.read()
    states = _states(jobs, known)
    if cluster.no_wait:
        print_table(jobs, known, states)
    failed += [j for j in jobs if states[job_key(j)] == "failed" and j not in failed + locked and not cluster.no_wait]
    if failed:
        names = "; ".join(f"{j.name} (job {known[job_key(j)]['job_id']}, log {known[job_key(j)]['log']}, job "
                          f"output {known[job_key(j)]['errors']})" for j in failed)
        raise LUnetError(f"{len(failed)} training job(s) did not finish: {names}. Fix the cause and "
                         f"{options.rerun_hint}: finished runs are kept, interrupted ones continue")
    if locked:
        raise LUnetError(f"{len(locked)} run(s) are being trained by another process, e.g. {locked[0].folder} (lock "
                         f"{lock_path(locked[0])}): run the same command again when it has finished")
    return all(states[job_key(j)] == "finished" for j in jobs)
