"""Packaging: shipped data, import names, and a non-editable install."""

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from fbnetv2_tf.models import zoo
from tests.testing.paths import REFERENCE_DIR, REPO_ROOT



@pytest.mark.parametrize("shipped, reference", [
    (zoo.ARCHS_FILE, "fbnet_archs.json"),
    (zoo.NUMBERS_FILE, "published_numbers.json")])
def test_shipped_zoo_data_equals_the_reference(shipped, reference):
  path = REFERENCE_DIR / reference
  if not path.exists():
    pytest.skip(f"reference data not found at {path}")
  assert json.loads(shipped.read_text()) == json.loads(path.read_text())


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
