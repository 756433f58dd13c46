"""Search layers: Gumbel decisions, channel masks, mixing, masked blocks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf import layers
from fbnetv2_tf.layers.channel_mask import ChannelMask, prefix_masks
from fbnetv2_tf.layers.gumbel import ArchDecision
from fbnetv2_tf.layers.masked_inverted_residual import MaskedInvertedResidual
from fbnetv2_tf.layers.mixed_block import MixedBlock
from tests.testing.configs import assert_config_holds_init_arguments
from tests.testing.models import random_images


def _decision(logits, mode="soft", seed=0):
  d = ArchDecision(len(logits), mode=mode, seed=seed)
  d.logits.assign(np.asarray(logits, "float32"))
  return d


def test_soft_weights_are_a_distribution_and_follow_the_logits():
  d = _decision([2.0, 0.0, -2.0])
  samples = np.stack([np.asarray(d()) for _ in range(400)])
  np.testing.assert_allclose(samples.sum(axis=1), 1.0, rtol=1e-5)
  assert (samples.argmax(axis=1) == 0).mean() > 0.5


def test_temperature_changes_the_sharpness():
  d = _decision([1.0, 0.0, -1.0], seed=3)
  def mean_max(t):
    d.temperature.assign(t)
    return np.mean([np.asarray(d()).max() for _ in range(300)])
  hot, cold = mean_max(5.0), mean_max(0.1)
  assert cold > 0.95 and hot < 0.6 and cold > hot


def test_hard_mode_is_one_hot_with_soft_gradients():
  d = _decision([0.5, 0.0, -0.5], mode="hard")
  with tf.GradientTape() as tape:
    g = d()
    loss = tf.reduce_sum(g * tf.constant([1.0, 2.0, 3.0]))
  assert sorted(np.asarray(g).tolist()) == [0.0, 0.0, 1.0]
  grad = tape.gradient(loss, d.logits).numpy()
  assert np.all(np.abs(grad) > 0)


def test_argmax_mode_is_deterministic():
  d = _decision([0.1, 0.9, 0.3], mode="argmax")
  for _ in range(3):
    np.testing.assert_array_equal(np.asarray(d()), [0, 1, 0])


def test_decisions_are_reproducible_by_seed():
  a, b = _decision([0.0] * 4, seed=7), _decision([0.0] * 4, seed=7)
  np.testing.assert_array_equal(np.asarray(a()), np.asarray(b()))


def test_masks_are_prefix_masks_and_effective_width_is_expected_width():
  np.testing.assert_array_equal(prefix_masks([1, 3], 4),
                                [[1, 0, 0, 0], [1, 1, 1, 0]])
  mask = ChannelMask([2, 4, 8], 8)
  g = np.array([0.5, 0.3, 0.2], "float32")
  m = np.asarray(mask.mask(g))
  np.testing.assert_allclose(m, [1, 1, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2], rtol=1e-6)
  assert np.all(np.diff(m) <= 0)  # non-increasing: a prefix structure
  assert float(mask.effective_channels(g)) == pytest.approx(
      0.5 * 2 + 0.3 * 4 + 0.2 * 8)
  x = np.ones((1, 2, 2, 8), "float32")
  np.testing.assert_allclose(np.asarray(mask(x, weights=g))[0, 0, 0], m)


def test_mask_gradient_reaches_every_option():
  mask = ChannelMask([2, 4, 8], 8)
  g = tf.Variable([0.2, 0.3, 0.5])
  x = tf.constant(random_images((1, 3, 3, 8)))
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(mask(x, weights=g)))
  assert np.all(np.abs(tape.gradient(loss, g).numpy()) > 0)


def test_per_example_samples_are_independent_distributions():
  d = _decision([0.0, 0.0, 0.0], seed=5)
  g = np.asarray(d(batch_size=64))
  assert g.shape == (64, 3)
  np.testing.assert_allclose(g.sum(axis=1), 1.0, rtol=1e-5)
  # Independent noise per example: every option wins somewhere.
  assert set(g.argmax(axis=1)) == {0, 1, 2}


def test_hard_per_example_samples_are_one_hot_rows():
  g = np.asarray(_decision([0.0, 1.0], mode="hard", seed=2)(batch_size=16))
  assert set(np.unique(g)) <= {0.0, 1.0}
  np.testing.assert_array_equal(g.sum(axis=1), 1.0)


def test_argmax_mode_broadcasts_to_the_batch():
  g = np.asarray(_decision([0.0, 3.0, 1.0], mode="argmax")(batch_size=4))
  np.testing.assert_array_equal(g, np.tile([0.0, 1.0, 0.0], (4, 1)))


def test_per_example_masks_mask_each_example_by_its_own_weights():
  mask = ChannelMask([2, 4], 4)
  x = np.ones((2, 3, 3, 4), "float32")
  y = np.asarray(mask(x, weights=np.array([[1.0, 0.0], [0.0, 1.0]], "float32")))
  np.testing.assert_array_equal(y[0, 0, 0], [1, 1, 0, 0])
  np.testing.assert_array_equal(y[1, 0, 0], [1, 1, 1, 1])


def test_mixed_block_mixes_per_example():
  a = layers.ConvBNAct(4, 3, activation=None, name="pa")
  b = layers.ConvBNAct(4, 1, activation="relu", name="pb")
  mixed = MixedBlock([a, b])
  x = random_images((2, 5, 5, 3))
  y = np.asarray(mixed(x, weights=np.array([[1.0, 0.0], [0.3, 0.7]], "float32")))
  np.testing.assert_allclose(y[0], np.asarray(a(x))[0], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
      y[1], 0.3 * np.asarray(a(x))[1] + 0.7 * np.asarray(b(x))[1],
      rtol=1e-5, atol=1e-6)


def test_expand_weight_switches_between_the_expand_conv_and_the_input():
  """mid == in children have no expand conv: weight 0 must be exactly that."""
  block = MaskedInvertedResidual(8, 8, 16, residual=False, expand=True)
  plain = layers.InvertedResidual(8, 8, 8, residual=False)
  x = random_images((1, 4, 4, 8))
  block(x)
  plain(x)
  # Share the depthwise/project weights on the first 8 mid channels.
  plain.dw.set_weights([w[:, :, :8] for w in block.dw.get_weights()])
  for mine, theirs in ((plain.dw_bn, block.dw_bn),):
    mine.set_weights([w[:8] for w in theirs.get_weights()])
  plain.project.conv.set_weights([block.project.conv.get_weights()[0][:, :, :8]])
  plain.project.bn.set_weights(block.project.bn.get_weights())
  y = np.asarray(block(x, expand_weight=np.zeros((1, 1, 1, 1), "float32"),
                       mid_mask=prefix_masks([8], 16)[0]))
  np.testing.assert_allclose(y, np.asarray(plain(x)), atol=1e-5)


def test_mixed_block_is_the_weighted_sum_of_its_candidates():
  a = layers.ConvBNAct(4, 3, activation=None, name="a")
  b = layers.ConvBNAct(4, 1, activation="relu", name="b")
  mixed = MixedBlock([a, b])
  x = random_images((2, 5, 5, 3))
  y = np.asarray(mixed(x, weights=np.array([0.25, 0.75], "float32")))
  expected = 0.25 * np.asarray(a(x)) + 0.75 * np.asarray(b(x))
  np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_masked_inverted_residual_zeroes_masked_channels_after_bn():
  block = MaskedInvertedResidual(8, 8, 24, residual=False, se_channels=8)
  x = random_images((1, 4, 4, 8))
  out_mask = prefix_masks([5], 8)[0]
  y = np.asarray(block(x, mid_mask=prefix_masks([12], 24)[0],
                       se_mask=prefix_masks([4], 8)[0], out_mask=out_mask))
  assert np.all(y[..., 5:] == 0) and np.abs(y[..., :5]).max() > 0


@pytest.mark.parametrize("make", [
    lambda: ArchDecision(3, mode="hard", seed=1),
    lambda: ChannelMask([2, 4], 4),
    lambda: MixedBlock([layers.ConvBNAct(4, 3), layers.ConvBNAct(4, 1)]),
    lambda: MaskedInvertedResidual(8, 8, 16, residual=True, kernel_size=5),
])
def test_search_layers_round_trip_through_their_config(make):
  layer = make()
  assert_config_holds_init_arguments(layer)
  clone = keras.saving.deserialize_keras_object(
      keras.saving.serialize_keras_object(layer))
  assert type(clone) is type(layer)
  assert clone.get_config() == layer.get_config()
