"""--precision, --jit_compile and --deterministic: their flags, how they reach
the jobs, and the one line for an op without a deterministic kernel."""

import json
import subprocess
import sys

import pytest
import tensorflow as tf
from absl import flags

from fbnetv2_tf import cli
from tests.testing.paths import REPO_ROOT

# TensorFlow's wordings (its GPU kernels and XLA), as fit raises them.
_GRAPH = ("Graph execution error:\n\nDetected at node "
          "gradient_tape/supernet/mul/UnsortedSegmentSum defined at (most "
          "recent call last):\n  File \"tools/search.py\", line 1\n\n{}\n\t "
          "[[{{{{node gradient_tape/supernet/mul/UnsortedSegmentSum}}}}]] "
          "[Op:__inference_multi_step_on_iterator_2231]")


@pytest.mark.parametrize("kind, message, expected", [
    (tf.errors.UnimplementedError, _GRAPH.format(
        "Deterministic GPU implementation of unsorted segment reduction op "
        "not available."),
     "unsorted segment reduction op (node "
     "gradient_tape/supernet/mul/UnsortedSegmentSum)"),
    (tf.errors.InvalidArgumentError,
     "A deterministic GPU implementation of SparseTensorDenseMatmulOp is not "
     "currently available. [Op:SparseTensorDenseMatMul] name: ",
     "SparseTensorDenseMatmulOp (op SparseTensorDenseMatMul)"),
    (tf.errors.UnimplementedError,
     "A deterministic GPU implementation of fused batch-norm backprop, when "
     "training is disabled, is not currently available.",
     "fused batch-norm backprop"),
    (tf.errors.UnimplementedError,
     "HLO instruction %scatter.7 does not have a deterministic "
     "implementation, but run-to-run determinism is required.",
     "%scatter.7"),
])
def test_a_missing_deterministic_kernel_is_named(kind, message, expected):
  assert cli.nondeterministic_op(kind(None, None, message)) == expected


@pytest.mark.parametrize("error", [
    tf.errors.InvalidArgumentError(None, None, "Incompatible shapes: [2] vs. "
                                   "[3]"),
    tf.errors.InternalError(None, None, "A deterministic GPU implementation "
                            "of X is not currently available."),
    tf.errors.UnimplementedError(None, None, "a nondeterministic "
                                 "implementation was chosen"),
    ValueError("A deterministic GPU implementation of X is not currently "
               "available."),
])
def test_other_errors_are_not_taken_for_it(error):
  assert cli.nondeterministic_op(error) is None


def test_the_binary_prints_one_line_naming_the_op_and_the_flag(capsys):
  error = tf.errors.UnimplementedError(None, None, _GRAPH.format(
      "Deterministic GPU implementation of unsorted segment reduction op "
      "not available."))

  def main(argv):
    del argv
    raise error

  flags.DEFINE_boolean("deterministic", True, "as in flags/common.py")
  try:
    with pytest.raises(SystemExit) as exited:
      cli.report_user_errors(main)(["search"])
  finally:
    flags.FLAGS.__delattr__("deterministic")
  assert exited.value.code == 1
  lines = capsys.readouterr().err.splitlines()
  assert lines == [
      "error: unsorted segment reduction op (node gradient_tape/supernet/mul/"
      "UnsortedSegmentSum) has no deterministic implementation on this "
      "device; rerun with --nodeterministic (results then vary run to run)"]


def test_any_other_tensorflow_error_keeps_its_traceback():
  error = tf.errors.InvalidArgumentError(None, None, "Incompatible shapes")

  def main(argv):
    del argv
    raise error

  with pytest.raises(tf.errors.InvalidArgumentError):
    cli.report_user_errors(main)(["search"])


def _tool(binary, *args):
  return subprocess.run([sys.executable, "-m", f"tools.{binary}", *args],
                        cwd=REPO_ROOT, capture_output=True, text=True,
                        timeout=120, check=False,
                        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3",
                             "PYTHONPATH": str(REPO_ROOT)})


@pytest.mark.parametrize("binary", ["search", "train"])
def test_an_unknown_precision_is_absl_s_one_line_error(binary, tmp_path):
  result = _tool(binary, "--precision=bogus", "--arch=FBNetV2_F1",
                 f"--output_dir={tmp_path}")
  assert result.returncode != 0
  assert "Traceback" not in result.stderr, result.stderr
  first = result.stderr.strip().splitlines()[0]
  assert "--precision=bogus" in first
  assert "float32|mixed_float16|mixed_bfloat16" in first


# Runs a binary's main with its job function replaced by one that prints the
# job's compute fields: the flags' way into SearchJob and TrainJob, without
# training.
_CAPTURE = """
import dataclasses, json, sys
from fbnetv2_tf.training import child, search_job
def capture(*args):
  job = next(a for a in args if dataclasses.is_dataclass(a)
             and hasattr(a, "precision"))
  print(json.dumps({k: getattr(job, k) for k in
                    ("precision", "jit_compile", "deterministic")}))
  sys.exit(0)
search_job.run_search = capture
child.train_child = capture
binary = sys.argv.pop(1)
sys.argv[0] = binary
__import__(f"tools.{binary}", fromlist=["run"]).run()
"""


# The flags' defaults, without importing TensorFlow.
_DEFAULTS = """
import json, sys
from absl import flags
from fbnetv2_tf import cli
getattr(cli.flag_definitions(sys.argv[1]), f"define_{sys.argv[1]}_flags")()
print(json.dumps({k: flags.FLAGS[k].default for k in
                  ("precision", "jit_compile", "deterministic")}))
"""


@pytest.mark.parametrize("binary, args", [
    # A space of one input size: XLA cannot compile a resolution decision.
    ("search", ["--max_train_images=100", "--space=mnv3_small32"]),
    ("train", ["--arch=t@16/4: conv_k3-c8-s2 | ir_k3-c8-e3",
               "--max_train_images=100"]),
])
def test_the_flags_reach_the_job_and_flags_json(binary, args, tmp_path):
  defaults = subprocess.run([sys.executable, "-c", _DEFAULTS, binary],
                            cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=60, check=True)
  assert json.loads(defaults.stdout) == {
      "precision": "float32", "jit_compile": False, "deterministic": True}
  chosen = subprocess.run(
      [sys.executable, "-c", _CAPTURE, binary, f"--output_dir={tmp_path}",
       "--batch_size=16", *args, "--precision=mixed_bfloat16",
       "--jit_compile", "--nodeterministic"], cwd=REPO_ROOT,
      capture_output=True, text=True, timeout=120, check=False)
  assert chosen.returncode == 0, chosen.stderr[-2000:]
  expected = {"precision": "mixed_bfloat16", "jit_compile": True,
              "deterministic": False}
  assert json.loads(chosen.stdout.splitlines()[-1]) == expected
  recorded = json.loads((tmp_path / "flags.json").read_text())
  assert {k: recorded[k] for k in expected} == expected
