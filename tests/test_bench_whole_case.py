"""benchmarks/bench_runtimes.py --case: the whole-case timing of each runtime on a multi-tile volume (a preprocessed
case repeated along every axis), with its forward passes, time per pass and the part that is not forward passes."""

import csv
import os

from cli_runner import run

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "bench_runtimes.py")


def _bench(planned_dataset, *extra, check: bool = True):
    # 2 networks x 2 runtimes x 27 tiles of the default network: minutes on a busy 2-core machine
    return run(["python", SCRIPT, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                "-c", "3d_fullres", "--widths", 8, "--scales", "--threads", 1, "--repeats", 1, "--warmup", 0, *extra],
               planned_dataset.env, check=check, timeout=1800)


def test_a_whole_case_is_timed_per_runtime_with_its_tiles_and_overhead(planned_dataset, tmp_path):
    out = tmp_path / "case.csv"
    result = _bench(planned_dataset, "--runtimes", "torch_eager", "ort_basic", "--case", "largest", "--case-repeat",
                    2, "--csv", out)
    assert "whole case: largest validation case of fold 0: preprocessed case " in result.stdout
    assert "tiled 2x per axis" in result.stdout and "no mirroring" in result.stdout
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [(r["network"], r["runtime"]) for r in rows] == [(n, rt) for n in ("default", "lunet8")
                                                            for rt in ("torch_eager", "ort_basic")]
    passes = int(rows[0]["passes"])
    assert passes >= 8 and all(int(r["passes"]) == passes for r in rows)  # at least two tiles per axis
    for r in rows:
        case, patch = float(r["case s"]), float(r["median ms"]) / 1e3
        assert abs(float(r["per pass ms"]) - case / passes * 1e3) < 1e-6 * case * 1e3
        assert abs(float(r["non-forward s"]) - (case - passes * patch)) < 1e-6 * max(case, 1)
    assert float(rows[0]["case x default eager"]) == 1.0


def test_an_unknown_case_is_one_error_line(planned_dataset, tmp_path):
    result = _bench(planned_dataset, "--runtimes", "torch_eager", "--case", "no_such_case", check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: --case no_such_case")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
