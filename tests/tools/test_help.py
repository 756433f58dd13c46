"""--help and --helpshort describe each binary and list all of its flags, in
the installed console script and in ``python -m tools.NAME``."""

import json
import os
import subprocess
import sys
import sysconfig

import pytest

from tests.testing.paths import REPO_ROOT

BINARIES = ("search", "train", "export", "profile", "build_lut",
            "validate_lut", "benchmark", "derive")

_OWN_FLAGS = """
import json, sys
from absl import flags
from fbnetv2_tf import cli
before = set(flags.FLAGS)
getattr(cli.flag_definitions(sys.argv[1]), f"define_{sys.argv[1]}_flags")()
print(json.dumps(sorted(set(flags.FLAGS) - before)))
"""


def _own_flags(binary):
  out = subprocess.run([sys.executable, "-c", _OWN_FLAGS, binary],
                       cwd=REPO_ROOT, capture_output=True, text=True,
                       check=True).stdout
  return json.loads(out)


def _help(command, option):
  return subprocess.run([*command, option], cwd=REPO_ROOT, capture_output=True,
                        text=True, timeout=120, check=False,
                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("option", ["--help", "--helpshort"])
def test_help_shows_the_description_and_every_own_flag(binary, option):
  script = os.path.join(sysconfig.get_path("scripts"), f"fbnetv2-{binary.replace('_', '-')}")
  flags_of_binary = _own_flags(binary)
  assert len(flags_of_binary) >= 4
  module_doc = __import__(f"tools.{binary}", fromlist=["_"]).__doc__
  for command in ([sys.executable, "-m", f"tools.{binary}"], [script]):
    result = _help(command, option)
    text = result.stdout  # absl exits 1 after help, by design
    assert "Traceback" not in result.stderr, result.stderr
    assert module_doc.splitlines()[0] in text
    # absl lists a boolean flag as --[no]name.
    listed = {line.split(":")[0].strip()[2:].removeprefix("[no]")
              for line in text.splitlines() if line.startswith("  --")}
    assert listed == set(flags_of_binary), command
