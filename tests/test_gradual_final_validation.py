"""``GradualPruning``: the last level's network is the final one, so it is validated once. Its validation goes to
``validation_level25/``; nnU-Net's final validation (``nnUNetv2_train`` calls ``perform_actual_validation`` after
training) then copies it to ``validation/`` instead of predicting the cases again, unless the network changed
(``--val_best`` loads another checkpoint) or probabilities are wanted (``--npz``).

In-process, with nnU-Net's trainer replaced by a stand-in whose validation writes what nnU-Net's writes (a
prediction and ``summary.json``) and counts its runs; the end-to-end run is in ``test_e2e_gradual_pruning.py``.
"""

import json
import os

import pytest


class _NnUNetTrainer:
    """nnU-Net's trainer as far as recording levels and validating go."""

    is_ddp = False
    local_rank = 0
    enable_deep_supervision = True
    current_epoch = 7
    folder = ""  # set by the test

    def __init__(self, plans, configuration, fold, dataset_json, device):
        self.output_folder = self.folder
        self.validations = 0
        self.logger = type("Logger", (), {"log_summary": lambda self, key, value: None})()

    def perform_actual_validation(self, save_probabilities: bool = False):
        self.validations += 1
        out = os.path.join(self.output_folder, "validation")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "case_0.nii.gz"), "w") as f:
            f.write(f"prediction {self.validations}")
        summary = {"metric_per_case": [{"prediction_file": os.path.join(out, "case_0.nii.gz"),
                                        "reference_file": "gt/case_0.nii.gz", "metrics": {"1": {"Dice": 0.5}}}],
                   "mean": {"1": {"Dice": 0.5}}, "foreground_mean": {"Dice": 0.5}}
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f)

    def set_deep_supervision_enabled(self, enabled):
        pass

    def print_to_log_file(self, *args, **kwargs):
        pass

    def save_checkpoint(self, filename):
        pass

    def load_checkpoint(self, filename_or_checkpoint):
        pass


@pytest.fixture
def trainer(tmp_path, monkeypatch):
    import nnunet_lunet.trainers.gradual_pruning as pruning
    from nnunet_lunet.pruning.schedule import GradualSchedule

    for name, value in (("read_layer_widths", lambda net: {}), ("count_parameters", lambda net: 0),
                        ("write_log", lambda folder, log: None),
                        ("level_record", lambda level, epoch, *args: {"level": level, "epoch": epoch})):
        monkeypatch.setattr(pruning, name, value)

    class Trainer(pruning.GradualPruning, _NnUNetTrainer):
        folder = str(tmp_path)
        pruning_guard = False  # no network to measure

        def _plain_network(self):
            return None

        def _last_pseudo_dice(self):
            return 0.5

    t = Trainer(None, "2d", 0, None, None)
    t.pruning_schedule = GradualSchedule(7, 2, (0.75, 0.5, 0.25), 0.2, 0.5, 1)
    t.pruning_log = {"steps": [], "levels": [], "guard": [], "original_channels": 0}
    return t


def test_the_final_validation_is_the_last_levels_not_a_second_run(trainer, tmp_path):
    for level in (0.75, 0.5, 0.25):
        trainer.record_level(level)
    assert trainer.validations == 3
    trainer.perform_actual_validation(False)  # nnUNetv2_train's final validation, right after training
    assert trainer.validations == 3
    final, last = tmp_path / "validation", tmp_path / "validation_level25"
    assert (final / "case_0.nii.gz").read_text() == (last / "case_0.nii.gz").read_text() == "prediction 3"
    summary = json.loads((final / "summary.json").read_text())
    assert summary["metric_per_case"][0]["prediction_file"] == str(final / "case_0.nii.gz")
    assert json.loads((last / "summary.json").read_text())["metric_per_case"][0]["prediction_file"] == \
        str(last / "case_0.nii.gz")
    assert sorted(os.listdir(tmp_path)) == ["validation", "validation_level25", "validation_level50",
                                            "validation_level75"]


def test_the_final_validation_runs_for_another_network_or_for_probabilities(trainer):
    trainer.record_level(0.25)
    trainer.load_checkpoint("checkpoint_best.pth")  # --val_best
    trainer.perform_actual_validation(False)
    assert trainer.validations == 2
    trainer.record_level(0.25)
    trainer.perform_actual_validation(True)  # --npz: the level's validation wrote no probabilities
    assert trainer.validations == 4
