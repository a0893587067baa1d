"""export-onnx's parity judgement (``deploy.parity``) on generated networks: relative to the logits' scale, so a
correct graph whose logits are large passes, and a graph that computes something else is refused."""

import numpy as np
import pytest
import torch

from nnunet_lunet.deploy.parity import PARITY_TOLERANCE, compare_logits, graph_parity, refusal
from small_unets import one_thread, small_unet  # noqa: F401

CLASSES = 5


def _large_logit_network():
    """A small 3D U-Net (2 channels in, 5 classes) whose last layer is scaled so that its logits reach ~1e3."""
    network = small_unet(3, n_stages=3, features=(8, 16, 32), input_channels=2, num_classes=CLASSES,
                         deep_supervision=False).eval()
    with torch.no_grad():
        network.decoder.seg_layers[-1].weight.mul_(200.0)
    return network


@pytest.fixture(scope="module")
def large_logits(tmp_path_factory):
    """``(network, patch, path of its ONNX graph)``."""
    from nnunet_lunet.deploy.onnx_graph import export_graph

    network = _large_logit_network()
    patch = np.random.default_rng(0).standard_normal((1, 2, 32, 48, 48)).astype(np.float32)
    path = str(tmp_path_factory.mktemp("parity") / "model.onnx")
    export_graph(network, torch.from_numpy(patch), path)
    return network, patch, path


def _ort(path: str):
    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session

    graph = ort_session(path, threads=1)
    return lambda x: run_session(graph, x)


def test_a_correct_graph_with_large_logits_passes(large_logits):
    network, patch, path = large_logits
    parity = graph_parity(network, _ort(path), patch)
    assert parity.logit_scale > 500
    # float32 rounding of two correct implementations grows with the logits: an absolute tolerance of 1e-3 (the
    # former rule) would refuse this graph
    assert parity.max_abs_diff > 1e-3, parity
    assert parity.relative_diff < 1e-5 and parity.argmax_differ_beyond_ties == 0, parity
    assert refusal(parity, PARITY_TOLERANCE) is None


def test_a_graph_that_computes_something_else_is_refused(large_logits, tmp_path):
    """The same graph with the last layer's output channels 1 and 2 swapped: a plausible export bug."""
    import onnx
    from onnx import numpy_helper

    network, patch, path = large_logits
    graph = onnx.load(path)
    swapped = 0
    for init in graph.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.shape[0] == CLASSES and array.ndim in (1, 5):  # the segmentation layer's weight and bias
            array = array.copy()
            array[[1, 2]] = array[[2, 1]]
            init.CopyFrom(numpy_helper.from_array(array, init.name))
            swapped += 1
    assert swapped == 2
    broken = str(tmp_path / "broken.onnx")
    onnx.save(graph, broken)
    parity = graph_parity(network, _ort(broken), patch)
    reason = refusal(parity, PARITY_TOLERANCE)
    assert reason is not None and "of their scale" in reason and "labelled otherwise" in reason, reason
    assert parity.relative_diff > 100 * PARITY_TOLERANCE and parity.argmax_differ_beyond_ties > 0, parity


def test_argmax_differences_count_only_beyond_near_ties():
    """Two classes, three voxels: a near-tie (logits 1e-3 apart), a clear one (5 apart), and one 0.015 apart
    (probabilities 0.496 / 0.504): swapping the first is rounding, swapping the third is not, though its
    probabilities move by only 0.0075."""
    expected = np.array([[[1.0, 5.0, 0.0], [1.001, 0.0, 0.015]]], dtype=np.float32)
    got = expected.copy()
    got[0, 1, 0] -= 0.002
    parity = compare_logits(expected, got)
    assert parity.argmax_differ_share == pytest.approx(1 / 3) and parity.argmax_differ_beyond_ties == 0
    assert refusal(parity, PARITY_TOLERANCE) is None
    got[0, 1, 2] = -0.015
    parity = compare_logits(expected, got)
    assert parity.argmax_differ_beyond_ties == 1 and parity.max_probability_diff < 0.008
    assert refusal(parity, 1.0) == "1 voxel(s) labelled otherwise where PyTorch's top two probabilities are more " \
                                   "than 0.002 apart"


def test_a_zero_tolerance_refuses_any_difference(large_logits):
    network, patch, path = large_logits
    reason = refusal(graph_parity(network, _ort(path), patch), 0.0)
    assert reason is not None and "tolerance 0" in reason
