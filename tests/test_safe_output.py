"""Safe output writing (``nnunet_lunet.safe_output``): overwrite refuses what the package did not write, and an
interrupt during a folder replacement leaves the old folder or the new one, never neither."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cli_runner import sigint_as_a_shell_would
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import (MARKER, check_replaceable, finish_in_place, is_complete, read_marker,
                                      staged_folder, start_in_place, write_json)


def _export(folder, content: str) -> None:
    with staged_folder(str(folder), "export-onnx", overwrite=True) as staging:
        with open(os.path.join(staging, "model.onnx"), "w") as f:
            f.write(content)


def test_atomic_json_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    write_json(str(path), {"x": 1})
    write_json(str(path), {"x": 2})
    assert json.loads(path.read_text()) == {"x": 2}
    assert os.listdir(tmp_path) == ["a.json"]


def test_overwrite_refuses_a_user_folder_and_deletes_nothing(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(LUnetError, match="not written by nnunet-lunet export-onnx.*nothing was deleted"):
        _export(user, "new")
    assert (user / "notes.txt").read_text() == "keep me" and os.listdir(user) == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["mine"]  # no staging folder left either


def test_overwrite_refuses_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("keep me")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LUnetError, match="nothing was deleted"):
        _export(".", "new")
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_overwrite_replaces_an_own_folder_but_refuses_foreign_files_in_it(tmp_path):
    out = tmp_path / "export"
    _export(out, "old")
    assert read_marker(str(out))["command"] == "export-onnx" and is_complete(str(out), "export-onnx")
    _export(out, "new")
    assert (out / "model.onnx").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["export"]
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(LUnetError, match="mine.txt"):
        _export(out, "newer")
    assert (out / "model.onnx").read_text() == "new" and (out / "mine.txt").exists()
    with pytest.raises(LUnetError, match="not written by nnunet-lunet predict"):  # another command's folder
        check_replaceable(str(out), "predict", overwrite=True)


def test_a_failed_write_keeps_the_old_folder(tmp_path):
    out = tmp_path / "export"
    _export(out, "old")
    with pytest.raises(RuntimeError):
        with staged_folder(str(out), "export-onnx", overwrite=True) as staging:
            (open(os.path.join(staging, "model.onnx"), "w")).write("half")
            raise RuntimeError("parity failed")
    assert (out / "model.onnx").read_text() == "old" and sorted(os.listdir(tmp_path)) == ["export"]


def test_in_place_removes_only_the_listed_outputs(tmp_path):
    out = tmp_path / "bench"
    start_in_place(str(out), "benchmark", False, ["benchmark.md", "widths_*.png"])
    for name in ("benchmark.md", "widths_a.png"):
        (out / name).write_text("old")
    assert not is_complete(str(out), "benchmark")
    finish_in_place(str(out), "benchmark", ["benchmark.md", "widths_*.png"])
    assert is_complete(str(out), "benchmark")
    (out / "mine.txt").write_text("keep me")
    start_in_place(str(out), "benchmark", True, ["benchmark.md", "widths_*.png"])
    assert sorted(os.listdir(out)) == [MARKER, "mine.txt"] and not is_complete(str(out), "benchmark")


SLOW_RENAME = textwrap.dedent("""
    import os, sys, time
    from nnunet_lunet import safe_output
    target = sys.argv[1]
    real_rename = os.rename
    def slow_rename(a, b):
        print("renaming", flush=True)
        time.sleep(0.5)
        real_rename(a, b)
    with safe_output.staged_folder(target, "export-onnx", overwrite=True) as staging:
        open(os.path.join(staging, "model.onnx"), "w").write("new")
        os.rename = slow_rename
    """)


def test_sigint_during_the_replacement_leaves_a_whole_folder(tmp_path):
    """SIGINT while the old folder is moved aside (renames slowed down): the signal waits for the new folder."""
    out = tmp_path / "export"
    _export(out, "old")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RENAME, str(out)], stdout=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_a_shell_would)
    assert proc.stdout.readline().strip() == "renaming"  # the first rename (old folder aside) has begun
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0  # interrupted ...
    assert (out / "model.onnx").read_text() == "new"  # ... but only after the new folder was in place
    assert sorted(os.listdir(tmp_path)) == ["export"]  # and the old one was removed
