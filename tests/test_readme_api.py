"""The README's "Search from Python" snippet, run as written."""

import re
import subprocess
import sys

import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.cost.keras_counting import count_keras_model
from tests.testing.paths import REPO_ROOT


def _snippet(heading: str) -> str:
  readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
  section = readme[readme.index(heading):]
  return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_readme_search_snippet_derives_an_architecture_within_budget(
    tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  namespace = {}
  exec(compile(_snippet("### Search from Python"), "README.md", "exec"),  # pylint: disable=exec-used
       namespace)
  arch = namespace["arch"]
  # The digits are grayscale: the cost the snippet prints, the budget it met
  # and the Keras model it built all have a 1-channel stem.
  mflops = count_arch(arch, 10, input_channels=1).mflops
  assert 0.27 <= mflops <= 0.3
  assert f"{mflops}" in capsys.readouterr().out
  keras_mflops = count_keras_model(namespace["model"]).mflops
  assert keras_mflops == pytest.approx(mflops, abs=1e-6)


def test_top_level_spec_names_import_no_tensorflow():
  code = ("import sys, fbnetv2_tf as fbn\n"
          "arch = fbn.zoo.get_arch('fbnet_c')\n"
          "print(fbn.count_arch(arch, 1000).mflops, "
          "fbn.spaces.tiny32().name, fbn.SearchSpace.__name__, "
          "fbn.to_arch_string(arch)[:6])\n"
          "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
  result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr
  assert result.stdout.split()[:3] == ["378.23344", "tiny32", "SearchSpace"]


def test_an_unknown_top_level_name_is_an_attribute_error():
  import fbnetv2_tf  # pylint: disable=import-outside-toplevel
  with pytest.raises(AttributeError, match="no attribute 'Supernett'"):
    fbnetv2_tf.Supernett  # pylint: disable=pointless-statement
  assert "Supernet" in dir(fbnetv2_tf)
