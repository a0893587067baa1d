"""The README's main job, ``nnunet-lunet demo``, end to end on the session's dataset with the smoke budget.

``--dataset`` mode on the session's planned dataset, with the smoke budget the other tests train with, so the
models are trained once for the whole session (here or by the other tests, whichever runs first).
"""

import os

from cli_runner import run


def test_demo_trains_and_benchmarks_every_model(planned_dataset, tmp_path):
    result = run(["nnunet-lunet", "demo", "--dataset", planned_dataset.dataset_id, "--workdir", tmp_path / "demo",
                  "--epochs", 2, "--iterations", 5, "--val-iterations", 2, "--repeats", 1, "--overwrite"],
                 planned_dataset.env, timeout=1200)
    assert "[demo] done" in result.stdout
    folder = os.path.join(planned_dataset.results, "lunet_benchmark_3d_fullres")
    with open(os.path.join(folder, "benchmark.md")) as f:
        table = f.read()
    for trainer in ("nnUNetTrainer_smoke", "nnUNetTrainerLUnet_smoke", "nnUNetTrainerLUnet16_smoke",
                    "nnUNetTrainerLUnet8_smoke", "nnUNetTrainerSTAMP_smoke"):
        assert trainer in table
    assert "3d_fullres_scaled25" in table
    for plot in ("dice_vs_params.png", "latency_vs_dice.png"):
        with open(os.path.join(folder, plot), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_demo_rejects_a_zero_budget(planned_dataset, tmp_path):
    result = run(["nnunet-lunet", "demo", "--workdir", tmp_path, "--epochs", 0], planned_dataset.env, check=False)
    assert result.returncode == 2 and "--epochs must be at least 1" in result.stderr
    assert os.listdir(tmp_path) == []
