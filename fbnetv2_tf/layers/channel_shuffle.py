"""Channel shuffle after a grouped conv (ShuffleNet), used by ``ir_k*_g2``."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ChannelShuffle(keras.layers.Layer):
  """Interleaves the channels of ``groups`` groups.

  Channel ``g * (C / groups) + i`` moves to position ``i * groups + g``, so the
  next grouped conv sees channels from every group. Keras has no such layer;
  this is the one non-standard layer a child model can contain.
  """

  def __init__(self, groups, **kwargs):
    super().__init__(**kwargs)
    self.groups = groups

  def call(self, inputs):
    shape = ops.shape(inputs)
    channels = inputs.shape[-1]
    x = ops.reshape(inputs, (-1, shape[1], shape[2], self.groups,
                             channels // self.groups))
    x = ops.transpose(x, (0, 1, 2, 4, 3))
    return ops.reshape(x, (-1, shape[1], shape[2], channels))

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    return {**super().get_config(), "groups": self.groups}
