"""nnU-Net's full validation of a pruning level's network, staged through ``safe_output``, and the final validation
that reuses the last level's.

Rules:

- ``validate_into(folder)`` runs nnU-Net's own ``perform_actual_validation`` (deep supervision off, all DDP ranks)
  with the output folder set to a staging folder beside ``<fold>/<folder>`` (``safe_output.new_staging_folder``);
  the result replaces ``<fold>/<folder>`` in one step (``safe_output.replace_folder``), with ``summary.json``'s
  prediction paths rewritten to the new place. An interrupted validation leaves the old folder (or none) and a
  hidden staging folder that the next validation of the level removes (``safe_output.recover``).
- The last level ends with training, so its network is the final one: nnU-Net's final validation that
  ``nnUNetv2_train`` runs next copies the level's validation into ``validation/`` rather than predicting the same
  cases again, unless the network changed (``load_checkpoint``: ``--val_best``, ``--val`` in a later call) or
  probabilities are wanted (``--npz``).
"""

import os
import shutil
from typing import Optional, Union

import torch.distributed as dist
from batchgenerators.utilities.file_and_folder_operations import load_json, save_json

from nnunet_lunet.safe_output import MARKER, finish_staging, new_staging_folder, recover, replace_folder

COMMAND = "level-validation"  # the marker's command: what recover and replace may touch beside a level's folder


class LevelValidation:
    """Mixin of ``GradualPruning`` (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._final_validation: Optional[str] = None  # the last level's validation folder, while it is the network's

    def load_checkpoint(self, filename_or_checkpoint: Union[dict, str]) -> None:
        super().load_checkpoint(filename_or_checkpoint)
        self._final_validation = None  # another network (e.g. --val_best): nnU-Net's validation runs for real

    def perform_actual_validation(self, save_probabilities: bool = False):
        """nnU-Net's final validation, or, right after the last level was validated on the same network, a copy of
        that validation (see the module docstring)."""
        level_folder, self._final_validation = self._final_validation, None
        if level_folder is None or save_probabilities:
            return super().perform_actual_validation(save_probabilities)
        self.print_to_log_file(f"final validation: the network is the last level's, validated into {level_folder}; "
                               f"copying it to validation/ rather than predicting the cases again")
        if self.local_rank == 0:
            target = os.path.join(self.output_folder, "validation")
            recover(target, COMMAND)
            staging = new_staging_folder(target, COMMAND)
            shutil.copytree(os.path.join(self.output_folder, level_folder), staging, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(MARKER))
            summary = _move_summary_paths(os.path.join(staging, "summary.json"),
                                          os.path.join(self.output_folder, level_folder), target)
            finish_staging(staging, COMMAND)
            replace_folder(staging, target)
            for label in summary["mean"]:  # what nnU-Net's validation reports, as it reports it
                self.logger.log_summary(f"final_val/class_{label}_dice", summary["mean"][label]["Dice"])
            self.logger.log_summary("final_val/foreground_dice", summary["foreground_mean"]["Dice"])
            self.print_to_log_file("Mean Validation Dice: ", summary["foreground_mean"]["Dice"],
                                   also_print_to_console=True)
        if self.is_ddp:
            dist.barrier()

    def validate_into(self, folder: str) -> Optional[float]:
        """nnU-Net's full validation of the current network into ``<fold>/<folder>``; returns its foreground mean
        Dice (None on ranks other than 0)."""
        target = os.path.join(self.output_folder, folder)
        staging = None
        if self.local_rank == 0:
            recover(target, COMMAND)  # ours: left by a run interrupted while validating this level
            staging = new_staging_folder(target, COMMAND)
        if self.is_ddp:
            objects = [staging]
            dist.broadcast_object_list(objects, src=0)
            staging = objects[0]
            dist.barrier()
        output_folder, self.output_folder = self.output_folder, staging
        try:
            self.perform_actual_validation(False)
        finally:
            self.output_folder = output_folder
            self.set_deep_supervision_enabled(self.enable_deep_supervision)  # nnU-Net turns it on, whatever it was
        if self.local_rank != 0:
            return None
        written = os.path.join(staging, "validation")  # nnU-Net validates into <output folder>/validation
        summary = _move_summary_paths(os.path.join(written, "summary.json"), written, target)
        for name in os.listdir(written):
            os.rename(os.path.join(written, name), os.path.join(staging, name))
        os.rmdir(written)
        finish_staging(staging, COMMAND)
        replace_folder(staging, target)
        return float(summary["foreground_mean"]["Dice"])


def _move_summary_paths(summary_file: str, old: str, new: str) -> dict:
    """Rewrite the prediction paths of nnU-Net's validation ``summary.json`` from folder ``old`` to ``new``;
    returns the summary."""
    summary = load_json(summary_file)
    for case in summary["metric_per_case"]:
        case["prediction_file"] = os.path.join(new, os.path.relpath(case["prediction_file"], old))
    save_json(summary, summary_file, sort_keys=True)  # as nnU-Net's save_summary_json
    return summary
