"""The command line itself: its parser is built without importing torch (1.3-1.7 s per call: ``--help`` and every
refused command would pay it)."""

import subprocess
import sys


def test_parser_is_built_without_importing_torch():
    code = "import sys; from nnunet_lunet.cli import build_parser; build_parser(); print(sorted(m for m in " \
           "('torch', 'onnxruntime', 'nnunetv2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


# -- faults end in one line, never a traceback, and leave nothing partial ------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from cli_runner import BIN, assert_refused, run, sigint_as_a_shell_would  # noqa: E402


def _env(tmp_path):
    env = dict(os.environ)
    for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        env[var] = str(tmp_path / var)
        os.makedirs(env[var], exist_ok=True)
    return env


def test_corrupt_json_is_one_error_line_naming_the_file(tmp_path):
    env = _env(tmp_path)
    folder = tmp_path / "nnUNet_preprocessed" / "Dataset993_Broken"
    folder.mkdir()
    (folder / "nnUNetPlans.json").write_text('{"plans_name": ')
    (tmp_path / "nnUNet_raw" / "Dataset993_Broken").mkdir()
    assert_refused(run(["nnunet-lunet", "plan", "-d", 993], env, check=False), "nnUNetPlans.json",
                   "is not valid JSON")
    assert os.listdir(folder) == ["nnUNetPlans.json"]


def test_unwritable_output_is_one_error_line(tmp_path):
    env = _env(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    env["nnUNet_raw"] = str(tmp_path / "file" / "raw")  # a path through a file: ENOTDIR, also for root
    assert_refused(run(["nnunet-lunet", "make-dataset", "--id", 994, "--cases", 2, "--shape", 8, 8, 8], env,
                       check=False), "file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_is_one_error_line(tmp_path):
    env = _env(tmp_path)
    os.chmod(env["nnUNet_raw"], 0o555)
    try:
        assert_refused(run(["nnunet-lunet", "make-dataset", "--id", 994, "--cases", 2, "--shape", 8, 8, 8], env,
                           check=False), "Permission denied")
    finally:
        os.chmod(env["nnUNet_raw"], 0o755)
    assert os.listdir(env["nnUNet_raw"]) == []


def test_overwrite_refuses_a_folder_the_package_did_not_write(tmp_path):
    env = _env(tmp_path)
    mine = tmp_path / "nnUNet_raw" / "Dataset995_LUnetSynthetic"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert_refused(run(["nnunet-lunet", "make-dataset", "--id", 995, "--cases", 2, "--shape", 8, 8, 8,
                        "--overwrite"], env, check=False), "not written by nnunet-lunet make-dataset",
                   "nothing was deleted")
    assert os.listdir(mine) == ["notes.txt"]
    run(["nnunet-lunet", "make-dataset", "--id", 996, "--cases", 2, "--shape", 8, 8, 8], env)
    run(["nnunet-lunet", "make-dataset", "--id", 996, "--cases", 3, "--shape", 8, 8, 8, "--overwrite"], env)
    with open(tmp_path / "nnUNet_raw" / "Dataset996_LUnetSynthetic" / "dataset.json") as f:
        assert json.load(f)["numTraining"] == 3  # its own earlier output is replaced


def test_ctrl_c_is_interrupted_exit_130_and_leaves_the_old_output(tmp_path):
    env = _env(tmp_path)
    args = [os.path.join(BIN, "nnunet-lunet"), "make-dataset", "--id", "997", "--shape", "64", "64", "64"]
    subprocess.run(args + ["--cases", "2"], env=env, check=True, capture_output=True)
    folder = tmp_path / "nnUNet_raw" / "Dataset997_LUnetSynthetic"
    before = sorted(os.listdir(folder / "imagesTr"))
    proc = subprocess.Popen(args + ["--cases", "400", "--overwrite"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_a_shell_would)
    parent = tmp_path / "nnUNet_raw"
    deadline = time.time() + 120
    while not [n for n in os.listdir(parent) if ".partial-" in n] and time.time() < deadline:
        time.sleep(0.05)  # until it writes into its staging folder
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and stderr.strip().splitlines()[-1] == "interrupted", stderr
    assert sorted(os.listdir(folder / "imagesTr")) == before  # the old dataset, whole
    assert os.listdir(parent) == ["Dataset997_LUnetSynthetic"]  # no staging folder left
