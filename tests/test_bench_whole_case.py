"""benchmarks/bench_runtimes.py --case: the whole-case timing of each runtime on a multi-tile volume (a preprocessed
case repeated along every axis), at each tile size, with its forward passes, the time per pass and the part that is
not forward passes split from the same runs, and the efficiency columns."""

import csv
import os

from cli_runner import run

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "bench_runtimes.py")


def _bench(planned_dataset, *extra, check: bool = True):
    # 2 networks x 2 runtimes x 27 tiles of the default network: minutes on a busy 2-core machine
    return run(["python", SCRIPT, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                "-c", "3d_fullres", "--widths", 8, "--scales", "--threads", 1, "--repeats", 1, "--warmup", 0, *extra],
               planned_dataset.env, check=check, timeout=1800)


def test_a_whole_case_is_timed_per_runtime_and_tile_with_times_that_add_up(planned_dataset, tmp_path):
    out = tmp_path / "case.csv"
    result = _bench(planned_dataset, "--runtimes", "torch_eager", "ort_all", "openvino", "--case", "largest",
                    "--case-repeat", 2, "--tile-sizes", "1x", "2x", "--csv", out)
    assert "whole case: largest validation case of fold 0: preprocessed case " in result.stdout
    assert "tiled 2x per axis" in result.stdout and "no mirroring" in result.stdout
    # how each runtime was configured is in the header
    assert "ONNX Runtime graph optimisation all (ort_all), 1 intra-op threads" in result.stdout
    assert "OpenVINO PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS 1" in result.stdout
    with open(out) as f:
        rows = list(csv.DictReader(f))
    tiles = list(dict.fromkeys(r["tile"] for r in rows))
    assert len(tiles) == 2 and [int(a) for a in tiles[1].split("x")] == [2 * int(a) for a in tiles[0].split("x")]
    assert [(r["network"], r["runtime"], r["tile"]) for r in rows] == [
        (n, rt, t) for n in ("default", "lunet8") for t in tiles for rt in ("torch_eager", "ort_all", "openvino")]
    passes = {t: {int(r["passes"]) for r in rows if r["tile"] == t} for t in tiles}
    assert passes[tiles[0]] == {max(passes[tiles[0]])} and max(passes[tiles[0]]) >= 8  # two tiles per axis or more
    assert passes[tiles[1]] == {1}  # the doubled tile covers the doubled case
    macs = {}
    for r in rows:
        case, per_pass, non_forward = (float(r[k]) for k in ("case s", "per pass ms", "non-forward s"))
        # per pass and non-forward split each case run: non-forward is never negative, and the medians add up to
        # the case within the runs' spread
        assert 0 <= float(r["non-forward min s"]) <= non_forward <= float(r["non-forward max s"]), r
        assert float(r["per pass min ms"]) <= per_pass <= float(r["per pass max ms"]), r
        low = float(r["per pass min ms"]) * int(r["passes"]) / 1e3 + float(r["non-forward min s"])
        high = float(r["per pass max ms"]) * int(r["passes"]) / 1e3 + float(r["non-forward max s"])
        rounding = 1e-9 * case
        assert low - rounding <= float(r["case min s"]) <= case <= float(r["case max s"]) <= high + rounding, r
        macs.setdefault((r["network"], r["tile"]), []).append(float(r["GMAC/s"]) * per_pass / 1e3)
    # GMAC/s x time per pass: the same MACs of one pass per network and tile under every runtime
    assert all(max(m) / min(m) - 1 < 1e-6 for m in macs.values()), macs
    macs = {key: m[0] for key, m in macs.items()}
    for r in rows:
        default = next(d for d in rows if d["network"] == "default" and d["runtime"] == r["runtime"]
                       and d["tile"] == r["tile"])
        speed_up = float(default["per pass ms"]) / float(r["per pass ms"])
        assert abs(float(r["x default same runtime"]) - speed_up) < 1e-6 * speed_up
        assert abs(float(r["efficiency vs default"]) - speed_up / float(r["MACs ratio"])) < 1e-6 * speed_up
    for t in tiles:
        ratio = macs[("default", t)] / macs[("lunet8", t)]
        assert abs(float(next(r for r in rows if r["network"] == "lunet8" and r["tile"] == t)["MACs ratio"]) /
                   ratio - 1) < 1e-3
    assert float(rows[0]["case x default eager"]) == 1.0 and float(rows[0]["efficiency vs default"]) == 1.0


def test_a_tile_larger_than_the_case_is_one_error_line(planned_dataset):
    result = _bench(planned_dataset, "--runtimes", "torch_eager", "--case", "largest", "--tile-sizes", "2x",
                    check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: --tile-size ")
    assert "larger than a case's preprocessed image" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unknown_case_is_one_error_line(planned_dataset, tmp_path):
    result = _bench(planned_dataset, "--runtimes", "torch_eager", "--case", "no_such_case", check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: --case no_such_case")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_profile_layers_times_every_layer_with_its_kernel(planned_dataset, tmp_path):
    """benchmarks/profile_layers.py on LUnet8 of the generated plans in float32: every executed node with its kernel,
    the shares of one pass adding up to 1, and the convolutions matched to the ONNX graph's MACs."""
    script = os.path.join(os.path.dirname(SCRIPT), "profile_layers.py")
    out = tmp_path / "layers.csv"
    result = run(["python", script, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                  "-c", "3d_fullres", "--widths", 8, "--scales", "--no-default", "--precisions", "f32", "--threads", 1,
                  "--repeats", 2, "--warmup", 1, "--csv", out], planned_dataset.env, timeout=600)
    assert "1 threads, dynamic shapes, median of 2 profiled inferences" in result.stdout
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert {(r["network"], r["precision"]) for r in rows} == {("lunet8", "f32")}
    assert abs(sum(float(r["share"]) for r in rows) - 1) < 1e-6
    assert all(r["kernel"] and float(r["median ms"]) >= 0 for r in rows)
    convolutions = [r for r in rows if r["type"] == "Convolution"]
    # LUnet8 of a 4-stage plan: 2 convolutions per encoder stage and 2 per decoder stage, and the 1x1 output layer
    assert len(convolutions) >= 14
    matched = [r for r in convolutions if r["MACs"]]
    assert len(matched) >= 14 and all(float(r["GMAC/s"]) > 0 and float(r["MACs / element"]) > 0 for r in matched)
