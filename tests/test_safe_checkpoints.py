"""Every trainer the package ships reads checkpoints with ``weights_only=True`` (``trainers.safe_checkpoints``).

A checkpoint whose pickle runs code (it creates a witness file) is refused by ``nnUNetv2_train ... --c`` and ``--val``
with one ``error:`` line, and the witness never appears; a genuine checkpoint still validates (resuming genuine
checkpoints: ``test_pruning_resume`` for the pruning trainers, ``test_compare`` for the LUnet rows it continues).
"""

import os

import pytest
import torch

import nnunet_lunet.trainers as shipped
from cli_runner import assert_refused, run
from nnunet_lunet.trainers.safe_checkpoints import REFUSED_EXIT_CODE, SafeCheckpoints
from shared_runs import private_copy

LUNET16 = "nnUNetTrainerLUnet16_smoke"


class _Payload:
    """Unpickling it runs ``touch <path>``: what a checkpoint from someone else could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def _plant(checkpoint_file, witness) -> None:
    torch.save({"network_weights": {}, "init_args": _Payload(witness), "current_epoch": 2}, checkpoint_file)


def test_the_payload_really_runs_when_unpickled_unsafely(tmp_path):
    """The planted file is a real threat: nnU-Net's own loading (weights_only=False) runs it."""
    witness = tmp_path / "ran"
    _plant(tmp_path / "checkpoint.pth", witness)
    torch.load(tmp_path / "checkpoint.pth", weights_only=False)
    assert witness.exists()


@pytest.mark.parametrize("name", shipped.__all__)
def test_every_shipped_trainer_refuses_a_payload_before_it_runs(name, tmp_path):
    """In process, for all trainers of ``__all__``: ``load_checkpoint`` ends the process with exit code 2."""
    cls = getattr(shipped, name)
    assert issubclass(cls, SafeCheckpoints), name
    witness = tmp_path / "ran"
    _plant(tmp_path / "checkpoint_final.pth", witness)
    trainer = cls.__new__(cls)  # load_checkpoint reads the file before it builds anything
    trainer.device = torch.device("cpu")
    with pytest.raises(SystemExit) as stopped:
        trainer.load_checkpoint(str(tmp_path / "checkpoint_final.pth"))
    assert stopped.value.code == REFUSED_EXIT_CODE and not witness.exists(), name


@pytest.mark.parametrize("trainer", [LUNET16, "nnUNetTrainerLeanRecipe_smoke", "nnUNetTrainerSTAMP_smoke"])
@pytest.mark.parametrize("flag", ["--c", "--val"])
def test_nnunet_train_refuses_a_planted_checkpoint(trainer, flag, planned_dataset, tmp_path):
    """The console script, as a user runs it on a results folder from someone else."""
    results = tmp_path / "results"
    fold = results / planned_dataset.name / f"{trainer}__nnUNetPlans__3d_fullres" / "fold_0"
    fold.mkdir(parents=True)
    witness = tmp_path / "payload_ran"
    _plant(fold / "checkpoint_final.pth", witness)
    result = run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", trainer, "-device", "cpu",
                  flag], dict(planned_dataset.env, nnUNet_results=str(results)), check=False)
    assert_refused(result, "checkpoint_final.pth", "nothing in it was run")
    assert not witness.exists()


def test_a_genuine_checkpoint_still_validates(planned_dataset, train, tmp_path):
    results, fold = private_copy(train("3d_fullres", LUNET16), planned_dataset.name, tmp_path)
    run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", LUNET16, "-device", "cpu", "--val"],
        dict(planned_dataset.env, nnUNet_results=results, NNUNET_LUNET_VAL_TTA="0"))
    assert os.path.isfile(os.path.join(fold, "validation", "summary.json"))
