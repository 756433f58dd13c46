"""Runs the project's binaries in a subprocess, as a user would."""

import os
import subprocess
import sys

from tests.testing.paths import REPO_ROOT


def run_tool(name: str, *args: str, cwd=REPO_ROOT, timeout: int = 300
             ) -> subprocess.CompletedProcess:
  """``python -m tools.NAME ARGS`` from the checkout; captures text output."""
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
  return subprocess.run([sys.executable, "-m", f"tools.{name}", *args],
                        cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=timeout, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments):
  """Non-zero exit, no traceback, and one stderr line holding ``fragments``."""
  assert result.returncode != 0, result.stdout
  assert "Traceback" not in result.stderr, result.stderr
  lines = [l for l in result.stderr.splitlines() if l.startswith("error:")]
  assert len(lines) == 1, result.stderr
  for fragment in fragments:
    assert fragment in lines[0], lines[0]


def run_example(name: str, cwd, timeout: int = 900
                ) -> subprocess.CompletedProcess:
  """``python examples/NAME`` in ``cwd`` with only the checkout importable,
  as a user who copied the command from the README would run it."""
  return subprocess.run(
      [sys.executable, str(REPO_ROOT / "examples" / name)], cwd=cwd,
      capture_output=True, text=True, check=False, timeout=timeout,
      env={"PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": "/usr/bin:/bin"})
