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
    start_in_place(str(out), "benchmark", False, ["benchmark.md", "widths_a.png", "widths_b.png"])
    for name in ("benchmark.md", "widths_a.png"):
        (out / name).write_text("old")
    assert not is_complete(str(out), "benchmark")
    finish_in_place(str(out), "benchmark", ["benchmark.md", "widths_a.png", "widths_b.png"])
    assert is_complete(str(out), "benchmark")
    assert read_marker(str(out))["outputs"] == ["benchmark.md", "widths_a.png"]  # the names written, exactly
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


# -- names the package did not write are never deleted, moved or trusted -------------------------------------------
def _tree(root):
    """Every path under ``root`` with its content (files) or None (folders, links' targets as text)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            found[rel] = ("link:" + os.readlink(path)) if os.path.islink(path) else \
                (open(path, encoding="latin-1").read() if os.path.isfile(path) else None)  # any bytes, as text
    return found


def _user_folder(path, note="mine"):
    path.mkdir()
    (path / "notes.md").write_text(note)


def test_overwrite_leaves_user_folders_named_like_staging_and_backup_folders(tmp_path):
    out = tmp_path / "model"
    _export(out, "old")
    for name in (".model.old-backup", ".model.partial-mine", ".model.old-0123456789abcdef"):
        _user_folder(tmp_path / name)
    # a forged marker that does not record the folder's token: still not the package's
    (tmp_path / ".model.old-0123456789abcdef" / MARKER).write_text(json.dumps(
        {"package": "nnunet-lunet", "command": "export-onnx", "version": "0", "complete": True, "outputs": [],
         "token": "fedcba9876543210"}))
    users = {n: _tree(tmp_path / n) for n in os.listdir(tmp_path) if n != "model"}
    _export(out, "new")
    assert (out / "model.onnx").read_text() == "new"
    assert {n: _tree(tmp_path / n) for n in os.listdir(tmp_path) if n != "model"} == users


def test_a_user_backup_folder_is_not_moved_into_a_missing_target(tmp_path):
    _user_folder(tmp_path / ".other.old-backup")
    _export(tmp_path / "other", "new")
    assert (tmp_path / "other" / "model.onnx").read_text() == "new"
    assert _tree(tmp_path / ".other.old-backup") == {"notes.md": "mine"}


def test_a_folder_holding_only_a_name_like_a_marker_temporary_needs_overwrite(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / f".{MARKER}.notes").write_text("mine")
    with pytest.raises(LUnetError, match="already exists and is not empty"):
        with staged_folder(str(out), "export-onnx", overwrite=False):
            pass
    with pytest.raises(LUnetError, match="not written by nnunet-lunet"):
        _export(out, "new")
    assert _tree(out) == {f".{MARKER}.notes": "mine"}


def test_benchmark_overwrite_keeps_a_user_file_that_looks_like_its_plots(tmp_path):
    from nnunet_lunet.benchmark.outputs import finish_output, planned_outputs, prepare_output

    out = tmp_path / "bench"
    planned = planned_outputs([("LUnet16", "0")])  # no pruning row: no widths plot is written
    prepare_output(str(out), False, planned)
    (out / "benchmark.md").write_text("report")
    finish_output(str(out), planned)
    (out / "widths_my_figure.png").write_text("mine")
    prepare_output(str(out), True, planned)
    assert sorted(os.listdir(out)) == [MARKER, "widths_my_figure.png"]


def test_in_place_refuses_a_user_file_under_a_name_the_run_writes(tmp_path):
    out = tmp_path / "bench"
    start_in_place(str(out), "benchmark", False, ["benchmark.md"])
    finish_in_place(str(out), "benchmark", ["benchmark.md"])  # the run wrote nothing
    (out / "benchmark.md").write_text("mine")
    with pytest.raises(LUnetError, match="benchmark.md, which nnunet-lunet benchmark did not write"):
        start_in_place(str(out), "benchmark", True, ["benchmark.md"])
    assert (out / "benchmark.md").read_text() == "mine"


def test_a_marker_listing_a_pattern_deletes_only_that_exact_name(tmp_path):
    out = tmp_path / "bench"
    out.mkdir()
    for name in ("mine.txt", "notes.md"):
        (out / name).write_text("keep me")
    (out / MARKER).write_text(json.dumps({"package": "nnunet-lunet", "command": "benchmark", "version": "0",
                                          "complete": True, "outputs": ["*"]}))
    start_in_place(str(out), "benchmark", True, ["benchmark.md"])
    assert sorted(os.listdir(out)) == [MARKER, "mine.txt", "notes.md"]


@pytest.mark.parametrize("outputs", [{"a": 1}, "benchmark.md", [1, 2], [["a"]], ["../x"], ["a/b"], [".."], [""],
                                     [None]])
def test_a_malformed_marker_is_refused_and_nothing_is_touched(tmp_path, outputs):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "benchmark.md").write_text("keep me")
    (out / MARKER).write_text(json.dumps({"package": "nnunet-lunet", "command": "benchmark", "version": "0",
                                          "complete": True, "outputs": outputs}))
    before = _tree(tmp_path)
    with pytest.raises(LUnetError, match="not a marker nnunet-lunet wrote.*nothing was deleted"):
        start_in_place(str(out), "benchmark", True, ["benchmark.md"])
    with pytest.raises(LUnetError, match="not a marker nnunet-lunet wrote"):
        _export(out, "new")
    assert _tree(tmp_path) == before and not is_complete(str(out), "benchmark")


@pytest.mark.parametrize("content", ["{", "[]", '{"package": "other"}', '{"package": "nnunet-lunet"}'])
def test_a_marker_that_is_not_the_schema_is_refused(tmp_path, content):
    out = tmp_path / "model"
    out.mkdir()
    (out / MARKER).write_text(content)
    with pytest.raises(LUnetError, match="not a marker nnunet-lunet wrote"):
        _export(out, "new")
    assert os.listdir(out) == [MARKER]


@pytest.mark.parametrize("slash", ["", "/"])
def test_a_symlink_target_is_refused_with_or_without_a_trailing_slash(tmp_path, slash):
    real = tmp_path / "real"
    _export(real, "old")
    os.symlink("real", tmp_path / "link")
    before = _tree(tmp_path)
    with pytest.raises(LUnetError, match="is a symbolic link"):
        _export(str(tmp_path / "link") + slash, "new")
    with pytest.raises(LUnetError, match="is a symbolic link"):
        start_in_place(str(tmp_path / "link") + slash, "benchmark", True, ["benchmark.md"])
    assert _tree(tmp_path) == before and sorted(os.listdir(tmp_path)) == ["link", "real"]


def test_a_malformed_marker_is_one_error_line_from_the_command(tmp_path):
    """The same refusal through a command (make-dataset, the cheapest that writes a folder as a whole)."""
    from cli_runner import assert_refused, run

    folder = tmp_path / "raw" / "Dataset997_X"
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(json.dumps({"package": "nnunet-lunet", "command": "make-dataset", "version": "0",
                                             "complete": True, "outputs": "dataset.json"}))
    result = run(["nnunet-lunet", "make-dataset", "--id", 997, "--name", "X", "--cases", 2, "--shape", 8, 8,
                  "--overwrite"], dict(os.environ, nnUNet_raw=str(tmp_path / "raw")), check=False)
    assert_refused(result, MARKER, "not a list of file names", "nothing was deleted")
    assert os.listdir(folder) == [MARKER]


def test_a_kill_between_the_renames_is_recovered_by_the_next_call(tmp_path, monkeypatch):
    """SIGKILL after the old folder went aside: no folder at the target; the next call puts the old one back first."""
    from nnunet_lunet import safe_output

    out = tmp_path / "model"
    _export(out, "old")
    real_rename, calls = os.rename, []

    def rename_then_die(a, b):
        calls.append(b)
        if len(calls) == 2:
            raise SystemExit("killed")  # the second rename never happens
        real_rename(a, b)

    monkeypatch.setattr(os, "rename", rename_then_die)
    monkeypatch.setattr(safe_output.shutil, "rmtree", lambda *a, **k: None)  # and no clean-up (a kill runs none)
    with pytest.raises(SystemExit):
        _export(out, "new")
    monkeypatch.undo()
    assert not out.exists()
    safe_output.recover(str(out), "export-onnx")
    assert (out / "model.onnx").read_text() == "old" and sorted(os.listdir(tmp_path)) == ["model"]


def test_an_interrupt_after_the_new_folder_is_in_place_is_not_reported_as_interrupted(tmp_path):
    """SIGINT while the old folder is removed: the new export is complete, and the CLI says so."""
    out = tmp_path / "export"
    _export(out, "old")
    script = textwrap.dedent("""
        import os, shutil, sys, time
        from nnunet_lunet import cli, safe_output
        target = sys.argv[1]
        real_remove = os.remove
        def slow_remove(path):
            print("removing", flush=True)
            time.sleep(0.5)
            real_remove(path)
        def command():
            with safe_output.staged_folder(target, "export-onnx", overwrite=True) as staging:
                open(os.path.join(staging, "model.onnx"), "w").write("new")
                os.remove = slow_remove
        class Args:
            func = staticmethod(lambda args: command())
        cli.build_parser = lambda: type("P", (), {"parse_args": lambda self, argv: Args()})()
        sys.exit(cli.main([]))
        """)
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=sigint_as_a_shell_would)
    assert proc.stdout.readline().strip() == "removing"  # the old folder's files are being removed
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert "is complete" in stderr and "interrupted" not in stderr.replace("interrupt came", ""), stderr
    assert (out / "model.onnx").read_text() == "new" and sorted(os.listdir(tmp_path)) == ["export"]


def test_a_command_leaves_user_folders_named_like_its_staging_and_backup_folders(tmp_path):
    """The same through a command: make-dataset writes, then replaces, a dataset beside look-alike user folders."""
    from cli_runner import run

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (".Dataset992_X.old-backup", ".Dataset992_X.partial-mine"):
        _user_folder(raw / name)
    before = _tree(raw)
    env = dict(os.environ, nnUNet_raw=str(raw))
    for extra in ([], ["--overwrite"]):
        run(["nnunet-lunet", "make-dataset", "--id", 992, "--name", "X", "--cases", 2, "--shape", 8, 8] + extra, env)
    after = _tree(raw)
    assert {k: v for k, v in after.items() if not k.startswith("Dataset992_X")} == before
