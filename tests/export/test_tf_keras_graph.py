"""The tf_keras rebuild that QAT trains computes what the Keras 3 child
computes, with the same weights."""

import keras
import numpy as np

from fbnetv2_tf.export import tf_keras_graph
from fbnetv2_tf.models.child_model import build_child_model
from tests.testing.models import TINY_ARCH, randomize_batchnorm, random_images


def test_the_rebuild_matches_keras_on_every_block_kind():
  # TINY_ARCH has a g2 block (channel shuffle), squeeze-excite with a hard
  # sigmoid, h-swish, skips and a pooling head.
  keras.utils.set_random_seed(0)
  model = build_child_model(TINY_ARCH, num_classes=7, input_channels=1)
  randomize_batchnorm(model)
  rebuilt = tf_keras_graph.to_tf_keras(model)
  x = random_images((4, 32, 32, 1))
  expected = np.asarray(model(x, training=False))
  got = rebuilt(x, training=False).numpy()
  # Logits of order one (not the near-zero of a fresh network): a real test.
  assert np.max(np.abs(expected)) > 0.3
  np.testing.assert_allclose(got, expected,
                             atol=1e-5 * max(1.0, np.max(np.abs(expected))))
  assert rebuilt.count_params() == model.count_params()
  names = {type(l).__name__ for l in rebuilt.layers}
  assert {"Permute", "Multiply", "DepthwiseConv2D"} <= names


def test_keras_3_hard_sigmoid_is_not_tf_keras_hard_sigmoid():
  # tf_keras' function of that name has slope 0.2: the rebuild must not use it.
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tf_keras  # pylint: disable=import-outside-toplevel
  x = tf.constant([-2.0, 1.0])
  np.testing.assert_allclose(tf_keras_graph.hard_sigmoid(x), [1 / 6, 4 / 6],
                             rtol=1e-6)
  assert not np.allclose(tf_keras.activations.hard_sigmoid(x),
                         tf_keras_graph.hard_sigmoid(x))
