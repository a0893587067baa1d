"""The record of a pruning run: ``pruning_log.json`` (and a flat ``pruning_log.csv``) in the fold's output folder.

Format (JSON)::

    {"criterion": "stamp", "schedule": {...}, "original_widths": {layer widths},
     "original_channels": int, "original_parameters": int,
     "steps": [{"step": 1, "epoch": 5, "iteration": 0, "removed": 12, "removed_channels": {layer name: [indices removed]},
                "seconds": wall time of the step (scoring + choice + surgery), "layer_widths": {...},
                "encoder_stage_widths": [mean conv width per encoder stage],
                "decoder_stage_widths": [mean conv width per decoder stage],
                "channels": int, "parameters": int, "asked": channels the schedule asked for (the layers' limits may
                                                           allow fewer),
                "pseudo_dice": mean foreground pseudo-Dice of the epoch trained right after the step (null until then)},
               ...],
     "levels": [{"level": 0.75, "epoch": 9, "step": 10, "layer_widths": {...}, "encoder_stage_widths": [...],
                 "decoder_stage_widths": [...], "channels": int, "parameters": int,
                 "pseudo_dice": mean foreground pseudo-Dice of the last epoch trained at the level,
                 "validation_dice": nnU-Net's foreground mean Dice over the fold's validation cases (null on ranks
                                    other than 0),
                 "checkpoint": "checkpoint_level75.pth", "validation": "validation_level75",
                 "reached": bool, "guard": "ok", "stopped" or "short"},
                ...],
     "guard": [{"epoch": 13, "iteration": 15, "pseudo_dice": float, "reference": float, "threshold": float,
                "action": "retry" or "stop", "back_to_step": int, "undone_steps": [step entries]}, ...]}

Step ``n`` is the network after ``n`` pruning steps; ``export-pruned --step n`` rebuilds it from ``layer_widths``.
``iteration`` is the training iteration of ``epoch`` before which the step ran (0: at the epoch's start).
``levels`` (gradual schedules only, ``schedule.GradualSchedule``): the network when training at a level ended, after
``epoch`` epochs and ``step`` steps; its checkpoint and nnU-Net validation folder (``summary.json``) are in the fold
folder; ``export-pruned --level 0.75`` rebuilds it.
``superseded_levels``: level entries of an earlier attempt that a run continued with ``--c`` from an older checkpoint
recorded again (their validation folders now hold the new attempt's; the entries keep the old numbers).
``guard`` (gradual schedules with the validation guard, ``trainers.gradual_pruning``): every failed check; ``steps``
then hold only the network's steps (a rolled-back step is in its event's ``undone_steps``). A level with
``reached: false`` has no checkpoint, validation or Dice (null).
``removed_channels`` are indices into the layer as it was just before the step (JSON only; the CSV has ``seconds``).
``pruning_seconds`` sums the steps' ``seconds``: the pruning overhead of the run.
"""

import csv
import json
import os
from typing import List, Mapping, Optional, Sequence

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.pruning.layer_widths import LayerWidths, count_channels, decision_size, encoder_stage_convs
from nnunet_lunet.safe_output import atomic_file, write_json

LOG_JSON = "pruning_log.json"
LOG_CSV = "pruning_log.csv"


def stage_means(widths: LayerWidths) -> dict:
    """Mean conv width per encoder and per decoder stage (the paper's Fig. 3b plots these over pruning steps; a
    residual stage's convs are its blocks' two convs, ``layer_widths.encoder_stage_convs``)."""
    return {"encoder_stage_widths": [sum(s) / len(s) for s in encoder_stage_convs(widths)],
            "decoder_stage_widths": [sum(s) / len(s) for s in widths["decoder"]]}


def new_log(criterion: str, schedule: dict, original_widths: LayerWidths, original_parameters: int) -> dict:
    return {"criterion": criterion, "schedule": schedule, "original_widths": original_widths,
            "original_channels": count_channels(original_widths), "original_parameters": original_parameters,
            **stage_means(original_widths), "steps": [], "levels": []}


def step_record(step: int, epoch: int, decision: Mapping[str, Sequence[int]], widths: LayerWidths, parameters: int,
                seconds: float, iteration: int = 0) -> dict:
    """The log entry of pruning step ``step``: ``decision`` removed, leaving ``widths``, in ``seconds``."""
    return {"step": step, "epoch": epoch, "iteration": iteration, "removed": decision_size(decision),
            "removed_channels": {name: sorted(int(i) for i in idxs) for name, idxs in decision.items() if idxs},
            "seconds": seconds, "layer_widths": widths, **stage_means(widths), "channels": count_channels(widths),
            "parameters": parameters, "pseudo_dice": None}


def level_record(level: float, epoch: int, step: int, widths: LayerWidths, parameters: int,
                 pseudo_dice: Optional[float], validation_dice: Optional[float], checkpoint: str,
                 validation: str) -> dict:
    """The log entry of a level whose training ended after ``epoch`` epochs and ``step`` pruning steps."""
    return {"level": level, "epoch": epoch, "step": step, "layer_widths": widths, **stage_means(widths),
            "channels": count_channels(widths), "parameters": parameters, "pseudo_dice": pseudo_dice,
            "validation_dice": validation_dice, "checkpoint": checkpoint, "validation": validation}


def pruning_seconds(log: dict) -> float:
    """Wall time of all the run's pruning steps (0 before the first; logs written before steps were timed count 0)."""
    return float(sum(s.get("seconds") or 0.0 for s in log["steps"]))


def write_log(folder: str, log: dict) -> None:
    """Write the JSON and the CSV view (one row per step, per-stage widths as columns), each atomically
    (``safe_output``): a failed or interrupted write leaves the previous file and no temporary."""
    n_enc, n_dec = len(log["encoder_stage_widths"]), len(log["decoder_stage_widths"])
    header = (["step", "epoch", "removed", "seconds", "channels", "parameters", "pseudo_dice"]
              + [f"encoder_stage{s}" for s in range(n_enc)] + [f"decoder_stage{d}" for d in range(n_dec)])
    rows = [[0, "", 0, "", log["original_channels"], log["original_parameters"], ""]
            + log["encoder_stage_widths"] + log["decoder_stage_widths"]]
    rows += [[s["step"], s["epoch"], s["removed"], s.get("seconds", ""), s["channels"], s["parameters"],
              s["pseudo_dice"]]
             + s["encoder_stage_widths"] + s["decoder_stage_widths"] for s in log["steps"]]
    write_json(os.path.join(folder, LOG_JSON), log, indent=1)
    with atomic_file(os.path.join(folder, LOG_CSV), "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)


def read_log(folder: str) -> Optional[dict]:
    """The log in ``folder``, or None if there is none."""
    path = os.path.join(folder, LOG_JSON)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def widths_at_step(log: dict, step: Optional[int], where: str) -> LayerWidths:
    """Layer widths after ``step`` pruning steps (None: the last); LUnetError if the run never pruned or no such step."""
    steps: List[dict] = log["steps"]
    if not steps:
        raise LUnetError(f"{where} never pruned (its {LOG_JSON} has no step yet): train longer than the warm-up, "
                         f"or export a run that pruned")
    if step is None:
        return steps[-1]["layer_widths"]
    for record in steps:
        if record["step"] == step:
            return record["layer_widths"]
    raise LUnetError(f"{where} has no pruning step {step}: available steps are 1..{steps[-1]['step']}")


def widths_at_level(log: dict, level: float, where: str) -> LayerWidths:
    """Layer widths the run recorded at ``level`` (a fraction, e.g. 0.5); LUnetError if it recorded no such level."""
    levels = log.get("levels") or []
    for record in levels:
        if abs(record["level"] - level) < 1e-9:
            return record["layer_widths"]
    if not levels:
        raise LUnetError(f"{where} recorded no pruning level (a run of a gradual schedule, e.g. -tr "
                         f"nnUNetTrainerSTAMP_budget, records them): export a step with --step instead")
    available = ", ".join(f"{r['level']:g}" for r in levels)
    raise LUnetError(f"{where} has no pruning level {level:g}: its levels are {available}")
