"""The documentation cannot drift from the command line: every ``nnunet-lunet ...`` and ``nnUNetv2_...`` command line in
README.md, docs/*.md and benchmarks/**/README.md parses with the real argument parser (unknown flags and missing
required arguments fail), and every relative link in those files resolves.

Where command lines are found: fenced code blocks (a line, or a ``&&`` chain, whose part starts with the command,
after an optional ``.venv/bin/`` style prefix; ``\\`` continues a line; ``#`` starts a comment) and inline code spans
that start with the command. A bare program name (``nnunet-lunet``, ``nnUNetv2_train``) is a mention, not a command
line, and ``nnunet-lunet SUBCOMMAND`` alone names the subcommand (checked to exist, with ``--help``). Usage notation is read as documentation writes it: ``[...]`` marks optional arguments, which are checked as if
given; ``a|b`` offers alternatives, of which the first is checked.

How a command is checked without running it: ``nnunet-lunet`` through ``nnunet_lunet.cli.build_parser``; nnU-Net's
console scripts by calling their entry-point function (found in the installed package's metadata) with
``ArgumentParser.parse_known_args`` replaced by one that parses strictly (no abbreviated flags, no leftover
arguments, which some of nnU-Net's entry points would ignore) and then stops the function before it does anything.
"""

import argparse
import contextlib
import io
import os
import re
import shlex
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

from nnunet_lunet.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ("nnunet-lunet", "nnUNetv2_")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def doc_files() -> List[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "benchmarks").glob("**/README.md"))]
    return [f for f in files if f.is_file()]


def _command_at(part: str) -> Optional[str]:
    """``part`` from its program name on, if it is a command line (program and at least one argument)."""
    words = part.strip().split(None, 1)
    if len(words) < 2:
        return None
    program = words[0].rsplit("/", 1)[-1]
    return f"{program} {words[1]}" if program.startswith(PROGRAMS) else None


def commands_in(text: str) -> Iterator[str]:
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            for part in re.sub(r"(^|\s)#.*", "", line).split("&&"):
                command = _command_at(part)
                if command:
                    yield command
    for span in INLINE.findall(FENCE.sub("", text)):
        command = _command_at(span.replace("\n", " "))
        if command and span.lstrip().startswith(PROGRAMS):
            yield command


def argv_of(command: str) -> List[str]:
    """The command's words, with usage notation resolved: brackets dropped, the first of ``a|b`` alternatives."""
    words = shlex.split(command.replace("[", " ").replace("]", " "))
    return [w.split("|")[0] if "|" in w else w for w in words]


def documented_commands() -> List[Tuple[str, str]]:
    found = [(str(f.relative_to(ROOT)), c) for f in doc_files() for c in commands_in(f.read_text(encoding="utf-8"))]
    return sorted(set(found))


class _Parsed(Exception):
    pass


@contextlib.contextmanager
def _strict_parsing():
    """``ArgumentParser.parse_known_args`` made strict and final while inside: no abbreviated flags (a misspelt
    ``--match-parameter`` must not pass as ``--match-parameters``), leftover arguments refused (some of nnU-Net's entry
    points would ignore them), and once the top-level parse succeeds, ``_Parsed`` stops the program."""
    original = argparse.ArgumentParser.parse_known_args
    depth = [0]

    def parse_then_stop(self, args=None, namespace=None):
        self.allow_abbrev = False
        depth[0] += 1
        try:
            namespace, extras = original(self, args, namespace)
        finally:
            depth[0] -= 1
        if depth[0]:  # a sub-parser inside the top-level parse
            return namespace, extras
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        raise _Parsed()

    argparse.ArgumentParser.parse_known_args = parse_then_stop
    try:
        yield
    finally:
        argparse.ArgumentParser.parse_known_args = original


def _run_until_parsed(program: str, args: List[str]) -> None:
    """Run ``program`` up to its argument parsing: SystemExit(2) with argparse's message on bad arguments."""
    if program == "nnunet-lunet":
        build_parser().parse_args(args if len(args) > 1 else [*args, "--help"])
        return
    matches = entry_points(group="console_scripts", name=program)
    if not matches:
        raise AssertionError(f"{program} is not an installed nnU-Net console script")
    entry = next(iter(matches)).load()
    saved_argv, sys.argv = sys.argv, [program, *args]
    try:
        entry()
    finally:
        sys.argv = saved_argv
    raise AssertionError(f"{program} returned without parsing its arguments")


def parse_error(command: str) -> Optional[str]:
    """argparse's message for ``command``, or None when it parses."""
    program, *args = argv_of(command)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()), _strict_parsing():
            _run_until_parsed(program, args)
    except _Parsed:
        return None
    except SystemExit as e:
        if e.code not in (0, None):
            lines = stderr.getvalue().strip().splitlines()
            return lines[-1] if lines else f"exit {e.code}"
    return None


DOCUMENTED = documented_commands()


def test_the_docs_show_commands_of_both_programs():
    programs = {argv_of(c)[0] for _, c in DOCUMENTED}
    assert "nnunet-lunet" in programs and "nnUNetv2_train" in programs, programs
    assert len(DOCUMENTED) >= 20, DOCUMENTED


@pytest.mark.parametrize("source,command", DOCUMENTED, ids=[f"{s}:{c[:60]}" for s, c in DOCUMENTED])
def test_documented_command_parses(source, command):
    error = parse_error(command)
    assert error is None, f"{source}: `{command}` does not parse: {error}"


@pytest.mark.parametrize("command,expected", [
    ("nnunet-lunet plan -d 4 --widht 16", "unrecognized arguments: --widht"),
    ("nnunet-lunet export-onnx -d 4 -c 3d_fullres -f 0 -o out", "required: -tr"),
    ("nnUNetv2_train 4 3d_fullres 0 -trainer nnUNetTrainerLUnet16", "unrecognized arguments: -trainer"),
    ("nnUNetv2_train 4 3d_fullres", "required: fold"),
    ("nnUNetv2_plan_and_preprocess -d 4 --verify_dataset_integrityy", "unrecognized arguments"),
    ("nnunet-lunet plan -d 4 --match-parameter 16", "unrecognized arguments: --match-parameter"),
    ("nnunet-lunet comparee", "invalid choice"),
])
def test_a_wrong_command_is_caught(command, expected):
    error = parse_error(command)
    assert error is not None and expected in error, error


def test_usage_notation_is_resolved():
    assert argv_of("nnunet-lunet predict -i a -o b -m c [--runtime onnxruntime|openvino] [--disable-tta]") == [
        "nnunet-lunet", "predict", "-i", "a", "-o", "b", "-m", "c", "--runtime", "onnxruntime", "--disable-tta"]
    text = "```bash\n.venv/bin/pip install . && .venv/bin/nnunet-lunet demo --workdir x  # comment\n" \
           "nnUNetv2_train 4 3d_fullres 0 \\\n  -tr T\n```\nthe `nnunet-lunet` CLI, `nnunet-lunet plan -d 4`\n"
    assert list(commands_in(text)) == ["nnunet-lunet demo --workdir x", "nnUNetv2_train 4 3d_fullres 0    -tr T",
                                       "nnunet-lunet plan -d 4"]


def relative_links() -> List[Tuple[str, str]]:
    links = []
    for f in doc_files():
        for target in LINK.findall(FENCE.sub("", f.read_text(encoding="utf-8"))):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#"):
                links.append((str(f.relative_to(ROOT)), target))
    return links


def test_the_docs_have_relative_links():
    assert len(relative_links()) >= 20


@pytest.mark.parametrize("source,target", relative_links())
def test_relative_link_resolves(source, target):
    path = (ROOT / source).parent / target.split("#", 1)[0]
    assert path.exists(), f"{source}: link {target} points to nothing ({os.path.relpath(path, ROOT)} does not exist)"
