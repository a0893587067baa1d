"""``nnunet-lunet export-onnx --int8`` and ``predict --runtime openvino-int8`` end to end on the smoke-trained LUnet16.

The model is exported once with ``--int8`` (module fixture), calibrated on a few patches to keep the test short, with
a tolerance wide enough for a briefly trained model; the refusal test then sets the tolerance just below the drop that
export measured, so it is refused whatever the tiny model's Dice are (on this data the INT8 Dice can equal float32's,
or exceed it, where ``--int8-tolerance 0`` would pass). Refusals must exit 2 with one ``error:`` line and leave nothing
at ``-o``.
"""

import json
import os
import shutil

import pytest

from cli_runner import assert_refused, run

LUNET16 = "nnUNetTrainerLUnet16_smoke"
PATCHES = "4"
FILES = ("model.onnx", "model_int8.xml", "model_int8.bin", "plans.json", "dataset.json", "export.json",
         ".nnunet-lunet.json", os.path.join("fold_0", "checkpoint_final.pth"))


def _export(dataset, output, *extra, env=None, check: bool = True):
    return run(["nnunet-lunet", "export-onnx", "-d", dataset.dataset_id, "-c", "3d_fullres", "-tr", LUNET16, "-f", 0,
                "-o", output, "--int8", "--calibration-patches", PATCHES, *extra], env or dataset.env, check=check)


def _record(folder) -> dict:
    with open(os.path.join(folder, "export.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def exported(planned_dataset, train, tmp_path_factory):
    """``(model folder, completed export process)`` of the smoke-trained LUnet16 with ``--int8``."""
    train("3d_fullres", LUNET16)
    folder = tmp_path_factory.mktemp("int8") / "lunet16"
    return str(folder), _export(planned_dataset, folder, "--int8-tolerance", "100")


def _validation_images(planned_dataset, tmp_path) -> str:
    """The fold's validation cases' images, copied into a folder of their own (predict's input)."""
    with open(os.path.join(planned_dataset.preprocessed, "splits_final.json")) as f:
        cases = json.load(f)[0]["val"]
    folder = tmp_path / "validation_images"
    folder.mkdir()
    for case in cases:
        shutil.copy(os.path.join(planned_dataset.raw, "imagesTr", f"{case}_0000.nii.gz"), folder)
    return str(folder)


def _mean_dice(planned_dataset, predicted: str) -> float:
    """nnU-Net's own evaluation of ``predicted`` against the preprocessed ground truth."""
    from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder2

    compute_metrics_on_folder2(os.path.join(planned_dataset.preprocessed, "gt_segmentations"), predicted,
                               os.path.join(planned_dataset.preprocessed, "dataset.json"),
                               os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"), num_processes=1,
                               chill=True)  # writes summary.json into the predicted folder
    with open(os.path.join(predicted, "summary.json")) as f:
        return json.load(f)["foreground_mean"]["Dice"]


def test_int8_export_writes_a_complete_folder_with_its_dice(exported):
    folder, result = exported
    for name in FILES:
        assert os.path.isfile(os.path.join(folder, name)), name
    assert [n for n in os.listdir(os.path.dirname(folder))] == ["lunet16"]  # no staging folder left
    with open(os.path.join(folder, ".nnunet-lunet.json")) as f:
        assert json.load(f)["complete"] is True
    record = _record(folder)
    assert 0.0 <= record["int8_dice"] <= 1.0 and 0.0 <= record["int8_float32_dice"] <= 1.0
    # the smoke model segments something, so the Dice compare labels (the shared seeded LUnet16: 0.118 on the project's
    # CPU; unseeded it ranged from 0.09 to 0.32)
    assert record["int8_float32_dice"] > 0.05
    assert 0.0 <= record["int8_labelled_otherwise_share"] < 0.5 and record["int8_validation_cases"] == 2
    assert record["int8_calibration_patches"] == int(PATCHES) and record["int8_calibration_seed"] == 0
    assert record["int8_tolerance"] == 100 and record["int8_nncf_version"]
    assert f"validation Dice {record['int8_dice']:.4f} vs float32 {record['int8_float32_dice']:.4f}" in result.stdout


def test_the_stored_dice_are_those_of_predict_under_each_runtime(exported, planned_dataset, tmp_path):
    """predict --runtime openvino-int8 runs the INT8 graph; nnU-Net's evaluation of its segmentations (and of
    onnxruntime's, the float32 graph) without mirroring gives the Dice export-onnx stored."""
    folder, _ = exported
    images = _validation_images(planned_dataset, tmp_path)
    record = _record(folder)
    for runtime, key in (("openvino-int8", "int8_dice"), ("onnxruntime", "int8_float32_dice")):
        out = tmp_path / runtime
        result = run(["nnunet-lunet", "predict", "-i", images, "-o", out, "-m", folder, "--runtime", runtime,
                      "--disable-tta", "--processes", 0], planned_dataset.env)
        assert f"predicted 2 case(s) with {runtime}" in result.stdout
        assert abs(_mean_dice(planned_dataset, str(out)) - record[key]) < 1e-9, runtime


def test_int8_beyond_the_tolerance_is_refused_with_nothing_written(exported, planned_dataset, tmp_path):
    record = _record(exported[0])
    drop = 100 * (record["int8_float32_dice"] - record["int8_dice"])
    # 0 where INT8 lost Dice, else just below the measured drop (the same seed and patches give the same drop)
    tolerance = 0.0 if drop > 0.01 else drop - 0.01
    out = tmp_path / "refused"
    result = _export(planned_dataset, out, "--int8-tolerance", f"{tolerance:.6f}", check=False)
    assert_refused(result, "INT8 refused", f"{drop:.3g} Dice points below", "nothing was written")
    assert os.listdir(tmp_path) == []


def test_predict_int8_on_a_folder_without_an_int8_model(exported, planned_dataset, tmp_path):
    folder = tmp_path / "float32_only"
    shutil.copytree(exported[0], folder)
    for name in ("model_int8.xml", "model_int8.bin"):
        os.remove(folder / name)
    result = run(["nnunet-lunet", "predict", "-i", os.path.join(planned_dataset.raw, "imagesTs"), "-o",
                  tmp_path / "pred", "-m", folder, "--runtime", "openvino-int8"], planned_dataset.env, check=False)
    assert_refused(result, "no INT8 model", "export-onnx --int8")
    assert not os.path.exists(tmp_path / "pred")


def test_int8_without_nncf_is_refused(planned_dataset, train, tmp_path):
    train("3d_fullres", LUNET16)
    shadow = tmp_path / "shadow" / "nncf"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('nncf is not installed')\n")
    env = dict(planned_dataset.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shadow.parent), env.get("PYTHONPATH")]))
    out = tmp_path / "refused"
    assert_refused(_export(planned_dataset, out, env=env, check=False), "nncf not installed",
                   "pip install 'nnunet-lunet[int8]'")
    assert not os.path.exists(out)


def test_int8_refuses_no_calibration_patches(planned_dataset, train, tmp_path):
    train("3d_fullres", LUNET16)
    out = tmp_path / "refused"
    assert_refused(_export(planned_dataset, out, "--calibration-patches", "0", check=False),
                   "--calibration-patches 0")
    assert not os.path.exists(out)


def test_the_int8_graph_predicts_at_a_larger_tile(exported, planned_dataset, tmp_path):
    """--tile-size under openvino-int8: the float32 graph it comes from is checked at the tile, then the INT8 graph
    (dynamic spatial axes, as the ONNX file it was quantized from) predicts the doubled image in one pass."""
    from tile_images import doubled_image_folder, source_shape

    folder, _ = exported
    images = doubled_image_folder(planned_dataset, tmp_path / "in")
    big = "x".join(str(2 * p) for p in _record(folder)["patch_size"])
    result = run(["nnunet-lunet", "predict", "-i", images, "-o", tmp_path / "out", "-m", folder, "--runtime",
                  "openvino-int8", "--tile-size", "2x", "--disable-tta", "--processes", 0], planned_dataset.env)
    assert f"parity at tile {big}" in result.stdout and f"(tiles {big})" in result.stdout
    import SimpleITK as sitk
    segmentation = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "big.nii.gz")))
    assert segmentation.shape == tuple(2 * s for s in source_shape(planned_dataset))


def test_the_quantiser_is_a_leaf_of_deploy():
    """int8.py imports no other deploy module (graph_runtimes imports it; its validation, which predicts, is
    int8_validation.py), so there is no import circle graph_runtimes -> int8 -> predict -> graph_runtimes."""
    import ast

    from nnunet_lunet.deploy import int8

    with open(int8.__file__) as f:
        tree = ast.parse(f.read())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported and not [m for m in imported if m and m.startswith("nnunet_lunet.deploy")], imported
