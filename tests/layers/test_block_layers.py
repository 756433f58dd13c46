"""Block layers: values, configs, and `.keras` save/reload with equal outputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf import layers
from tests.testing.configs import assert_config_holds_init_arguments
from tests.testing.models import random_images

LAYER_CASES = {
    "conv_bn_act": (lambda: layers.ConvBNAct(8, 3, strides=2,
                                             activation="hswish"),
                    (2, 9, 9, 4)),
    "conv_grouped_bias": (lambda: layers.ConvBNAct(8, 1, groups=2,
                                                   use_bias=True),
                          (2, 5, 5, 4)),
    "inverted_residual": (lambda: layers.InvertedResidual(
        8, 8, 24, kernel_size=5, se_channels=8, activation="hswish"),
                          (2, 8, 8, 8)),
    "inverted_residual_g2": (lambda: layers.InvertedResidual(
        8, 16, 24, strides=2, expand_groups=2, project_groups=2),
                             (2, 8, 8, 8)),
    "conv_bn_act_same": (lambda: layers.ConvBNAct(8, 3, strides=2,
                                                  padding="same"),
                         (2, 8, 8, 4)),
    "inverted_residual_same": (lambda: layers.InvertedResidual(
        8, 16, 24, kernel_size=5, strides=2, padding="same"), (2, 8, 8, 8)),
    "squeeze_excite": (lambda: layers.SqueezeExcite(12, 4), (2, 4, 4, 12)),
    "skip_conv": (lambda: layers.Skip(8, 16, strides=2), (2, 8, 8, 8)),
    "ir_pool": (lambda: layers.IRPool(32, 48), (2, 4, 4, 8)),
    "classifier_head": (lambda: layers.ClassifierHead(10, 0.2), (2, 3, 3, 8)),
    "channel_shuffle": (lambda: layers.ChannelShuffle(2), (2, 3, 3, 8)),
}


def _randomize(layer):
  """Positive random weights (BN variances must stay positive)."""
  rng = np.random.default_rng(1)
  for w in layer.weights:
    w.assign(rng.uniform(0.2, 0.8, w.shape).astype("float32"))


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_saves_and_reloads_with_identical_outputs(case, tmp_path):
  make, shape = LAYER_CASES[case]
  inputs = keras.Input(shape[1:])
  model = keras.Model(inputs, make()(inputs))
  _randomize(model)
  x = random_images(shape)
  expected = np.asarray(model(x, training=False))
  assert np.abs(expected).max() > 1e-3  # a value worth comparing

  path = tmp_path / f"{case}.keras"
  model.save(path)
  reloaded = keras.models.load_model(path)
  np.testing.assert_array_equal(np.asarray(reloaded(x, training=False)),
                                expected)
  assert type(reloaded.layers[1]) is type(model.layers[1])


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_get_config_returns_the_init_arguments(case):
  assert_config_holds_init_arguments(LAYER_CASES[case][0]())


def test_channel_shuffle_interleaves_groups():
  x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)
  y = np.asarray(layers.ChannelShuffle(2)(x)).ravel()
  np.testing.assert_array_equal(y, [0, 3, 1, 4, 2, 5])
  y3 = np.asarray(layers.ChannelShuffle(3)(x)).ravel()
  np.testing.assert_array_equal(y3, [0, 2, 4, 1, 3, 5])


def test_strided_conv_pads_symmetrically():
  layer = layers.ConvBNAct(4, 3, strides=2, activation=None, use_bn=False)
  x = random_images((1, 8, 8, 3))
  y = np.asarray(layer(x))
  kernel = layer.conv.kernel
  symmetric = tf.nn.conv2d(x, kernel, strides=2,
                           padding=[[0, 0], [1, 1], [1, 1], [0, 0]])
  np.testing.assert_allclose(y, symmetric.numpy(), atol=1e-5)
  # TensorFlow's "same" pads only bottom/right at stride 2 on even inputs.
  same = tf.nn.conv2d(x, kernel, strides=2, padding="SAME").numpy()
  assert np.abs(y - same).max() > 1e-3


@pytest.mark.parametrize("kernel,size", [(3, 8), (5, 8), (3, 7), (5, 9)])
def test_a_same_padded_strided_conv_computes_keras_same(kernel, size):
  layer = layers.ConvBNAct(4, kernel, strides=2, activation=None,
                           use_bn=False, padding="same")
  x = random_images((1, size, size, 3))
  y = np.asarray(layer(x))
  assert layer.pad is None
  reference = keras.layers.Conv2D(4, kernel, strides=2, padding="same",
                                  use_bias=False)
  reference.build(x.shape)
  reference.set_weights(layer.conv.get_weights())
  np.testing.assert_allclose(y, np.asarray(reference(x)), atol=1e-5)
  symmetric = layers.ConvBNAct(4, kernel, strides=2, activation=None,
                               use_bn=False)
  symmetric(x)
  symmetric.conv.set_weights(layer.conv.get_weights())
  # Same sizes, another function where "same" pads asymmetrically (even
  # inputs); at odd sizes both pad k // 2 on every side.
  assert np.asarray(symmetric(x)).shape == y.shape
  difference = np.abs(np.asarray(symmetric(x)) - y).max()
  assert difference > 1e-3 if size % 2 == 0 else difference < 1e-5


def test_a_same_padded_inverted_residual_has_no_pad_layer():
  same = layers.InvertedResidual(8, 16, 24, kernel_size=5, strides=2,
                                 padding="same")
  symmetric = layers.InvertedResidual(8, 16, 24, kernel_size=5, strides=2)
  assert same.dw_pad is None and same.dw.padding == "same"
  assert isinstance(symmetric.dw_pad, keras.layers.ZeroPadding2D)
  assert symmetric.dw_pad.padding == ((2, 2), (2, 2))
  assert symmetric.dw.padding == "valid"


@pytest.mark.parametrize("make", [
    lambda: layers.ConvBNAct(8, 3, strides=2, padding="valid"),
    lambda: layers.ConvBNAct(8, 1, padding="SAME"),
    lambda: layers.InvertedResidual(8, 8, 16, padding="reflect"),
])
def test_unknown_padding_is_rejected(make):
  with pytest.raises(ValueError, match="padding: must be one of"):
    make()


def test_squeeze_excite_matches_its_formula():
  se = layers.SqueezeExcite(6, 2, activation="relu")
  x = random_images((1, 3, 3, 6))
  y = np.asarray(se(x))
  _randomize(se)
  y = np.asarray(se(x))
  w1, b1 = (np.asarray(v) for v in se.reduce.weights)
  w2, b2 = (np.asarray(v) for v in se.expand.weights)
  s = x.mean(axis=(1, 2))
  s = np.maximum(s @ w1[0, 0] + b1, 0)
  s = np.clip(s @ w2[0, 0] + b2 + 3, 0, 6) / 6
  np.testing.assert_allclose(y, x * s[:, None, None, :], rtol=1e-5, atol=1e-6)


def test_inverted_residual_adds_input_only_when_shapes_match():
  assert layers.InvertedResidual(8, 8, 16).has_residual
  assert not layers.InvertedResidual(8, 16, 16).has_residual
  assert not layers.InvertedResidual(8, 8, 16, strides=2).has_residual
  block = layers.InvertedResidual(8, 8, 8)  # mid == in: no expand conv
  assert block.expand is None
  x = random_images((1, 4, 4, 8))
  block(x)
  for w in block.project.weights:  # zero projection: output is the input
    w.assign(np.zeros(w.shape, "float32"))
  np.testing.assert_allclose(np.asarray(block(x, training=False)), x,
                             atol=1e-6)


def test_identity_skip_returns_its_input():
  skip = layers.Skip(8, 8)
  assert skip.is_identity and skip.conv is None
  x = random_images((1, 4, 4, 8))
  np.testing.assert_array_equal(np.asarray(skip(x)), x)


def test_unknown_activation_is_rejected():
  with pytest.raises(ValueError, match="unknown activation 'gelu'"):
    layers.ConvBNAct(8, activation="gelu")
