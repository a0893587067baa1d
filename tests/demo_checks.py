"""``check_demo``: run ``nnunet-lunet demo --dataset`` on the session's generated dataset and check what it wrote
(every model trained and benchmarked with status ok at batch 2, the equal-size network at LUnet16's size, STAMP
smaller than the network it started as, the plots). Shared by ``test_demo.py`` and ``test_demo_resenc.py``."""

import csv
import os

from cli_runner import run
from nnunet_lunet.demo import DEMO_MODELS, DEMO_SUFFIX


def check_demo(planned_dataset, plans: str, configuration: str, tmp_path) -> None:
    """Run the demo from ``plans`` in ``configuration`` on the session's dataset and check its benchmark."""
    demo_plans = plans + DEMO_SUFFIX
    result = run(["nnunet-lunet", "demo", "--dataset", planned_dataset.dataset_id, "--workdir", tmp_path / "demo",
                  "-p", plans, "-c", configuration, "--epochs", 2, "--iterations", 5, "--val-iterations", 2,
                  "--repeats", 1, "--overwrite"], planned_dataset.env, timeout=1500)
    assert "[demo] done" in result.stdout
    folder = os.path.join(planned_dataset.results, f"lunet_benchmark_{configuration}")
    with open(os.path.join(folder, "benchmark.csv")) as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    expected = {f"{m.trainer}__{demo_plans}__{configuration}{m.configuration_suffix}" for m in DEMO_MODELS}
    assert set(rows) == expected
    assert all(r["status"] == "ok" for r in rows.values()), {m: r["status"] for m, r in rows.items()}
    reference = rows[f"nnUNetTrainerLeanRecipe_smoke__{demo_plans}__{configuration}"]
    matched = rows[f"nnUNetTrainerLeanRecipe_smoke__{demo_plans}__{configuration}_scaled_as_lunet16"]
    lunet16 = rows[f"nnUNetTrainerLUnet16_smoke__{demo_plans}__{configuration}"]
    assert all(r["batch_size"] == "2" for r in rows.values())
    stamp = rows[f"nnUNetTrainerSTAMP_smoke__{demo_plans}__{configuration}"]
    assert int(stamp["parameters"]) < int(reference["parameters"])  # pruned: smaller than the network it started as
    # The equal-size baseline really is LUnet16's size, and both are far smaller than the reference.
    assert abs(int(matched["parameters"]) - int(lunet16["parameters"])) < 0.1 * int(lunet16["parameters"])
    assert int(reference["parameters"]) > 10 * int(lunet16["parameters"])
    for plot in ("dice_vs_params.png", "latency_vs_dice.png"):
        with open(os.path.join(folder, plot), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
