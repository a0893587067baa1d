"""What training left on disk: Dice from nnU-Net's ``summary.json`` and epoch times from the checkpoint's log.

Rules:

- Dice: ``summary.json`` as nnU-Net's evaluation writes it (``fold_N/validation/summary.json`` after training):
  ``mean[<label or region>]['Dice']`` per class, ``foreground_mean['Dice']`` for the mean. Keys stay nnU-Net's
  (``'1'``, ``'(1, 2)'``).
- Epoch time: median of ``epoch_end_timestamps[i] - epoch_start_timestamps[i]`` over the epochs in the checkpoint's
  ``logging`` entry (nnU-Net's ``LocalLogger``), i.e. training plus validation per epoch, without the final
  validation; the number of epochs and their sum (the run's training wall time) come along.
- Pruning overhead: the sum of the pruning steps' ``seconds`` in the fold's ``pruning_log.json`` and its share of the
  training wall time (the pruning trainers prune inside the epoch, so the epochs' sum includes it); None without a
  pruning log.
- Missing files raise ``MissingRecord`` with a message saying what to run.
"""

import json
import os
import statistics
from dataclasses import dataclass
from typing import Dict, Optional

from nnunet_lunet.checkpoints import load_checkpoint
from nnunet_lunet.pruning.pruning_log import pruning_seconds, read_log


class MissingRecord(Exception):
    """A file a benchmark row needs is not there; the message is the row's failure reason."""


@dataclass(frozen=True)
class Dice:
    mean: float
    per_class: Dict[str, float]


@dataclass(frozen=True)
class EpochTimes:
    epochs: int
    median_s: Optional[float]
    total_s: Optional[float] = None


@dataclass(frozen=True)
class PruningOverhead:
    seconds: float
    share: Optional[float]  # of the training wall time; None if that is unknown


def read_dice(summary_file: str) -> Dice:
    """Per-class and foreground-mean Dice of an nnU-Net ``summary.json``."""
    if not os.path.isfile(summary_file):
        raise MissingRecord(f"no {summary_file}")
    with open(summary_file) as f:
        summary = json.load(f)
    return Dice(float(summary["foreground_mean"]["Dice"]),
                {str(k): float(v["Dice"]) for k, v in summary["mean"].items()})


def read_validation_dice(fold_folder: str) -> Dice:
    """Dice of nnU-Net's final validation of a fold."""
    path = os.path.join(fold_folder, "validation", "summary.json")
    if not os.path.isfile(path):
        raise MissingRecord(f"no validation/summary.json in {os.path.basename(fold_folder)} (training unfinished? "
                            f"run nnUNetv2_train ... --val)")
    return read_dice(path)


def epoch_times(logging: dict) -> EpochTimes:
    """Epoch count and median epoch wall time (s) of a checkpoint's ``logging`` dict."""
    starts = logging.get("epoch_start_timestamps", [])
    ends = logging.get("epoch_end_timestamps", [])
    durations = [e - s for s, e in zip(starts, ends)]
    if not durations:
        return EpochTimes(0, None, None)
    return EpochTimes(len(durations), statistics.median(durations), sum(durations))


def pruning_overhead(fold_folder: str, times: EpochTimes) -> Optional[PruningOverhead]:
    """The fold's pruning time and its share of ``times.total_s``; None if the fold has no pruning log."""
    log = read_log(fold_folder)
    if log is None:
        return None
    seconds = pruning_seconds(log)
    return PruningOverhead(seconds, seconds / times.total_s if times.total_s else None)


def read_epoch_times(checkpoint_file: str) -> EpochTimes:
    """``epoch_times`` of a checkpoint file (memory-mapped: the weights are not read)."""
    if not os.path.isfile(checkpoint_file):
        raise MissingRecord(f"no {checkpoint_file}")
    checkpoint = load_checkpoint(checkpoint_file, mmap=True)
    return epoch_times(checkpoint.get("logging", {}))
