"""The delegable h-swish form: the same function, a graph XNNPACK keeps
whole in int8, and the ops that split the fused form named."""

import keras
import numpy as np
import pytest

from fbnetv2_tf.export import graph, hswish, tflite
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.specs.arch_string import parse_arch_string

# A stem and two blocks with h-swish (6 activations: the squeeze-excite
# block has three, its gate is a hard-sigmoid), then a ReLU block.
ARCH = parse_arch_string(
    "hs@16: conv_k3_hs-c8-s2 | ir_k3_sehsig_hs-c8-e3, ir_k5_hs-c16-s2-e4"
    " | ir_k3-c16-e3")


@pytest.fixture(scope="module")
def model():
  keras.utils.set_random_seed(0)
  return build_child_model(ARCH, num_classes=5, input_channels=1)


def test_the_forms_are_one_function_in_float(model):
  delegable = hswish.with_hswish_form(model, hswish.DELEGABLE)
  x = np.random.default_rng(0).uniform(-4, 4, (4, 16, 16, 1)).astype("float32")
  # Inputs beyond +-3 reach both linear pieces and the flat one.
  assert np.abs(np.asarray(model(x)) - np.asarray(delegable(x))).max() < 1e-5
  t = np.linspace(-8, 8, 1601, dtype="float32")
  expected = t * np.clip(t + 3, 0, 6) / 6
  assert np.abs(np.asarray(hswish.delegable_hard_swish(t)) - expected).max() < 1e-6


def test_the_clone_shares_every_weight(model):
  delegable = hswish.with_hswish_form(model, hswish.DELEGABLE)
  assert delegable is not model
  assert hswish.count_hard_swish(model) == 6
  assert hswish.count_hard_swish(delegable) == 0
  original = {id(w) for w in model.weights}
  assert {id(w) for w in delegable.weights} == original


def test_fused_and_models_without_hswish_are_returned_as_they_are(model):
  assert hswish.with_hswish_form(model, hswish.FUSED) is model
  relu = build_child_model(parse_arch_string("r@8: conv_k3-c4-s2"), 3, 8, 1)
  assert hswish.with_hswish_form(relu, hswish.DELEGABLE) is relu
  with pytest.raises(ValueError, match="unknown h-swish form 'swish'"):
    hswish.with_hswish_form(model, "swish")


def test_int8_fused_splits_at_every_hswish_and_delegable_stays_whole(model):
  calibration = tflite.random_calibration(model, count=8)
  fused = tflite.convert_to_tflite(model, "int8", calibration)
  delegable = tflite.convert_to_tflite(
      hswish.with_hswish_form(model, hswish.DELEGABLE), "int8", calibration)
  assert graph.op_counts(fused)["HARD_SWISH"] == 6
  assert graph.undelegated_ops(fused) == {"HARD_SWISH": 6}
  assert graph.xnnpack_partitions(fused) == 7
  # Not folded back into HARD_SWISH, and every op on XNNPACK.
  assert "HARD_SWISH" not in graph.op_counts(delegable)
  assert graph.undelegated_ops(delegable) == {}
  assert graph.xnnpack_partitions(delegable) == 1


def test_fp32_keeps_the_fused_op_on_xnnpack(model):
  fused = tflite.convert_to_tflite(model, "fp32")
  assert graph.op_counts(fused)["HARD_SWISH"] == 6
  assert graph.xnnpack_partitions(fused) == 1
  assert graph.undelegated_ops(fused) == {}


def test_the_default_form_follows_the_integer_modes():
  assert hswish.default_form("int8") == hswish.default_form("qat") == "delegable"
  assert hswish.default_form("fp32") == hswish.default_form("fp16") == "fused"
