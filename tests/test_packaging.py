"""Packaging: shipped data, import names, and a non-editable install."""

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from fbnetv2_tf.models import zoo
from tests.testing.paths import REPO_ROOT



def test_the_shipped_zoo_files_describe_the_same_models_at_the_same_size():
  archs = json.loads(zoo.ARCHS_FILE.read_text(encoding="utf-8"))
  numbers = json.loads(zoo.NUMBERS_FILE.read_text(encoding="utf-8"))
  assert sorted(archs) == sorted(numbers) == sorted(zoo.names())
  assert len(archs) == 9
  for name in archs:
    published = numbers[name]
    assert zoo.get_arch(name).input_size == published["resolution"], name
    assert published["flops_m"] > 0 and published["params_m"] > 0, name
    assert 0 < published["top_1_accuracy"] < 100, name


def test_the_distribution_installs_one_top_level_package():
  providers = importlib.metadata.packages_distributions()
  ours = sorted(name for name, dists in providers.items()
                if any(d.lower().replace("-", "_") == "fbnetv2_tf"
                       for d in dists))
  assert ours == ["fbnetv2_tf"]


@pytest.mark.slow
def test_non_editable_install_gives_working_binaries(tmp_path):
  target = tmp_path / "site"
  subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                  "--no-build-isolation", "--target", str(target),
                  str(REPO_ROOT)], check=True, capture_output=True)
  assert (target / "fbnetv2_tf" / "models" / "data" / "fbnet_archs.json").exists()
  packages = {p.name for p in target.iterdir() if (p / "__init__.py").exists()}
  assert packages == {"fbnetv2_tf"}  # no generic top-level "tools", "flags"
  assert (target / "fbnetv2_tf" / "tools" / "search.py").exists()
  env = {**os.environ, "PYTHONPATH": str(target)}
  work = tmp_path / "elsewhere"
  work.mkdir()
  result = subprocess.run([str(target / "bin" / "fbnetv2-profile"),
                           "--arch=fbnet_c", "--format=json"], cwd=work,
                          env=env, capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout)["fbnet_c"]["flops_m"] == 378.23344
  imported = subprocess.run(
      [sys.executable, "-c", "import fbnetv2_tf.tools.search as t, "
       "fbnetv2_tf.flags.search as f; print(t.__file__, f.__file__)"],
      cwd=work, env=env, capture_output=True, text=True, check=True)
  assert all(p.startswith(str(target)) for p in imported.stdout.split())
