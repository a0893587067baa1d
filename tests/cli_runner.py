"""Run the real console scripts (nnU-Net's and ours) in subprocesses, as a user's shell would."""

import os
import signal
import subprocess
import sys
from typing import Dict, List, Optional

BIN = os.path.dirname(sys.executable)


def run(args: List[str], env: Dict[str, str], check: bool = True, timeout: int = 600,
        cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run ``args[0]`` from this interpreter's bin folder; on an unexpected exit code fail with its output."""
    cmd = [os.path.join(BIN, args[0])] + [str(a) for a in args[1:]]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}\n--- stdout (tail)\n"
                             f"{result.stdout[-4000:]}\n--- stderr (tail)\n{result.stderr[-4000:]}")
    return result


def sigint_as_a_shell_would() -> None:
    """``preexec_fn`` of a process a test interrupts with SIGINT: the default action, as an interactive shell gives
    its commands. A runner started in the background by a non-interactive shell passes SIGINT on as ignored, and
    Python then never raises KeyboardInterrupt, so the test would check nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_refused(result: subprocess.CompletedProcess, *phrases: str) -> None:
    """The command was refused as the package refuses bad input: exit 2, one ``error:`` line, the last (third-party
    import warnings may come before it), no traceback, naming each of ``phrases``."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    errors = [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.strip().splitlines()[-1] == errors[0], result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
