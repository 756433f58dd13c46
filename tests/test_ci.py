"""CI's entry point and the pytest wrapper Bazel runs each test file with."""

import re
import subprocess
import sys

import pytest

from tests.testing.paths import REPO_ROOT

WRAPPER = REPO_ROOT / "tests" / "testing" / "bazel_pytest.py"


def _readme_test_command() -> str:
  readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
  section = readme[readme.index("Run the whole test suite"):]
  return re.search(r"```sh\n(.*?)\n```", section, re.S).group(1)


def test_ci_runs_exactly_the_readme_test_command_as_one_checked_step():
  script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
  command = re.search(r"^readme_test_command='(.*)'$", script, re.M).group(1)
  assert command == _readme_test_command()
  assert '\nbash -c "$readme_test_command"\n' in script
  assert "set -euo pipefail" in script
  # Both Debian packages the tests need are installed before the tests run.
  install = script.index("apt-get install")
  assert install < script.index('\nbash -c "$readme_test_command"')
  assert "dataset-fashion-mnist" in script and "bazel-bootstrap" in script


def _wrapper_status(tmp_path, source):
  (tmp_path / "test_file.py").write_text(source, encoding="utf-8")
  (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n  slow: slow\n")
  result = subprocess.run(
      [sys.executable, str(WRAPPER), str(tmp_path / "test_file.py"), "-m",
       "not slow"], cwd=tmp_path, capture_output=True, text=True, check=False,
      timeout=120)
  return result.returncode


@pytest.mark.parametrize("source, status", [
    ("def test_ok():\n  assert True\n", 0),
    ("def test_broken():\n  assert 1 == 2\n", 1),
    # Every test slow and deselected: nothing to run here, and that is fine.
    ("import pytest\n@pytest.mark.slow\ndef test_long():\n  pass\n", 0),
    # Nothing collected at all (no tests, or a misnamed one) is a failure.
    ("def check_misnamed():\n  assert True\n", 5),
    ("", 5),
])
def test_the_bazel_wrapper_passes_only_files_whose_tests_ran_or_were_slow(
    tmp_path, source, status):
  assert _wrapper_status(tmp_path, source) == status
