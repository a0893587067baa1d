"""``nnunet-lunet export-onnx`` and ``nnunet-lunet predict`` end to end on the session's smoke-trained models.

The LUnet16 model is exported once (module fixture); predict is compared with ``nnUNetv2_predict`` of the same
model and settings on the dataset's two test images. Refusals must exit 2 with one ``error:`` line and leave
nothing at ``-o``.
"""

import json
import os
import pickle

import numpy as np
import pytest

from cli_runner import assert_refused, run, sigint_as_a_shell_would
from nnunet_lunet.deploy.graph_runtimes import bf16_supported

LUNET16 = "nnUNetTrainerLUnet16_smoke"
STAMP = "nnUNetTrainerSTAMP_smoke"
FILES = ("model.onnx", "plans.json", "dataset.json", "export.json", os.path.join("fold_0", "checkpoint_final.pth"))


def _export(dataset, trainer: str, output, *extra, check: bool = True):
    return run(["nnunet-lunet", "export-onnx", "-d", dataset.dataset_id, "-c", "3d_fullres", "-tr", trainer, "-f", 0,
                "-o", output, *extra], dataset.env, check=check)


def _record(folder) -> dict:
    with open(os.path.join(folder, "export.json")) as f:
        return json.load(f)


def _record_plans(folder: str) -> dict:
    with open(os.path.join(folder, "plans.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def exported(planned_dataset, train, tmp_path_factory):
    """``(model folder, completed export process)`` of the smoke-trained LUnet16."""
    train("3d_fullres", LUNET16)
    folder = tmp_path_factory.mktemp("onnx") / "lunet16"
    return str(folder), _export(planned_dataset, LUNET16, folder)


def _torch_network(folder: str):
    """The exported folder's network in PyTorch, rebuilt from its reduced checkpoint as nnU-Net's predictor does."""
    import torch

    from nnunet_lunet.trained_run import load_predictor, trained_network
    return trained_network(load_predictor(folder, "0", "checkpoint_final.pth", torch.device("cpu")),
                           torch.device("cpu")).eval()


def test_export_writes_the_model_folder_with_parity(exported, planned_dataset):
    import onnx

    folder, result = exported
    for name in FILES:
        assert os.path.isfile(os.path.join(folder, name)), name
    assert not [n for n in os.listdir(os.path.dirname(folder)) if ".export-" in n]  # no staging folder left
    record = _record(folder)
    assert record["trainer"] == LUNET16 and record["configuration"] == "3d_fullres" and record["fold"] == "0"
    assert record["plans"] == "nnUNetPlans" and record["checkpoint"] == "checkpoint_final.pth"
    assert 0.0 <= record["parity_max_abs_diff"] < 1e-3 and record["parity_tolerance"] == 1e-3
    assert record["parity_relative_diff"] == record["parity_max_abs_diff"] / record["parity_logit_scale"]
    assert record["parity_max_probability_diff"] < 1e-3 and record["parity_argmax_differ_beyond_ties"] == 0
    assert record["parity_patch"].startswith("preprocessed case ")  # the fixture's data is preprocessed
    assert record["opset"] >= 17 and {"torch", "onnx", "onnxruntime"} <= set(record["versions"])
    assert record["inference_allowed_mirroring_axes"] == [0, 1, 2]
    assert f"{record['parity_max_abs_diff']:.3g}" in result.stdout
    with open(os.path.join(planned_dataset.results, f"{LUNET16}__nnUNetPlans__3d_fullres", "plans.json")) as f:
        assert _record_plans(folder) == json.load(f)
    graph = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.checker.check_model(graph)
    assert len(graph.graph.output) == 1  # no deep supervision: the full-resolution logits only
    dims = [d.dim_param for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims[0] and dims[2] and dims[3] and dims[4] and not dims[1]  # batch and spatial axes dynamic


def test_onnx_runtime_threads_do_not_spin(exported):
    # Spinning threads slowed whatever ran after a run (nnU-Net's sliding window, the next model timed) by 35-55 ms on
    # Hippocampus (benchmarks/hippocampus/ort_spinning.md).
    from nnunet_lunet.deploy.onnx_graph import ort_session

    session = ort_session(os.path.join(exported[0], "model.onnx"), threads=1)
    assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_graph_runs_at_another_spatial_size(exported):
    import torch

    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session

    folder, _ = exported
    record = _record(folder)
    size = [p + d for p, d in zip(record["patch_size"], record["spatial_divisor"])]
    x = np.random.default_rng(1).standard_normal((2, record["input_channels"], *size)).astype(np.float32)
    got = run_session(ort_session(os.path.join(folder, "model.onnx"), threads=1), x)
    with torch.no_grad():
        expected = _torch_network(folder)(torch.from_numpy(x)).numpy()
    assert got.shape == (2, record["output_channels"], *size)
    assert np.abs(got - expected).max() < 1e-3


def test_export_refuses_an_existing_output(exported, planned_dataset):
    folder, _ = exported
    before = os.path.getmtime(os.path.join(folder, "model.onnx"))
    assert_refused(_export(planned_dataset, LUNET16, folder, check=False), "already exists", "--overwrite")
    assert os.path.getmtime(os.path.join(folder, "model.onnx")) == before


@pytest.mark.parametrize("extra, phrases", [
    (["--checkpoint", "checkpoint_missing.pth"], ["no checkpoint_missing.pth", "--checkpoint"]),
    (["--parity-tolerance", "0"], ["parity check failed", "tolerance 0", "nothing was written"]),
], ids=["missing-checkpoint", "parity-failure"])
def test_export_refusals_leave_nothing(exported, planned_dataset, tmp_path, extra, phrases):
    out = tmp_path / "refused"
    assert_refused(_export(planned_dataset, LUNET16, out, *extra, check=False), *phrases)
    assert os.listdir(tmp_path) == []


def test_export_refuses_a_missing_run(planned_dataset, tmp_path):
    out = tmp_path / "refused"
    result = run(["nnunet-lunet", "export-onnx", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr", LUNET16,
                  "-f", 4, "-o", out], planned_dataset.env, check=False)
    assert_refused(result, "no training run", "fold_4")
    assert os.listdir(tmp_path) == []


def _probabilities(folder: str) -> dict:
    return {f[:-4]: np.load(os.path.join(folder, f))["probabilities"]
            for f in sorted(os.listdir(folder)) if f.endswith(".npz")}


def _segmentations(folder: str) -> dict:
    import SimpleITK as sitk
    return {f: sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(folder, f)))
            for f in sorted(os.listdir(folder)) if f.endswith(".nii.gz")}


def _resolved_by_float16(folder: str, shape) -> np.ndarray:
    """Where nnU-Net's sliding window keeps a voxel's logits to float16 precision: its Gaussian weight is a normal
    float16 number.

    nnU-Net multiplies each tile's logits by a Gaussian (sigma 1/8 of the patch, peak 10) and accumulates them in
    float16. Towards the tile's corners the weight falls below float16's smallest normal number (2**-14) and keeps
    only a few bits (nnU-Net floors it at the smallest subnormal, 6e-8): there two runs whose logits differ by 1e-5
    round to different multiples of the weight, and the recovered logits can differ by a whole unit (measured: up to
    0.115 in probability between OpenVINO and ONNX Runtime in a CI run; 18% of a tile is subnormal). Each test image
    is exactly one tile (32x40x32, the plan's patch: no padding, one window), so a voxel's weight is the Gaussian's
    value at the same position. The Gaussian is made with the arguments nnU-Net's predictor passes
    (``nnUNetPredictor.predict_sliding_window_return_logits``, nnunetv2 2.8: sigma_scale 1/8, value_scaling_factor 10).
    """
    import torch
    from nnunetv2.inference.sliding_window_prediction import compute_gaussian

    patch = _record_plans(folder)["configurations"]["3d_fullres"]["patch_size"]
    assert list(shape) == list(patch), f"expected each test image to be one tile of {patch}, got {list(shape)}"
    gaussian = compute_gaussian(tuple(patch), sigma_scale=1. / 8, value_scaling_factor=10, dtype=torch.float16,
                                device=torch.device("cpu"))
    return gaussian.float().numpy() >= 2. ** -14


def _assert_probabilities_match(got: np.ndarray, expected: np.ndarray, resolved: np.ndarray, case: str,
                                bulk: float = 1e-4) -> None:
    """99.9% of the values within ``bulk``, and every value within 1e-2 where nnU-Net's float16 accumulation keeps
    the logits' precision (``resolved``, see ``_resolved_by_float16``): the same computation up to float16 rounding.

    Where the weight is a normal float16, one rounding step moves a probability by ~1e-3 at most (measured over 3
    freshly trained models: max 7.3e-4 OpenVINO vs ONNX Runtime, 4.8e-4 torch vs ONNX Runtime, 2.8e-4 predict vs
    nnUNetv2_predict); in the subnormal corners a handful of values move by up to ~0.1.
    """
    assert got.shape == expected.shape, case
    diff = np.abs(got - expected)
    assert np.quantile(diff, 0.999) < bulk and diff.max(axis=0)[resolved].max() < 1e-2, (
        case, float(np.quantile(diff, 0.999)), float(diff.max(axis=0)[resolved].max()))


def _assert_segmentations_match(got: dict, expected: dict) -> None:
    """Identical, or Dice >= 0.999 per label (the issue's criterion); the expected segmentations must label some
    foreground, else two all-background results would pass without a label compared."""
    assert sorted(got) == sorted(expected) and len(got) == 2
    assert any((b > 0).any() for b in expected.values()), "the reference segmentations are all background"
    for name in got:
        a, b = got[name], expected[name]
        assert a.shape == b.shape, name
        for label in set(np.unique(a)) | set(np.unique(b)):
            if label == 0:
                continue
            dice = 2 * np.sum((a == label) & (b == label)) / (np.sum(a == label) + np.sum(b == label))
            assert dice >= 0.999, (name, label, dice)


def test_predict_matches_nnunetv2_predict(exported, planned_dataset, tmp_path):
    folder, _ = exported
    images = os.path.join(planned_dataset.raw, "imagesTs")
    reference, ours = tmp_path / "nnunet", tmp_path / "onnx"
    run(["nnUNetv2_predict", "-i", images, "-o", reference, "-d", planned_dataset.dataset_id, "-c", "3d_fullres",
         "-f", 0, "-tr", LUNET16, "-device", "cpu", "-npp", 1, "-nps", 1, "--save_probabilities"],
        planned_dataset.env)
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", ours, "-m", folder, "--save-probabilities",
                  "--processes", 1], planned_dataset.env)
    assert "predicted 2 case(s) with onnxruntime" in result.stdout

    expected, got = _probabilities(str(reference)), _probabilities(str(ours))
    assert sorted(got) == sorted(expected) == ["case_ts000", "case_ts001"]
    for case in expected:
        _assert_probabilities_match(got[case], expected[case], _resolved_by_float16(folder, got[case].shape[1:]),
                                    case)
        with open(os.path.join(ours, case + ".pkl"), "rb") as f:
            assert set(pickle.load(f)) >= {"spacing"}  # nnU-Net's properties file beside the probabilities
    _assert_segmentations_match(_segmentations(str(ours)), _segmentations(str(reference)))


def _predict_with(runtimes, folder: str, planned_dataset, tmp_path) -> dict:
    """``{runtime: probabilities by case}``: ``nnunet-lunet predict`` of the test images under each runtime, without
    mirroring, in the test's process (``--processes 0``: no worker processes to start;
    ``test_predict_matches_nnunetv2_predict`` runs predict's workers)."""
    images = os.path.join(planned_dataset.raw, "imagesTs")
    out = {}
    for name in runtimes:
        result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / name, "-m", folder, "--runtime", name,
                      "--disable-tta", "--save-probabilities", "--processes", 0], planned_dataset.env)
        assert f"predicted 2 case(s) with {name}" in result.stdout
        out[name] = _probabilities(str(tmp_path / name))
        assert sorted(out[name]) == ["case_ts000", "case_ts001"]
    return out


@pytest.mark.parametrize("runtime", ["torch", "openvino"])
def test_predict_other_runtimes_match_onnxruntime(runtime, exported, planned_dataset, tmp_path):
    """--runtime torch runs the folder's weights in PyTorch, --runtime openvino its graph in OpenVINO (installed with
    the test extra); without mirroring each agrees with ONNX Runtime."""
    folder, _ = exported
    probabilities = _predict_with(("onnxruntime", runtime), folder, planned_dataset, tmp_path)
    got, expected = probabilities[runtime], probabilities["onnxruntime"]
    # OpenVINO's convolution kernels sum in another order than ONNX Runtime's, so more voxels land one float16 step
    # apart in nnU-Net's accumulation (measured: 99.9th percentile 1.2e-4; the issue asks for 1e-3)
    bulk = 1e-3 if runtime == "openvino" else 1e-4
    for case in expected:
        _assert_probabilities_match(got[case], expected[case], _resolved_by_float16(folder, got[case].shape[1:]),
                                    case, bulk)
    _assert_segmentations_match(_segmentations(str(tmp_path / runtime)), _segmentations(str(tmp_path / "onnxruntime")))


@pytest.mark.skipif(not bf16_supported(), reason="this CPU has no native bfloat16 (OpenVINO reports no BF16)")
def test_predict_in_bfloat16_agrees_with_float32(exported, planned_dataset, tmp_path):
    """--runtime openvino-bf16 computes in bfloat16 (about 3 significant digits): 99% of its probabilities are within
    0.01 of ONNX Runtime's float32 ones, at most 1% of the voxels are labelled otherwise, and, where nnU-Net's
    float16 accumulation keeps the logits' precision, only where float32 was nearly undecided (top two probabilities
    within 0.1; measured over 3 freshly trained models: at most 0.014).

    In the tile's corners (here the image's: each test image is one tile) nnU-Net's Gaussian weight is a subnormal
    float16 that keeps few bits (``_resolved_by_float16``): there bf16's small logit errors moved probabilities by up
    to 0.24 (smoke model, trained 10 steps). For LUnet16 trained on
    Hippocampus 0.009% of the voxels were labelled otherwise (benchmarks/hippocampus/bf16_accuracy.md)."""
    folder, _ = exported
    probabilities = _predict_with(("onnxruntime", "openvino-bf16"), folder, planned_dataset, tmp_path)
    got, expected = probabilities["openvino-bf16"], probabilities["onnxruntime"]
    for case in expected:
        diff = np.abs(got[case] - expected[case])
        assert diff.max() > 0 and np.quantile(diff, 0.99) < 0.01, (case, float(np.quantile(diff, 0.99)))
        flipped = expected[case].argmax(axis=0) != got[case].argmax(axis=0)
        assert flipped.mean() <= 0.01, (case, float(flipped.mean()))
        second, first = np.sort(expected[case], axis=0)[-2:]
        resolved = _resolved_by_float16(folder, flipped.shape)
        margins = (first - second)[resolved & flipped]
        assert margins.size == 0 or margins.max() < 0.1, (case, float(margins.max()))


def test_bfloat16_is_refused_where_the_cpu_lacks_it(monkeypatch):
    from nnunet_lunet.deploy import graph_runtimes
    from nnunet_lunet.errors import LUnetError

    monkeypatch.setattr(graph_runtimes, "openvino_installed", lambda: True)
    monkeypatch.setattr(graph_runtimes, "bf16_supported", lambda: False)
    assert "openvino-bf16" not in graph_runtimes.available_runtimes()
    with pytest.raises(LUnetError, match="needs a CPU with native bfloat16.*use --runtime openvino"):
        graph_runtimes.require_runtime("openvino-bf16")


def test_predict_refuses_a_non_empty_output_and_a_bad_model_folder(exported, planned_dataset, tmp_path):
    folder, _ = exported
    images = os.path.join(planned_dataset.raw, "imagesTs")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "out", "-m", folder],
                 planned_dataset.env, check=False)
    assert_refused(result, "not empty", "--overwrite")
    assert os.listdir(tmp_path / "out") == ["keep.txt"]
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "new", "-m", tmp_path / "out"],
                 planned_dataset.env, check=False)
    assert_refused(result, "no export.json")
    assert not os.path.exists(tmp_path / "new")


def test_export_of_a_pruned_model(planned_dataset, train, tmp_path):
    """A STAMP run's network has pruned (non-planned) widths: the graph carries them and parity holds."""
    import onnx
    import torch

    fold = train("3d_fullres", STAMP)
    _export(planned_dataset, STAMP, tmp_path / "stamp")
    record = _record(tmp_path / "stamp")
    assert record["trainer"] == STAMP and 0.0 <= record["parity_max_abs_diff"] < 1e-3
    weights = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu",
                         weights_only=False)["network_weights"]
    # shared modules are listed twice; without deep supervision only the last segmentation layer is in the graph
    last_seg = max(int(k.split(".")[2]) for k in weights if k.startswith("decoder.seg_layers."))
    used = {k: w for k, w in weights.items()
            if not k.startswith("decoder.seg_layers.") or int(k.split(".")[2]) == last_seg}
    trained = sum({w.data_ptr(): w.numel() for w in used.values()}.values())
    graph = onnx.load(str(tmp_path / "stamp" / "model.onnx"))
    in_graph = sum(int(np.prod(i.dims)) for i in graph.graph.initializer if i.data_type == onnx.TensorProto.FLOAT)
    assert in_graph == trained  # the pruned widths, not the planned ones


def test_bench_runtimes_script_times_every_runtime_interleaved(exported, planned_dataset, tmp_path):
    folder, _ = exported
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks",
                          "bench_runtimes.py")
    out = tmp_path / "runtimes.csv"
    result = run(["python", script, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                  "-c", "3d_fullres", "--widths", 8, "--scales", "--model-folder", folder, "--threads", 1,
                  "--repeats", 1, "--warmup", 0, "--runtimes", "torch_eager", "torch_channels_last", "ort_basic",
                  "ort_all", "openvino_bf16", "--csv", out], planned_dataset.env)
    assert "1 threads for every runtime" in result.stdout
    # OpenVINO at bfloat16 is timed where the CPU has bf16, and said to be skipped elsewhere
    assert ("openvino-bf16 cannot run here: skipped" in result.stdout) != bf16_supported()
    import csv
    with open(out) as f:
        rows = list(csv.DictReader(f))
    networks = ["default", "lunet8", f"{LUNET16} (exported)"]
    runtimes = ["torch_eager", "torch_channels_last", "ort_basic", "ort_all"]
    runtimes += ["openvino-bf16"] if bf16_supported() else []
    assert [(r["network"], r["runtime"]) for r in rows] == [(n, rt) for n in networks for rt in runtimes]
    by = {(r["network"], r["runtime"]): r for r in rows}
    assert float(by[("default", "torch_eager")]["x default eager"]) == 1.0
    for (network, runtime), row in by.items():
        assert float(row["median ms"]) > 0 and row["threads"] == "1"
        expected = float(by[(network, "torch_eager")]["median ms"]) / float(row["median ms"])
        assert abs(float(row["x own eager"]) - expected) < 1e-6 * expected
    assert float(by[("lunet8", "ort_all")]["MACs ratio"]) > 1
    again = run(["python", script, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                 "-c", "3d_fullres", "--csv", out], planned_dataset.env, check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "already exists" in again.stderr


def test_residual_encoder_lunet_exports_and_predicts_as_nnunet_does(planned_dataset, resenc_plans, train, tmp_path):
    """A LUnet16 of nnU-Net's residual encoder preset M: export-onnx passes its parity check and predict
    gives nnUNetv2_predict's segmentations."""
    resenc = resenc_plans.plans_name
    train("3d_fullres", LUNET16, resenc)
    folder = tmp_path / "resenc_lunet16"
    _export(planned_dataset, LUNET16, folder, "-p", resenc)
    record = _record(folder)
    assert record["plans"] == resenc and 0.0 <= record["parity_max_abs_diff"] < 1e-3
    architecture = _record_plans(folder)["configurations"]["3d_fullres"]["architecture"]
    assert architecture["network_class_name"].endswith("ResidualEncoderUNet")
    images = os.path.join(planned_dataset.raw, "imagesTs")
    reference, ours = tmp_path / "nnunet", tmp_path / "onnx"
    run(["nnUNetv2_predict", "-i", images, "-o", reference, "-d", planned_dataset.dataset_id, "-c", "3d_fullres",
         "-f", 0, "-tr", LUNET16, "-p", resenc, "-device", "cpu", "-npp", 1, "-nps", 1, "--disable_tta"],
        planned_dataset.env)
    run(["nnunet-lunet", "predict", "-i", images, "-o", ours, "-m", folder, "--disable-tta", "--processes", 0],
        planned_dataset.env)
    _assert_segmentations_match(_segmentations(str(ours)), _segmentations(str(reference)))


# -- safe output and safe loading ---------------------------------------------------------------------------------
class _Payload:
    """Unpickling it runs ``touch <path>``: what a checkpoint from someone else could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def _plant_payload(checkpoint_file, witness) -> None:
    import torch
    torch.save({"network_weights": {}, "trainer_name": _Payload(witness)}, checkpoint_file)


def test_overwrite_refuses_the_working_folder_and_a_user_folder(exported, planned_dataset, tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.tex").write_text("keep me")
    for output, cwd, phrase in ((".", user, "is the working folder"), (user, None, "not written by nnunet-lunet")):
        result = run(["nnunet-lunet", "export-onnx", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                      LUNET16, "-f", 0, "-o", output, "--overwrite"], planned_dataset.env, check=False,
                     cwd=str(cwd) if cwd else None)
        assert_refused(result, phrase, "nothing was deleted")
        assert os.listdir(user) == ["thesis.tex"] and sorted(os.listdir(tmp_path)) == ["user"]


def test_sigint_during_an_export_replacement_keeps_the_old_export(exported, planned_dataset, tmp_path):
    import shutil
    import signal
    import subprocess
    import time

    from cli_runner import BIN

    folder = tmp_path / "lunet16"
    shutil.copytree(exported[0], folder)
    before = {n: os.path.getmtime(folder / n) for n in FILES}
    proc = subprocess.Popen([os.path.join(BIN, "nnunet-lunet"), "export-onnx", "-d", str(planned_dataset.dataset_id),
                             "-c", "3d_fullres", "-tr", LUNET16, "-f", "0", "-o", str(folder), "--overwrite"],
                            env=planned_dataset.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_a_shell_would)
    deadline = time.time() + 300
    while not any(".partial-" in n for n in os.listdir(tmp_path)) and time.time() < deadline:
        time.sleep(0.02)  # until the new export is being written beside the old one
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130 and stderr.strip().splitlines()[-1] == "interrupted", stderr
    assert {n: os.path.getmtime(folder / n) for n in FILES} == before  # the old export, untouched
    assert os.listdir(tmp_path) == ["lunet16"]  # no staging folder left


def test_a_checkpoint_with_a_payload_is_refused_and_never_run(exported, planned_dataset, train, tmp_path):
    import shutil

    from shared_runs import private_copy

    witness = tmp_path / "payload_ran"
    # predict --runtime torch: the export folder's checkpoint
    folder = tmp_path / "model"
    shutil.copytree(exported[0], folder)
    _plant_payload(folder / "fold_0" / "checkpoint_final.pth", witness)
    images = os.path.join(planned_dataset.raw, "imagesTs")
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "pred", "-m", folder, "--runtime",
                  "torch", "--processes", 1], planned_dataset.env, check=False)
    assert_refused(result, "checkpoint_final.pth", "nothing in it was run")
    # export-onnx and the benchmark: a results folder's checkpoint
    results, fold = private_copy(train("3d_fullres", LUNET16), planned_dataset.name, tmp_path)
    _plant_payload(os.path.join(fold, "checkpoint_final.pth"), witness)
    env = dict(planned_dataset.env, nnUNet_results=results)
    result = run(["nnunet-lunet", "export-onnx", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr", LUNET16,
                  "-f", 0, "-o", tmp_path / "export"], env, check=False)
    assert_refused(result, "checkpoint_final.pth", "nothing in it was run")
    result = run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-o",
                  tmp_path / "bench", "--repeats", 1, "--warmup", 0, "--device", "cpu"], env, check=False)
    assert_refused(result, "no model could be measured")
    with open(tmp_path / "bench" / "benchmark.csv") as f:
        assert "nothing in it was run" in f.read()
    assert not witness.exists()
    assert not os.path.exists(tmp_path / "pred") and not os.path.exists(tmp_path / "export")


def test_predict_checks_its_input_folder_before_starting_workers(exported, planned_dataset, tmp_path):
    import shutil

    folder, _ = exported
    source = os.path.join(planned_dataset.raw, "imagesTs", "case_ts000_0000.nii.gz")
    for name, phrase in (("case_ts000_0001.nii.gz", "is channel 1, but the model takes 1 channel"),
                         ("case_ts000.nii.gz", "is not named CASE_XXXX")):
        images = tmp_path / f"in_{name}"
        images.mkdir()
        shutil.copy(source, images / "case_ok_0000.nii.gz")
        shutil.copy(source, images / name)
        result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "out", "-m", folder],
                     planned_dataset.env, check=False)
        assert_refused(result, name, phrase)
        assert "Background workers died" not in result.stderr and not os.path.exists(tmp_path / "out")


def _damaged_images(source, tmp_path):
    """``{case: image folder}``: a good case beside one damaged as a user's files can be."""
    import gzip
    import shutil

    import nibabel as nib
    import numpy as np

    made = {}
    with open(source, "rb") as f:
        data = f.read()
    shapes = nib.load(source).shape
    for case in ("truncated", "random", "four_d", "garbled"):
        images = tmp_path / f"in_{case}"
        images.mkdir()
        shutil.copy(source, images / "case_ok_0000.nii.gz")
        bad = images / f"case_{case}_0000.nii.gz"
        if case == "truncated":  # the first 3000 bytes of a real image
            bad.write_bytes(data[:3000])
        elif case == "random":  # random bytes under an image's name
            bad.write_bytes(np.random.default_rng(0).bytes(4000))
        elif case == "garbled":  # a whole gzip stream whose NIfTI data is cut short
            bad.write_bytes(gzip.compress(gzip.decompress(data)[:-5000]))
        else:  # two volumes in one file
            nib.save(nib.Nifti1Image(np.zeros(shapes + (2,), np.float32), np.eye(4)), str(bad))
        made[case] = images
    return made


def test_predict_refuses_a_damaged_or_4d_image_and_writes_nothing(exported, planned_dataset, tmp_path):
    folder, _ = exported
    source = os.path.join(planned_dataset.raw, "imagesTs", "case_ts000_0000.nii.gz")
    phrases = {"truncated": "cannot be read in full", "random": "cannot be read in full",
               "garbled": "cannot be read in full", "four_d": "has 4 dimensions"}
    for case, images in _damaged_images(source, tmp_path).items():
        result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "out", "-m", folder, "--processes",
                      0], planned_dataset.env, check=False)
        assert_refused(result, f"case_{case}_0000.nii.gz", phrases[case], "nothing was predicted")
        assert not os.path.exists(tmp_path / "out")


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_predict_names_a_damaged_model_file_and_the_export_that_remakes_it(runtime, exported, planned_dataset,
                                                                           tmp_path):
    import shutil

    from nnunet_lunet.deploy.graph_runtimes import BY_NAME

    if BY_NAME[runtime].missing():
        pytest.skip(BY_NAME[runtime].missing())
    folder = tmp_path / "model"
    shutil.copytree(exported[0], folder)
    with open(folder / "model.onnx", "rb") as f:
        head = f.read(2000)
    (folder / "model.onnx").write_bytes(head)
    images = os.path.join(planned_dataset.raw, "imagesTs")
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "out", "-m", folder, "--runtime", runtime,
                  "--processes", 0], planned_dataset.env, check=False)
    assert_refused(result, str(folder / "model.onnx"), f"--runtime {runtime}",
                   f"nnunet-lunet export-onnx -d {planned_dataset.name} -c 3d_fullres -tr {LUNET16}", "-o NEW_FOLDER")
    assert not os.path.exists(tmp_path / "out")


def test_predict_on_a_results_folder_names_the_export_into_a_new_folder(planned_dataset, tmp_path):
    result = run(["nnunet-lunet", "predict", "-i", tmp_path, "-o", tmp_path / "out", "-m",
                  planned_dataset.env["nnUNet_results"]], planned_dataset.env, check=False)
    assert_refused(result, "not an export-onnx folder", "export-onnx -d DATASET -c CONFIGURATION -tr TRAINER -f FOLD "
                   "-o NEW_FOLDER")
    assert "--overwrite" not in result.stderr


def test_predict_overwrite_leaves_no_stale_case_and_marks_completion(exported, planned_dataset, tmp_path):
    import shutil

    from nnunet_lunet.safe_output import is_complete

    folder, _ = exported
    images = tmp_path / "in"
    shutil.copytree(os.path.join(planned_dataset.raw, "imagesTs"), images)
    out = tmp_path / "out"
    args = ["nnunet-lunet", "predict", "-i", images, "-o", out, "-m", folder, "--disable-tta", "--processes", 0]
    run(args, planned_dataset.env)
    assert sorted(_segmentations(str(out))) == ["case_ts000.nii.gz", "case_ts001.nii.gz"]
    assert is_complete(str(out), "predict")
    os.remove(images / "case_ts001_0000.nii.gz")
    run(args + ["--overwrite"], planned_dataset.env)
    assert sorted(_segmentations(str(out))) == ["case_ts000.nii.gz"]  # the earlier run's case_ts001 is gone
    assert is_complete(str(out), "predict") and sorted(os.listdir(tmp_path)) == ["in", "out"]
