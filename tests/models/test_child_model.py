"""Child models: standard layers only, overrides, counting, zoo export parity."""

import keras
import numpy as np
import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.cost.keras_counting import count_keras_model
from fbnetv2_tf.export import parity, tflite
from fbnetv2_tf.layers import ChannelShuffle
from fbnetv2_tf.models import zoo
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.specs.arch_string import parse_arch_string
from tests.testing.models import TINY_ARCH, randomize_batchnorm, random_images

STANDARD_LAYERS = (
    keras.layers.InputLayer, keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
    keras.layers.BatchNormalization, keras.layers.ReLU, keras.layers.Activation,
    keras.layers.Add, keras.layers.Multiply, keras.layers.ZeroPadding2D,
    keras.layers.GlobalAveragePooling2D, keras.layers.Dense,
    keras.layers.Dropout)


def test_tiny_child_is_built_from_standard_layers_only():
  model = build_child_model(TINY_ARCH, num_classes=10)
  kinds = {type(layer) for layer in model.layers}
  assert kinds <= set(STANDARD_LAYERS) | {ChannelShuffle}
  assert ChannelShuffle in kinds  # the g2 block with an expand conv
  assert model.output.shape == (None, 10)
  assert model.input.shape == (None, 32, 32, 3)


def test_input_size_and_num_classes_can_be_overridden():
  model = build_child_model(zoo.get_arch("FBNetV2_F1"), num_classes=7,
                            input_size=64)
  assert model.input.shape == (None, 64, 64, 3)
  assert model.output.shape == (None, 7)
  counts = count_keras_model(model)
  expected = count_arch(zoo.get_arch("FBNetV2_F1").replace(input_size=64), 7)
  assert (counts.macs, counts.params) == (expected.macs, expected.params)


def _pad_layers(model):
  return [l.name for l in model.layers
          if isinstance(l, keras.layers.ZeroPadding2D)]


def test_a_same_padded_child_has_no_pad_layer_and_the_same_costs():
  same_arch = TINY_ARCH.replace(padding="same")
  symmetric, same = (build_child_model(a, 10) for a in (TINY_ARCH, same_arch))
  # The stem and the strided k5 depthwise conv pad explicitly; the strided
  # skip is a 1x1 conv, which needs no padding.
  assert _pad_layers(symmetric) == ["s0_b0_pad", "s1_b1_dw_pad"]
  assert _pad_layers(same) == []
  assert same.output.shape == symmetric.output.shape
  assert [l.output.shape for l in same.layers if l.weights] == [
      l.output.shape for l in symmetric.layers if l.weights]
  counted = count_arch(TINY_ARCH, 10)
  assert count_arch(same_arch, 10) == counted
  for model in (symmetric, same):
    keras_counts = count_keras_model(model)
    assert (keras_counts.macs, keras_counts.params) == (counted.macs,
                                                        counted.params)


def test_a_same_padded_child_converts_without_a_pad_op():
  from fbnetv2_tf.export import graph  # pylint: disable=g-import-not-at-top
  pads = {padding: graph.op_counts(tflite.convert_to_tflite(
      build_child_model(parse_arch_string(
          f"p@16/4+{padding}: conv_k3-c8-s2 | ir_k5-c8-s2-e2 | skip-c16-s2"),
                        10))).get("PAD", 0)
          for padding in ("symmetric", "same")}
  assert pads == {"symmetric": 2, "same": 0}


@pytest.mark.parametrize("name", zoo.names())
def test_keras_counter_agrees_with_spec_counter(name):
  arch = zoo.get_arch(name)
  keras_counts = count_keras_model(build_child_model(arch))
  spec_counts = count_arch(arch)
  assert keras_counts.macs == spec_counts.macs
  assert keras_counts.params == spec_counts.params


def test_keras_counter_on_mobilenet_v2_matches_published_figures():
  # MobileNetV2 1.0 at 224: 300 M MACs, 3.4 M parameters (arXiv 1801.04381).
  counts = count_keras_model(keras.applications.MobileNetV2(weights=None))
  assert counts.mflops == pytest.approx(300, rel=0.01)
  assert counts.mparams == pytest.approx(3.4, rel=0.03)


def test_tiny_child_trains_one_step():
  model = build_child_model(TINY_ARCH, num_classes=4)
  model.compile(optimizer="sgd",
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  x, y = random_images((8, 32, 32, 3)), np.arange(8) % 4
  kernels = [w for w in model.trainable_weights if "kernel" in w.path]
  before = [np.array(w) for w in kernels]
  model.fit(x, y, epochs=1, verbose=0)
  # Every conv and dense kernel gets a gradient. (Some BN gammas legitimately
  # do not: a per-channel scale before ReLU and a depthwise conv is undone by
  # the next BN in training mode.)
  unchanged = [w.path for b, w in zip(before, kernels)
               if np.array_equal(b, np.asarray(w))]
  assert len(kernels) == 19 and not unchanged


def _check_forward_save_and_tflite(model, tmp_path):
  randomize_batchnorm(model)
  x = random_images((1, *model.input.shape[1:]))
  logits = np.asarray(model(x, training=False))
  assert np.isfinite(logits).all() and np.abs(logits).max() > 0.1

  path = tmp_path / "model.keras"
  model.save(path)
  reloaded = keras.models.load_model(path)
  np.testing.assert_array_equal(np.asarray(reloaded(x, training=False)), logits)

  check = parity.check_parity(model, tflite.convert_to_tflite(model))
  assert check.ok, check


def test_tiny_child_saves_and_exports_with_parity(tmp_path):
  _check_forward_save_and_tflite(build_child_model(TINY_ARCH, 10), tmp_path)


# One per family and the largest: the zoo's models share their blocks, and
# benchmarks/export_table.py converts and checks all nine (the full
# parametrization cost CI about three minutes).
@pytest.mark.slow
@pytest.mark.parametrize("name", ["fbnet_a", "FBNetV2_F1", "FBNetV2_L2"])
def test_zoo_model_saves_and_exports_with_parity(name, tmp_path):
  """At the model's own resolution and 1000 classes, fp32, batch 1."""
  assert name in zoo.names()
  _check_forward_save_and_tflite(build_child_model(zoo.get_arch(name)),
                                 tmp_path)
