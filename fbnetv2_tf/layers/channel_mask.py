"""Channel masking (FBNetV2, arXiv 2004.05565, section 3.1)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def prefix_masks(widths, max_channels: int) -> np.ndarray:
  """Row ``i`` has ones in its first ``widths[i]`` entries: ``1_i``."""
  widths = np.asarray(widths)
  return (np.arange(max_channels)[None, :] < widths[:, None]).astype("float32")


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ChannelMask(keras.layers.Layer):
  """Multiplies a ``max_channels``-wide map by ``M = sum_i g_i 1_i``.

  One feature map at the largest width serves every width option: channel
  ``c`` is kept with the total weight of the options wider than ``c``.

  Args:
    widths: the channel count of each option (duplicates allowed, e.g. when
      several (input width, expansion) pairs round to the same width).
    max_channels: width of the masked tensor (>= max(widths)).
  """

  def __init__(self, widths, max_channels, **kwargs):
    super().__init__(**kwargs)
    self.widths = tuple(int(w) for w in widths)
    self.max_channels = int(max_channels)
    if max(self.widths) > self.max_channels or min(self.widths) < 1:
      raise ValueError(f"widths {self.widths} must lie in 1..{max_channels}")
    self._prefix = prefix_masks(self.widths, self.max_channels)
    # No weights to create from an input shape: built from the start, so
    # Keras does not trace a symbolic call to build it (tf.distribute fit).
    self.built = True

  def mask(self, weights):
    """The ``[max_channels]`` mask for option weights ``[len(widths)]``, or
    the ``[batch, 1, 1, max_channels]`` masks for per-example weights
    ``[batch, len(widths)]``."""
    masks = ops.matmul(ops.reshape(weights, (-1, len(self.widths))),
                       self._prefix)
    if len(weights.shape) == 1:
      return masks[0]
    return ops.reshape(masks, (-1, 1, 1, self.max_channels))

  def call(self, inputs, weights):
    # The mask is computed from the weights as given (float32 decision
    # weights stay float32), then meets the inputs in their dtype.
    return inputs * ops.cast(self.mask(weights), inputs.dtype)

  def effective_channels(self, weights):
    """``sum_i g_i c_i``, the width the cost model charges."""
    return ops.sum(weights * ops.convert_to_tensor(self.widths, "float32"))

  def get_config(self):
    return {**super().get_config(), "widths": list(self.widths),
            "max_channels": self.max_channels}
