"""Peak memory of one inference patch and of one training step, measured in a fresh process.

Rules:

- Each (model, fold) is measured by ``python -m nnunet_lunet.benchmark.memory_probe`` in a fresh subprocess, so
  nothing the benchmark did before (other models, caches, allocator pools) counts. The probe prints one JSON line.
- CPU: resident set size. The probe imports torch, nnU-Net and the model's trainer, then records the RSS of that
  bare process (``after_imports``), rebuilds the network as the predictor does (``model_ready``), and measures
  each step's peak: on Linux it returns freed heap to the system (``malloc_trim``) and resets the kernel's peak
  counter (``/proc/self/clear_refs``, value 5) before the step and reads it back (``VmHWM``, the counter
  ``getrusage(RUSAGE_SELF).ru_maxrss`` reports; ru_maxrss itself cannot be reset, as it also keeps the peaks of
  exited threads), so loading the checkpoint and the inference step do not mask the training step's peak.
  Elsewhere it reads ``ru_maxrss``, cumulative, and the method says so. Each step runs once untimed before it is
  measured, so one-off allocations (thread pools, oneDNN caches; for training the gradients and SGD momentum) are
  in place and counted, as in a running prediction or training. Inference is measured before training (training
  changes the weights).
- CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; the baseline after imports is 0.
- ``delta`` = peak - baseline after imports: what the model and the step add to a bare nnU-Net process.
  All numbers are MiB.
- ``NNUNET_LUNET_BENCH_MEMORY=0`` leaves the memory columns empty (``memory_requested``): each probe is a fresh
  interpreter that imports torch and nnU-Net (about 10 CPU seconds per row). The test suite sets it where memory is
  not what a test checks; test_benchmark.py measures it.
"""

import json
import os
import subprocess
import sys
from typing import Dict, Optional

MIB = 1024 * 1024
MEMORY_VARIABLE = "NNUNET_LUNET_BENCH_MEMORY"


def memory_requested() -> bool:
    """False when ``NNUNET_LUNET_BENCH_MEMORY=0`` (module rules)."""
    return os.environ.get(MEMORY_VARIABLE, "1") != "0"


def _status_mib(field: str) -> Optional[float]:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB, or None where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def ru_maxrss_mib() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MiB (kilobytes on Linux, bytes on macOS)."""
    import resource
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / MIB if sys.platform == "darwin" else value / 1024


def current_rss_mib() -> float:
    """Current RSS after a garbage collection and ``malloc_trim`` (freed heap returned to the system); the
    cumulative peak where the current RSS cannot be read."""
    import gc
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    value = _status_mib("VmRSS")
    return value if value is not None else ru_maxrss_mib()


def reset_peak_rss() -> bool:
    """Trim the heap and reset the peak RSS to the current RSS (Linux >= 4.0); False where that is impossible."""
    current_rss_mib()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _status_mib("VmHWM") is not None


def peak_rss_mib(was_reset: bool) -> float:
    """Peak RSS since the last reset (``VmHWM``) if ``was_reset``, else ``ru_maxrss`` (cumulative)."""
    value = _status_mib("VmHWM") if was_reset else None
    return value if value is not None else ru_maxrss_mib()


def probe_command(model_folder: str, fold: str, checkpoint_name: str, device: str, threads: int) -> list:
    return [sys.executable, "-m", "nnunet_lunet.benchmark.memory_probe", model_folder, str(fold),
            "--checkpoint", checkpoint_name, "--device", device, "--threads", str(threads)]


def measure_memory(model_folder: str, fold: str, checkpoint_name: str, device: str, threads: int,
                   timeout: float = 1800) -> Dict[str, object]:
    """Run the probe for one model and fold; its JSON as a dict. RuntimeError with the probe's last error line if
    it fails (e.g. out of memory)."""
    result = subprocess.run(probe_command(model_folder, fold, checkpoint_name, device, threads),
                            capture_output=True, text=True, timeout=timeout)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = [line for line in result.stderr.strip().splitlines() if line.strip()][-1:] or ["no output"]
        raise RuntimeError(f"memory probe exited {result.returncode}: {tail[0]}")
    return json.loads(lines[-1])
