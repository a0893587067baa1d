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
- Pruning levels: ``fold_N/validation_levelNN/summary.json`` (nnU-Net's evaluation of the network with NN% of its
  channels left, written by the pruning trainers when they pass that level); the level's parameters are those of the
  first pruning step in ``pruning_log.json`` with at most NN% (+0.5 points) of the original channels left. A pruning
  run's final share of channels left is its last step's channels over the original ones.
- Missing files raise ``MissingRecord`` with a message saying what to run.
"""

import json
import os
import re
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional

from nnunet_lunet.checkpoints import load_checkpoint
from nnunet_lunet.pruning.pruning_log import pruning_seconds, read_log


LEVEL_FOLDER = re.compile(r"validation_level(\d+)")
LEVEL_TOLERANCE = 0.5  # percentage points: a step that leaves 75.4% of the channels counts as level 75


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


@dataclass(frozen=True)
class Level:
    """A pruning run's network at ``level`` % of its channels: the validation Dice there and its parameters."""

    level: int
    dice: Dice
    parameters: Optional[int]


def level_step(log: Optional[dict], level: int) -> Optional[dict]:
    """The first step of a pruning log with at most ``level`` % (+ ``LEVEL_TOLERANCE``) of the channels left."""
    if not log or not log.get("original_channels"):
        return None
    for step in log.get("steps", []):
        if 100 * step["channels"] / log["original_channels"] <= level + LEVEL_TOLERANCE:
            return step
    return None


def channels_left_percent(log: Optional[dict]) -> Optional[float]:
    """% of the original channels left after a pruning log's last step (100 before any step); None without a log."""
    if not log or not log.get("original_channels"):
        return None
    steps = log.get("steps", [])
    return 100.0 * (steps[-1]["channels"] if steps else log["original_channels"]) / log["original_channels"]


def read_levels(fold_folder: str, log: Optional[dict]) -> List[Level]:
    """The fold's ``validation_levelNN`` evaluations, highest level (least pruned) first."""
    if not os.path.isdir(fold_folder):
        return []
    levels = []
    for entry in os.listdir(fold_folder):
        match = LEVEL_FOLDER.fullmatch(entry)
        summary = os.path.join(fold_folder, entry, "summary.json")
        if match and os.path.isfile(summary):
            step = level_step(log, int(match[1]))
            levels.append(Level(int(match[1]), read_dice(summary), step["parameters"] if step else None))
    return sorted(levels, key=lambda lv: -lv.level)


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
