"""The command line itself: its parser is built without importing torch (1.3-1.7 s per call: ``--help`` and every
refused command would pay it)."""

import subprocess
import sys


def test_parser_is_built_without_importing_torch():
    code = "import sys; from nnunet_lunet.cli import build_parser; build_parser(); print(sorted(m for m in " \
           "('torch', 'onnxruntime', 'nnunetv2') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
