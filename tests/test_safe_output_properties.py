"""Property-based tests (Hypothesis) of ``nnunet_lunet.safe_output``: random user files beside and inside an output,
markers that are the package's, forged or malformed, and a kill at any file-system step.

Properties, for a folder written as a whole (``staged_folder``, as export-onnx, predict and make-dataset write) and
for one filled in place (``start_in_place``/``finish_in_place``, as the benchmark writes):

- no user file (anything the package did not record) is ever deleted, moved or changed, whatever the marker says;
- a refused call changes nothing;
- after a kill at any single step, and the next call's recovery (``recover``), a folder written as a whole is the
  old one or the new complete one; a folder filled in place is marked complete only when it holds a whole run.

A kill is modelled by making the k-th file-system change (rename, replace, remove, rmdir, mkdir, rmtree) and every
later one raise, so no clean-up runs, as after SIGKILL. Derandomized with a bounded number of examples: the same
examples in every run (a few seconds).
"""

import contextlib
import json
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnunet_lunet import safe_output
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import MARKER

SETTINGS = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# the user's names of the reported cases, beside the output and inside it
SIBLING_NAMES = [".model.old-backup", ".model.partial-mine", ".model.old-0123456789abcdef", ".model.partial-0a1b2c3d",
                 "model.txt", "notes.md"]
INSIDE_NAMES = [f".{MARKER}.notes", "mine.txt", "notes.md", "widths_my_figure.png", "model.onnx"]
MARKERS = ["own", "legacy", "none", "forged_star", "forged_token", "other_command", "not_json", "outputs_not_list",
           "outputs_not_strings"]
MUTATORS = [(os, "rename"), (os, "replace"), (os, "remove"), (os, "rmdir"), (os, "mkdir"), (shutil, "rmtree")]


class _Killed(BaseException):
    """The process died here (not an Exception: nothing catches it)."""


@contextlib.contextmanager
def _killed_at(step):
    """The ``step``-th file-system change and every later one raise ``_Killed`` (None: no kill)."""
    calls = [0]
    originals = {(m, n): getattr(m, n) for m, n in MUTATORS}

    def wrap(real):
        def mutator(*args, **kwargs):
            calls[0] += 1
            if step is not None and calls[0] >= step:
                raise _Killed()
            return real(*args, **kwargs)
        return mutator

    for (module, name), real in originals.items():
        setattr(module, name, wrap(real))
    try:
        yield
    finally:
        for (module, name), real in originals.items():
            setattr(module, name, real)


def _snapshot(root):
    """Every path under ``root`` with its content (files), its link (links) or None (folders)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = ("link:" + os.readlink(path)) if os.path.islink(path) else \
                (open(path).read() if os.path.isfile(path) else None)
    return found


def _marker_text(kind, command):
    base = {"package": "nnunet-lunet", "command": command, "version": "0", "complete": True}
    return {"forged_star": json.dumps(dict(base, outputs=["*", "*.txt", "widths_*.png"])),
            "forged_token": json.dumps(dict(base, outputs=[], token="fedcba9876543210")),
            "other_command": json.dumps(dict(base, command="predict", outputs=[])),
            "not_json": "{\"package\": ",
            "outputs_not_list": json.dumps(dict(base, outputs="model.onnx")),
            "outputs_not_strings": json.dumps(dict(base, outputs=[1, ["model.onnx"]]))}[kind]


def _export(target, content, overwrite=True):
    with safe_output.staged_folder(target, "export-onnx", overwrite) as staging:
        with open(os.path.join(staging, "model.onnx"), "w") as f:
            f.write(content)


def _user_files(root, draw_names, where):
    made = {}
    for name in draw_names:
        path = os.path.join(root, name)
        if os.path.lexists(path):
            continue
        if name.startswith("."):  # a folder named like the package's, with a file and maybe a forged marker
            os.mkdir(path)
            with open(os.path.join(path, "notes.md"), "w") as f:
                f.write(f"{where} {name}")
            if name.endswith("0123456789abcdef"):
                with open(os.path.join(path, MARKER), "w") as f:
                    f.write(_marker_text("forged_token", "export-onnx"))
        else:
            with open(path, "w") as f:
                f.write(f"{where} {name}")
        made[name] = True
    return made


def _user_paths(snapshot, target_name, user_inside):
    """The snapshot entries that are the user's: all but the target's own files and the package's siblings."""
    mine = {}
    for rel, value in snapshot.items():
        top = rel.split(os.sep)[0]
        if top == target_name:
            if len(rel.split(os.sep)) == 2 and rel.split(os.sep)[1] in user_inside:
                mine[rel] = value
        else:
            mine[rel] = value
    return mine


@SETTINGS
@given(state=st.sampled_from(["absent", "own", "user_folder", "empty"]), marker=st.sampled_from(MARKERS),
       siblings=st.lists(st.sampled_from(SIBLING_NAMES), unique=True, max_size=4),
       inside=st.lists(st.sampled_from(INSIDE_NAMES), unique=True, max_size=3), overwrite=st.booleans(),
       kill=st.one_of(st.none(), st.integers(1, 14)))
def test_a_folder_written_as_a_whole_never_loses_a_user_file(state, marker, siblings, inside, overwrite, kill):
    with tempfile.TemporaryDirectory() as root:
        target = os.path.join(root, "model")
        user_inside = set()
        if state == "own":
            _export(target, "old")
            if marker == "legacy":
                data = json.load(open(os.path.join(target, MARKER)))
                data.pop("token")
                with open(os.path.join(target, MARKER), "w") as f:
                    json.dump(data, f)
        elif state in ("user_folder", "empty"):
            os.mkdir(target)
        if state != "absent":
            if marker not in ("own", "legacy", "none") and state != "own":
                with open(os.path.join(target, MARKER), "w") as f:
                    f.write(_marker_text(marker, "export-onnx"))  # a marker, even forged, is never a user file
            if state != "empty":
                names = [n for n in inside if not (state == "own" and n == "model.onnx")]
                user_inside |= set(_user_files(target, names, "inside"))
        _user_files(root, siblings, "beside")
        before = _snapshot(root)
        users = _user_paths(before, "model", user_inside)

        outcome = "done"
        with _killed_at(kill):
            try:
                _export(target, "new", overwrite)
            except LUnetError:
                outcome = "refused"
            except _Killed:
                outcome = "killed"
        after_call = _snapshot(root)
        if outcome == "refused":
            assert after_call == before
        safe_output.recover(target, "export-onnx")  # what the next call does first
        after = _snapshot(root)

        for rel, value in users.items():
            assert after.get(rel, "missing") == value, (rel, outcome)
        own_before = {r: v for r, v in before.items() if r.split(os.sep)[0] == "model"}
        own_after = {r: v for r, v in after.items() if r.split(os.sep)[0] == "model"}
        new_complete = safe_output.is_complete(target, "export-onnx") and after.get("model/model.onnx") == "new"
        if outcome == "done":
            assert new_complete
        else:
            assert new_complete or own_after == own_before, (outcome, own_before, own_after)
        for rel in after:  # what else may be left: a folder of the package's without a marker, and so without a
            # file of anyone's (a kill between its creation and its marker, or between the marker's removal and its own)
            if rel not in users and rel.split(os.sep)[0] != "model":
                top = rel.split(os.sep)[0]
                assert top.startswith((".model.partial-", ".model.old-")) and top not in SIBLING_NAMES, (rel, outcome)
                assert not os.path.exists(os.path.join(root, top, MARKER)), (rel, outcome)
                assert rel == top or rel.split(os.sep)[-1].startswith(f".{MARKER}."), (rel, outcome)


@SETTINGS
@given(state=st.sampled_from(["absent", "own_complete", "own_unfinished", "user_folder"]),
       marker=st.sampled_from(MARKERS),
       inside=st.lists(st.sampled_from(INSIDE_NAMES + ["benchmark.md"]), unique=True, max_size=4),
       overwrite=st.booleans(), kill=st.one_of(st.none(), st.integers(1, 10)))
def test_a_folder_filled_in_place_never_loses_a_user_file(state, marker, inside, overwrite, kill):
    planned = ["benchmark.md", "widths_A_fold0.png", "test_predictions"]
    with tempfile.TemporaryDirectory() as root:
        folder = os.path.join(root, "bench")
        recorded = set()
        if state.startswith("own"):
            safe_output.start_in_place(folder, "benchmark", False, planned)
            for name in ("benchmark.md", "widths_A_fold0.png"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write("old")
            recorded = {"benchmark.md", "widths_A_fold0.png"}
            if state == "own_complete":
                safe_output.finish_in_place(folder, "benchmark", planned)
        elif state == "user_folder":
            os.mkdir(folder)
        if state != "absent":
            if marker not in ("own", "legacy", "none"):
                with open(os.path.join(folder, MARKER), "w") as f:
                    f.write(_marker_text(marker, "benchmark"))
                recorded = set()
            user = [n for n in inside if n not in recorded and not n.startswith(".") or n == f".{MARKER}.notes"]
            _user_files(folder, [n for n in user if not n.startswith(".model")], "inside")
        before = _snapshot(root)
        users = {r: v for r, v in before.items() if r.split(os.sep)[-1] not in recorded | {MARKER}}

        outcome = "done"
        with _killed_at(kill):
            try:
                safe_output.start_in_place(folder, "benchmark", overwrite, planned)
                with open(os.path.join(folder, "benchmark.md"), "w") as f:
                    f.write("new")
                safe_output.finish_in_place(folder, "benchmark", planned)
            except LUnetError:
                outcome = "refused"
            except _Killed:
                outcome = "killed"
        after = _snapshot(root)
        if outcome == "refused":
            assert after == before
        for rel, value in users.items():
            assert after.get(rel, "missing") == value, (rel, outcome)
        if safe_output.is_complete(folder, "benchmark"):
            assert after.get(os.path.join("bench", "benchmark.md")) == "new" or after == before, outcome
        if outcome == "done":
            assert safe_output.is_complete(folder, "benchmark")


@pytest.mark.parametrize("kill", range(1, 12))
def test_every_kill_point_of_a_replacement_leaves_the_old_or_the_new_folder(kill):
    """The exhaustive version for the common case: an own export replaced with --overwrite."""
    with tempfile.TemporaryDirectory() as root:
        target = os.path.join(root, "model")
        _export(target, "old")
        with _killed_at(kill), contextlib.suppress(_Killed):
            _export(target, "new")
        safe_output.recover(target, "export-onnx")
        assert open(os.path.join(target, "model.onnx")).read() in ("old", "new")
        assert safe_output.is_complete(target, "export-onnx")
