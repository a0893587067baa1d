"""``nnunet-lunet predict --tile-size``: at the training patch it is nnU-Net's prediction, bit for bit, in 2D and 3D;
a larger tile predicts a larger image in fewer passes under every runtime, the graph checked at that size first; a
bad tile size is one ``error:`` line and nothing at ``-o``."""

import json
import os

import numpy as np
import pytest

from cli_runner import assert_refused, run
from nnunet_lunet.deploy.tiles import check_fits, resolve_tile
from nnunet_lunet.errors import LUnetError
from tile_images import doubled_image_folder, source_shape

LUNET16 = "nnUNetTrainerLUnet16_smoke"


@pytest.fixture(scope="module")
def exported(planned_dataset, train, tmp_path_factory):
    """``exported(configuration) -> model folder`` of the smoke-trained LUnet16, exported on first use."""
    folders = {}

    def get(configuration: str) -> str:
        if configuration not in folders:
            train(configuration, LUNET16)
            folder = str(tmp_path_factory.mktemp("tiles") / configuration)
            run(["nnunet-lunet", "export-onnx", "-d", planned_dataset.dataset_id, "-c", configuration, "-tr", LUNET16,
                 "-f", 0, "-o", folder], planned_dataset.env)
            folders[configuration] = folder
        return folders[configuration]
    return get


def _record(folder: str) -> dict:
    with open(os.path.join(folder, "export.json")) as f:
        return json.load(f)


def _predict(folder: str, images, output, env, *extra, check: bool = True):
    return run(["nnunet-lunet", "predict", "-i", images, "-o", output, "-m", folder, "--disable-tta",
                "--save-probabilities", *extra], env, check=check)


def _outputs(folder) -> dict:
    """``{case: (probabilities, segmentation)}`` of a prediction folder."""
    import SimpleITK as sitk

    cases = sorted(f[:-len(".npz")] for f in os.listdir(folder) if f.endswith(".npz"))
    return {c: (np.load(os.path.join(folder, c + ".npz"))["probabilities"],
                sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(folder, c + ".nii.gz")))) for c in cases}


@pytest.mark.parametrize("configuration, form", [("3d_fullres", "multiple"), ("2d", "absolute")])
def test_the_training_patch_as_tile_is_nnunets_prediction_exactly(configuration, form, exported, planned_dataset,
                                                                   tmp_path):
    """On an image of several training patches per axis (so the tiles' positions, overlaps and Gaussian weighting
    all count), --tile-size 1x (3D) and the patch in voxels (2D) give nnUNetv2_predict's probabilities, bit for bit
    (that both forms resolve to the patch in either dimensionality is test_tile_sizes_resolve_to_voxels')."""
    folder = exported(configuration)
    images = doubled_image_folder(planned_dataset, tmp_path / "in")
    run(["nnUNetv2_predict", "-i", images, "-o", tmp_path / "nnunet", "-d", planned_dataset.dataset_id, "-c",
         configuration, "-f", 0, "-tr", LUNET16, "-device", "cpu", "-npp", 1, "-nps", 1, "--disable_tta",
         "--save_probabilities"], planned_dataset.env)
    expected = _outputs(tmp_path / "nnunet")
    assert sorted(expected) == ["big"] and (expected["big"][1] > 0).any(), "the reference labels no foreground"
    patch = _record(folder)["patch_size"]
    tile = ["1x"] if form == "multiple" else [str(p) for p in patch]
    result = _predict(folder, images, tmp_path / "out", planned_dataset.env, "--runtime", "torch", "--tile-size",
                      *tile, "--processes", 0)
    assert f"(tiles {'x'.join(map(str, patch))})" in result.stdout
    got = _outputs(tmp_path / "out")
    assert sorted(got) == ["big"]
    assert np.array_equal(got["big"][0], expected["big"][0])
    assert np.array_equal(got["big"][1], expected["big"][1])


def test_a_larger_tile_takes_fewer_passes_under_every_runtime(exported, planned_dataset, tmp_path):
    from nnunet_lunet.deploy.predict import PredictRequest, build_predictor, check_request

    folder = exported("3d_fullres")
    patch = _record(folder)["patch_size"]
    images = doubled_image_folder(planned_dataset, tmp_path / "in")
    request = PredictRequest(images, str(tmp_path / "unused"), folder, runtime="onnxruntime", tile_size=("2x",))
    predictor = build_predictor(request, check_request(request))
    big = tuple(2 * p for p in patch)
    assert tuple(predictor.configuration_manager.patch_size) == big
    assert len(predictor._internal_get_sliding_window_slicers(big)) == 1  # 27 tiles at the training patch
    outputs = {}
    for runtime in ("torch", "onnxruntime", "openvino"):
        result = _predict(folder, images, tmp_path / runtime, planned_dataset.env, "--runtime", runtime,
                          "--tile-size", "2x", "--processes", 0)
        assert f"(tiles {'x'.join(map(str, big))})" in result.stdout
        # the graph runtimes check the graph against the PyTorch weights at the new size first
        assert (f"parity at tile {'x'.join(map(str, big))}" in result.stdout) == (runtime != "torch")
        outputs[runtime] = _outputs(tmp_path / runtime)["big"]
    probabilities, segmentation = outputs["torch"]
    assert segmentation.shape == tuple(2 * s for s in source_shape(planned_dataset))
    for runtime in ("onnxruntime", "openvino"):
        diff = np.abs(outputs[runtime][0] - probabilities)
        assert np.quantile(diff, 0.999) < 1e-3, (runtime, float(np.quantile(diff, 0.999)))
        assert np.mean(outputs[runtime][1] != segmentation) < 1e-3, runtime


@pytest.mark.parametrize("tile, processes, phrases", [
    (["0"], 0, ["--tile-size 0", "gives no tile"]),
    (["33"], 0, ["not a multiple of", "network's total stride"]),
    (["1.3x"], 0, ["not a whole number", "give a size in voxels"]),
    (["64", "64"], 0, ["give one value or 3"]),
    (["2x"], 0, ["larger than a case's preprocessed image", "leave out --tile-size", "nothing was written"]),
    (["2x"], 1, ["larger than a case's preprocessed image", "leave out --tile-size", "nothing was written"]),
], ids=["zero", "not-divisible", "not-whole", "axes", "larger-than-image", "larger-than-image-workers"])
def test_a_bad_tile_size_is_one_error_line(tile, processes, phrases, exported, planned_dataset, tmp_path):
    folder = exported("3d_fullres")
    images = os.path.join(planned_dataset.raw, "imagesTs")  # 32x40x32: one training patch
    result = _predict(folder, images, tmp_path / "out", planned_dataset.env, "--tile-size", *tile, "--processes",
                      processes, check=False)
    assert_refused(result, *phrases)
    assert os.listdir(tmp_path) == []


# -- the rules, without a model ------------------------------------------------------------------------------------
def test_tile_sizes_resolve_to_voxels():
    assert resolve_tile(None, [40, 56, 40], [8, 8, 8]) == (40, 56, 40)
    assert resolve_tile(["2x"], [40, 56, 40], [8, 8, 8]) == (80, 112, 80)
    assert resolve_tile(["1.5X", "1x", "96"], [32, 56, 40], [8, 8, 8]) == (48, 56, 96)
    assert resolve_tile(["64"], [40, 56, 40], [8, 8, 8]) == (64, 64, 64)
    for patch in ([40, 56, 40], [64, 48]):  # 3D and 2D: the patch as a multiple and in voxels alike
        stride = [8] * len(patch)
        assert resolve_tile(["1x"], patch, stride) == resolve_tile([str(p) for p in patch], patch, stride) == \
            tuple(patch)


@pytest.mark.parametrize("values, phrase", [
    (["0"], "gives no tile"), (["-2x"], "gives no tile"), (["big"], "neither a size in voxels"),
    (["60"], "give 56 or 64"), (["1.33x"], "not a whole number"), (["1.1x"], "give 40 or 48"), (["2x", "2x"], "give one value or 3"),
])
def test_bad_tile_sizes_name_the_fix(values, phrase):
    with pytest.raises(LUnetError, match=phrase):
        resolve_tile(values, [40, 56, 40], [8, 8, 8])


def test_a_tile_fits_up_to_the_larger_of_image_and_training_patch():
    check_fits((40, 56, 40), (40, 56, 40), (30, 50, 20))  # nnU-Net's own padding of a small image
    check_fits((80, 64), (40, 56), (7, 80, 64))  # 2D: the volume's first axis is sliced
    with pytest.raises(LUnetError, match=r"larger than a case's preprocessed image 30x50x20 on axis 1 .* at most "
                                         r"40x56x40"):
        check_fits((40, 64, 40), (40, 56, 40), (30, 50, 20))
