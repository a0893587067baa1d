"""Width variants and the LUnet trainers on plans of CHAOS's shape, as nnU-Net plans a generated dataset of thick
slices with four labels (``anisotropic_dataset``): 3d_fullres with 1x3x3 kernels and in-plane-only pooling in its
first stages, 2d with seven stages up to 512 channels.

A width variant changes the widths and nothing else: every variant keeps the planned kernels and pooling (checked on
the built networks and by a hand count of their parameters), runs forward to the input's shape with one output per
label, and ``summary`` reports the parameters of the networks the written plans build.
"""

import json
import os
import shutil

import pytest
import torch
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from torch import nn

from cli_runner import assert_refused, run
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.surgery import minimal_example_input
from nnunet_lunet.trainers import nnUNetTrainerLUnet, nnUNetTrainerLUnet8, nnUNetTrainerLUnet16
from plans_factory import closed_form_parameters
from small_unets import one_thread  # noqa: F401

CONFIGURATIONS = ("2d", "3d_fullres")
CLASSES = 5  # background and four labels
PLANS = "nnUNetPlans_anisotest"


def _plans(dataset, name: str = "nnUNetPlans") -> PlansManager:
    return PlansManager(os.path.join(dataset.preprocessed, name + ".json"))


def _arch(configuration_manager) -> dict:
    return configuration_manager.network_arch_init_kwargs


def _encoder_kernels(net: nn.Module) -> list:
    return [list(stage[0].convs[0].conv.kernel_size) if isinstance(stage, nn.Sequential)
            else list(stage.convs[0].conv.kernel_size) for stage in net.encoder.stages]


def _check_network(net: nn.Module, kwargs: dict, widths: list) -> None:
    """``net`` has the planned kernels and pooling at ``widths``, and segments an input into CLASSES maps."""
    dims = len(kwargs["kernel_sizes"][0])
    assert _encoder_kernels(net) == [list(k) for k in kwargs["kernel_sizes"]]
    assert [list(t.stride) for t in net.decoder.transpconvs] == [list(s) for s in kwargs["strides"][:0:-1]]
    assert net.encoder.output_channels == widths
    assert count_parameters(net) == closed_form_parameters(widths, dims, 1, CLASSES,
                                                           kernel_sizes=kwargs["kernel_sizes"],
                                                           strides=kwargs["strides"])
    x = torch.randn_like(minimal_example_input(net))
    with torch.no_grad():
        out = net.eval()(x)
    first = out[0] if isinstance(out, (list, tuple)) else out
    assert first.shape == (1, CLASSES, *x.shape[2:])


@pytest.fixture(scope="module")
def variant_plans(anisotropic_dataset) -> PlansManager:
    run(["nnunet-lunet", "plan", "-d", anisotropic_dataset.dataset_id, "-o", PLANS, "--widths", 16, 8, "--scales",
         0.5, "--match-parameters", 8, "--overwrite"], anisotropic_dataset.env)
    return _plans(anisotropic_dataset, PLANS)


def test_the_generated_dataset_is_planned_like_chaos(anisotropic_dataset):
    """What the other tests here rely on: nnU-Net plans the generated data as it plans CHAOS."""
    plans = _plans(anisotropic_dataset)
    fullres = _arch(plans.get_configuration("3d_fullres"))
    assert fullres["kernel_sizes"][:2] == [[1, 3, 3], [1, 3, 3]] and fullres["kernel_sizes"][2] == [3, 3, 3]
    assert fullres["strides"][1:3] == [[1, 2, 2], [1, 2, 2]] and [2, 2, 2] in fullres["strides"]
    plane = _arch(plans.get_configuration("2d"))
    assert plane["n_stages"] == 7 and plane["features_per_stage"] == [32, 64, 128, 256, 512, 512, 512]
    with open(os.path.join(anisotropic_dataset.raw, "dataset.json")) as f:
        assert len(json.load(f)["labels"]) == CLASSES


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_plan_variants_keep_kernels_and_pooling(variant_plans, anisotropic_dataset, configuration):
    source = _plans(anisotropic_dataset).get_configuration(configuration)
    default = _arch(source)["features_per_stage"]
    n = len(default)
    expected = {"lunet16": [16] * n, "lunet8": [8] * n, "scaled50": [round(w / 2) for w in default]}
    parameters = {}
    for suffix in ("lunet16", "lunet8", "scaled50", "scaled_as_lunet8"):
        cm = variant_plans.get_configuration(f"{configuration}_{suffix}")
        kwargs = _arch(cm)
        assert {k: v for k, v in kwargs.items() if k != "features_per_stage"} == \
            {k: v for k, v in _arch(source).items() if k != "features_per_stage"}
        assert cm.data_identifier == source.data_identifier and cm.patch_size == source.patch_size
        widths = list(kwargs["features_per_stage"])
        if suffix in expected:
            assert widths == expected[suffix]
        net = get_network_from_plans(cm.network_arch_class_name, kwargs, cm.network_arch_init_kwargs_req_import, 1,
                                     CLASSES, deep_supervision=True)
        _check_network(net, kwargs, widths)
        parameters[suffix] = count_parameters(net)
    # the U-Net of LUnet8's size: the default widths scaled (each stage's share kept) to about LUnet8's parameters
    assert abs(parameters["scaled_as_lunet8"] / parameters["lunet8"] - 1) < 0.1


def test_summary_reports_the_networks_the_plans_build(variant_plans, anisotropic_dataset):
    result = run(["nnunet-lunet", "summary", "-d", anisotropic_dataset.dataset_id, "--widths", 16, 8, "--scales",
                  0.5], anisotropic_dataset.env)
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in CONFIGURATIONS:
            rows[cells[0], cells[1]] = cells
    assert len(rows) == 2 * 4  # default, lunet16, lunet8, scaled50 for each configuration
    for configuration in CONFIGURATIONS:
        assert rows[configuration, "default"][2] == "-".join(
            str(w) for w in _arch(_plans(anisotropic_dataset).get_configuration(configuration))["features_per_stage"])
        for suffix in ("lunet16", "lunet8", "scaled50"):
            cm = variant_plans.get_configuration(f"{configuration}_{suffix}")
            net = get_network_from_plans(cm.network_arch_class_name, _arch(cm),
                                         cm.network_arch_init_kwargs_req_import, 1, CLASSES, deep_supervision=False)
            assert rows[configuration, suffix][3].endswith(f"({count_parameters(net)})")


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
@pytest.mark.parametrize("trainer", [nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8])
def test_lunet_trainers_build_on_the_plans_and_train(anisotropic_dataset, configuration, trainer):
    plans = _plans(anisotropic_dataset)
    cm = plans.get_configuration(configuration)
    torch.manual_seed(0)
    net = trainer.build_network_architecture(plans, cm, 1, CLASSES, True)
    n = _arch(cm)["n_stages"]
    _check_network(net, _arch(cm), [trainer.lunet_width] * n)
    # a training step with deep supervision: one output per decoder stage, each of the classes, and gradients reach
    # the first (1x3x3 in 3D) conv
    net.train()
    x = torch.randn_like(minimal_example_input(net))
    outputs = net(x)
    assert len(outputs) == n - 1 and all(o.shape[1] == CLASSES for o in outputs)
    sum(o.square().mean() for o in outputs).backward()
    first = net.encoder.stages[0][0].convs[0].conv if isinstance(net.encoder.stages[0], nn.Sequential) \
        else net.encoder.stages[0].convs[0].conv
    assert first.weight.grad is not None and first.weight.grad.abs().sum() > 0


def test_plan_names_the_preprocessed_configurations_when_one_is_not(anisotropic_dataset, tmp_path):
    """A large 3D dataset is often preprocessed in 2d only (CHAOS on a CPU): plan's default, every configuration, is
    refused with one error line that names the missing preprocessing and ``-c`` with the configuration that has it;
    nothing is written, and the named ``-c`` works."""
    env = dict(anisotropic_dataset.env, nnUNet_preprocessed=str(tmp_path / "preprocessed"))
    folder = tmp_path / "preprocessed" / anisotropic_dataset.name
    folder.mkdir(parents=True)
    for name in ("nnUNetPlans.json", "dataset.json"):
        shutil.copy(os.path.join(anisotropic_dataset.preprocessed, name), folder / name)
    (folder / "nnUNetPlans_2d").mkdir()  # 2d preprocessed, 3d_fullres not
    args = ["nnunet-lunet", "plan", "-d", anisotropic_dataset.dataset_id, "--widths", 8, "--scales"]
    assert_refused(run(args, env, check=False), "'3d_fullres'", "not preprocessed", "-c 2d")
    assert sorted(os.listdir(folder)) == ["dataset.json", "nnUNetPlans.json", "nnUNetPlans_2d"]
    run(args + ["-c", "2d"], env)
    with open(folder / "nnUNetPlans_lunet.json") as f:
        assert set(json.load(f)["configurations"]) == {"2d", "3d_fullres", "2d_lunet8"}


@pytest.mark.parametrize("args, message", [
    (["--spacing", 6, 1.25], "invalid spacing (6.0, 1.25): give one positive voxel size per axis"),
    (["--spacing", 6, 0, 1], "invalid spacing"),
    (["--labels", 5], "invalid number of labels 5: give 2 to 4"),
])
def test_make_dataset_refuses_bad_spacing_and_labels(tmp_path, nnunet_env, args, message):
    env = dict(nnunet_env, nnUNet_raw=str(tmp_path))
    assert_refused(run(["nnunet-lunet", "make-dataset", "--id", 992, "--cases", 2, "--shape", 8, 8, 8] + args, env,
                       check=False), message)
    assert os.listdir(tmp_path) == []  # nothing written
