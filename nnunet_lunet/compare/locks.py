"""One lock per run, so that no two processes or jobs ever train the same run, on one machine or a cluster's shared
filesystem.

Rules:

- The lock of a run is the file ``$nnUNet_results/.lanes/<model>__f<fold>`` (``run_names.lock_name``), created
  exclusively (``O_CREAT | O_EXCL``, atomic on local and NFS filesystems), holding its owner as one JSON line:
  ``executor`` (``lanes``, ``local`` or ``slurm``), ``job_id`` (the process id of a lane or local job, the SLURM
  job id), ``host`` and ``pid``.
- A lock is stale only when its owner is known to have ended: a SLURM job the scheduler reports as ended, a process
  on this host that no longer runs (``job_states``). Never by the file's age. A lock of another form (the bash lanes'
  lock folders, an unreadable file) or an owner whose state is unknown (another host's process, a scheduler that
  cannot be asked) is never taken.
- A SLURM job requeued after its time limit or a preemption keeps its job id: it takes its own lock back.
- Taking a stale lock over renames it aside, checks that the renamed file is the stale one (not a lock created in
  between, which is put back) and creates the lock again exclusively.
"""

import json
import os
import uuid
from dataclasses import asdict, dataclass
from typing import Optional

from nnunet_lunet.compare.job_states import classify, host, local_process_state, slurm_states

MARKERS = {"lanes": "nnunet-lunet", "local": "submitit"}  # what a live owner's command line names


@dataclass(frozen=True)
class Owner:
    executor: str
    job_id: str
    host: str
    pid: int

    def describe(self) -> str:
        return f"{self.executor} job {self.job_id} on {self.host}"


def this_process(executor: str, job_id: Optional[str] = None) -> Owner:
    return Owner(executor, str(job_id or os.getpid()), host(), os.getpid())


def read_owner(path: str) -> Optional[Owner]:
    """The owner written in a lock file; None for a lock of another form."""
    try:
        with open(path) as f:
            data = json.loads(f.read())
        return Owner(str(data["executor"]), str(data["job_id"]), str(data["host"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def owner_ended(owner: Owner) -> bool:
    """Whether the owner is known to have ended (module rules)."""
    if owner.executor == "slurm":
        return classify(slurm_states([owner.job_id]).get(owner.job_id, "")) in ("finished", "failed")
    marker = MARKERS.get(owner.executor)
    return marker is not None and local_process_state(int(owner.job_id), owner.host, marker) == "ended"


def _create(path: str, owner: Owner) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(asdict(owner)) + "\n")
    return True


def _take_over(path: str, stale: Owner) -> bool:
    aside = f"{path}.stale-{uuid.uuid4().hex}"
    try:
        os.rename(path, aside)
    except OSError:
        return False
    if read_owner(aside) != stale:  # another taker's fresh lock: put it back
        try:
            os.link(aside, path)
        except OSError:
            pass
        os.unlink(aside)
        return False
    os.unlink(aside)
    return True


def take(path: str, owner: Owner) -> bool:
    """Whether ``owner`` now holds the lock at ``path`` (module rules)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if _create(path, owner):
        return True
    held = read_owner(path)
    if held is None:
        return False
    mine = held.executor == owner.executor and held.job_id == owner.job_id and held.host == owner.host \
        if owner.executor != "slurm" else held.executor == "slurm" and held.job_id == owner.job_id
    if not mine and not owner_ended(held):
        return False
    return _take_over(path, held) and _create(path, owner)


def holder(path: str) -> Optional[str]:
    """Who holds the lock at ``path`` in words, when someone (or something) does and has not ended; else None."""
    if not os.path.lexists(path):
        return None
    held = read_owner(path)
    if held is None:
        return f"a lock of another kind ({path})"
    return None if owner_ended(held) else held.describe()


def release(path: str, owner: Owner) -> None:
    """Remove the lock if ``owner`` holds it."""
    if read_owner(path) == owner:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
