"""What state a training job is in, asked of whoever runs it: SLURM (``sacct``, else ``squeue``) or this machine
(a local process). Reads only; never judged from a file's age.

Rules:

- Four states: ``queued``, ``running``, ``finished`` (the job ended by itself), ``failed`` (it ended otherwise:
  failed, cancelled, timed out without a requeue, preempted, out of memory, lost node). ``unknown`` when the
  scheduler cannot be asked or does not know the job (accounting off and the job gone from the queue).
- SLURM states are mapped by ``classify``; a requeued job (``REQUEUED``, ``PENDING`` again) is ``queued``.
- A local job (``--executor local``, ``--lanes``) is its process id on a host: ``running`` while that process lives
  and is the one that was started (``/proc/<pid>/cmdline`` names ``marker``), else ``ended``; on another host the
  state is ``unknown``.
"""

import os
import socket
import subprocess
from typing import Dict, Iterable, Optional

QUEUED = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "RESV_DEL_HOLD", "SUSPENDED",
          "RESIZING", "STOPPED")
RUNNING = ("RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING")
FINISHED = ("COMPLETED",)


def classify(raw: str) -> str:
    """``queued``/``running``/``finished``/``failed`` for a SLURM state (``CANCELLED by 12`` counts as its first
    word); ``unknown`` for an empty one."""
    word = raw.split()[0].rstrip("+") if raw.strip() else ""
    if not word:
        return "unknown"
    if word in QUEUED:
        return "queued"
    if word in RUNNING:
        return "running"
    return "finished" if word in FINISHED else "failed"


def _run(command) -> Optional[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def slurm_states(job_ids: Iterable[str]) -> Dict[str, str]:
    """``{job id: raw SLURM state}`` of the jobs the scheduler knows (module rules)."""
    ids = sorted({str(i) for i in job_ids})
    if not ids:
        return {}
    states: Dict[str, str] = {}
    text = _run(["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", ",".join(ids)])
    for line in (text or "").splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 2 and parts[0] in ids:
            states[parts[0]] = parts[1]  # the last line of a job wins: its latest attempt
    missing = [i for i in ids if i not in states]
    if missing:
        text = _run(["squeue", "-h", "-o", "%i|%T", "-j", ",".join(missing)])
        for line in (text or "").splitlines():
            parts = line.strip().split("|")
            if len(parts) >= 2 and parts[0] in missing:
                states[parts[0]] = parts[1]
    return states


def host() -> str:
    return socket.gethostname()


def local_process_state(pid: int, on_host: str, marker: str) -> str:
    """``running``, ``ended`` or ``unknown`` for a local process (module rules)."""
    if on_host != host():
        return "unknown"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
        with open(f"/proc/{pid}/stat") as f:
            zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return "ended" if os.path.isdir("/proc/self") else _signal_zero(pid)
    return "running" if marker in command and not zombie else "ended"


def _signal_zero(pid: int) -> str:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "ended"
    except PermissionError:
        return "running"
    return "running"
