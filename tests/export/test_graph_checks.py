"""The graph checks detect what they claim to: each on a model built to
fail it."""

import keras
import numpy as np

from fbnetv2_tf.export import graph, tflite


def _conv_add_bn():
  """A BatchNorm after an Add: nothing to fold it into."""
  inputs = keras.Input((8, 8, 3))
  x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
  x = keras.layers.Add()([x, x])
  bn = keras.layers.BatchNormalization()
  x = bn(x)
  model = keras.Model(inputs, x)
  bn.set_weights([np.full(4, v, "float32") for v in (2.0, 1.0, 0.5, 3.0)])
  return model


def test_an_unfoldable_batch_norm_is_counted():
  assert graph.unfolded_batch_norms(tflite.convert_to_tflite(_conv_add_bn())) == 1


def test_a_batch_norm_after_a_conv_is_folded():
  inputs = keras.Input((8, 8, 3))
  x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
  x = keras.layers.BatchNormalization()(x)
  flatbuffer = tflite.convert_to_tflite(keras.Model(inputs, x))
  assert graph.unfolded_batch_norms(flatbuffer) == 0
  assert graph.op_counts(flatbuffer) == {"CONV_2D": 1}


def test_a_dynamic_batch_is_found():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  model = _conv_add_bn()
  converter = tf.lite.TFLiteConverter.from_keras_model(model)
  flatbuffer = converter.convert()
  assert graph.dynamic_tensors(flatbuffer)
  assert graph.dynamic_tensors(tflite.convert_to_tflite(model)) == []
