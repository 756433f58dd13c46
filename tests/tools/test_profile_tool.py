"""tools/profile.py end to end: JSON and text output, and one-line errors."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.models import zoo
from fbnetv2_tf.specs import archs_from_json, to_arch_string
from tests.testing.cli import assert_one_line_error, run_tool

TWO_MODELS = {
    "wd1": {"input_size": 64, "width_divisor": 1, "stages": [
        [{"op": "conv_k3", "out": 10, "stride": 2, "repeat": 1}],
        [{"op": "ir_k3", "out": 10, "stride": 1, "repeat": 2,
          "expansion": 2.5, "bias": True}],
        [{"op": "skip", "out": 20, "stride": 2, "repeat": 1}]]},
    "wd8": {"input_size": 32, "width_divisor": 8, "stages": [
        [{"op": "conv_k3_hs", "out": 16, "stride": 2, "repeat": 1}],
        [{"op": "ir_k5_sehsig_hs", "out": 24, "stride": 2, "repeat": 1,
          "expansion": 4}],
        [{"op": "ir_pool_hs", "out": 128, "stride": 1, "repeat": 1,
          "expansion": 6}]]},
}


def _json_counts(*args):
  result = run_tool("profile", "--format=json", *args)
  assert result.returncode == 0, result.stderr
  return json.loads(result.stdout)


def test_json_on_a_file_reports_every_model(tmp_path):
  path = tmp_path / "archs.json"
  path.write_text(json.dumps(TWO_MODELS))
  got = _json_counts(f"--arch={path}")
  archs = archs_from_json(TWO_MODELS)
  assert list(got) == ["wd1", "wd8"]
  for name, arch in archs.items():
    counts = count_arch(arch)
    assert got[name] == {"flops_m": counts.mflops, "params_m": counts.mparams,
                         "input_size": arch.input_size}


def test_json_on_the_shipped_archs_file_matches_published_numbers():
  published = json.loads(zoo.NUMBERS_FILE.read_text())
  got = _json_counts(f"--arch={zoo.ARCHS_FILE}")
  assert set(got) == set(published)
  for name, figures in published.items():
    assert got[name]["flops_m"] == pytest.approx(figures["flops_m"], rel=1e-3)
    assert got[name]["params_m"] == pytest.approx(figures["params_m"], rel=1e-3)


def test_zoo_name_arch_string_and_overrides():
  arch = zoo.get_arch("FBNetV2_F1")
  by_string = _json_counts(f"--arch={to_arch_string(arch)}", "--input_size=96",
                           "--num_classes=10")
  expected = count_arch(arch.replace(input_size=96), num_classes=10)
  assert by_string["FBNetV2_F1"]["flops_m"] == expected.mflops
  assert by_string["FBNetV2_F1"]["input_size"] == 96
  assert _json_counts("--arch=fbnetv2-f1")["FBNetV2_F1"]["flops_m"] == 56.41056


def test_text_format_has_a_row_per_block_and_totals():
  result = run_tool("profile", "--arch=FBNetV2_F1")
  assert result.returncode == 0, result.stderr
  lines = result.stdout.splitlines()
  assert lines[0] == "FBNetV2_F1 (128x128)"
  assert lines[1].split() == ["layer", "op", "input", "output", "MACs", "params"]
  assert lines[2].split() == ["s0_b0", "conv_k3_hs", "128x128x3", "64x64x8",
                              "884,736", "216"]
  assert lines[-1] == "total: 56.4106 MFLOPs (MACs), 5.999408 M params"


@pytest.mark.parametrize("arch, fragments", [
    ('{"m": {"input_size": 32, "stages": [[{"op": "conv_k3", "out": 8, '
     '"stride": 3}]]}}', ("m: stage 0, block 0: field 'stride'", "got 3")),
    ('{"m": {"input_size": 32, "stages": [[{"op": "ir_k4", "out": 8, '
     '"stride": 1, "expansion": 1}]]}}', ("m: stage 0, block 0: field 'op'",
                                           "ir_k4")),
    ('{"m": {"input_size": 32, "stages": [[{"out": 8, "stride": 1}]]}}',
     ("m: stage 0, block 0", "missing field 'op'")),
    ("{not json", ("invalid JSON", "line 1")),
])
def test_bad_arch_files_give_one_line_errors(tmp_path, arch, fragments):
  path = tmp_path / "bad.json"
  path.write_text(arch)
  assert_one_line_error(run_tool("profile", f"--arch={path}"), *fragments)


def test_bad_arch_argument_and_bad_string_give_one_line_errors():
  assert_one_line_error(run_tool("profile", "--arch=FBNetV9"),
                        "FBNetV9", "not a zoo model")
  assert_one_line_error(
      run_tool("profile", "--arch=m@16: conv_k3-c8-s2 | ir_k3-c8-s2-e0"),
      "m: stage 1, block 0: field 'expansion'")
  assert_one_line_error(run_tool("profile", "--arch=FBNetV2_F1",
                                 "--input_size=16"), "too small")


@pytest.mark.parametrize("flag", ["--format=xml", "--input_size=0",
                                  "--num_classes=-1", "--bogus=1"])
def test_bad_flags_exit_non_zero_without_traceback(flag):
  result = run_tool("profile", "--arch=FBNetV2_F1", flag)
  assert result.returncode != 0
  assert "Traceback" not in result.stderr
  assert flag.split("=")[0].lstrip("-") in result.stderr


def test_installed_console_script_runs_outside_the_checkout(tmp_path):
  script = pathlib.Path(sys.executable).parent / "fbnetv2-profile"
  if not script.exists():
    script = shutil.which("fbnetv2-profile")
  # The README's install (pip install -e) puts it beside the interpreter.
  assert script, "fbnetv2-profile is not installed"
  result = subprocess.run([str(script), "--arch=FBNetV2_L2", "--format=json"],
                          cwd=tmp_path, capture_output=True, text=True,
                          check=False)
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout)["FBNetV2_L2"]["flops_m"] == 423.912768


def test_positional_arguments_are_rejected():
  assert_one_line_error(run_tool("profile", "--arch=FBNetV2_F1", "extra"),
                        "unexpected arguments: extra")
