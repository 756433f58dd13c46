"""FBNet block choice: a weighted sum of candidate blocks."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class MixedBlock(keras.layers.Layer):
  """Outputs ``sum_t g_t * b_t(x)`` over candidate layers ``b_t``.

  Every candidate runs on every step, so compute and memory grow linearly
  with the candidates (FBNet, arXiv 1812.03443, section 3.3); channel options
  belong in masks, not in candidates.

  Args:
    candidates: layers mapping the same input to outputs of one shape.
  """

  def __init__(self, candidates, **kwargs):
    super().__init__(**kwargs)
    self.candidates = [keras.saving.deserialize_keras_object(c)
                       if isinstance(c, dict) else c for c in candidates]

  def build(self, input_shape):
    for candidate in self.candidates:
      candidate.build(input_shape)
    super().build(input_shape)

  def call(self, inputs, weights, training=None, candidate_kwargs=None):
    """``weights``: ``[len(candidates)]``, or ``[batch, len(candidates)]``
    for a blend per example; ``candidate_kwargs``: per candidate, extra call
    arguments (e.g. channel masks), or None."""
    total = None
    for t, candidate in enumerate(self.candidates):
      kwargs = candidate_kwargs[t] if candidate_kwargs else {}
      g = weights[..., t]
      if len(weights.shape) == 2:
        g = ops.reshape(g, (-1, 1, 1, 1))
      y = candidate(inputs, training=training, **kwargs)
      # The (float32) decision weights in the activations' dtype under mixed
      # precision; a no-op under float32.
      y = ops.cast(g, y.dtype) * y
      total = y if total is None else total + y
    return total

  def compute_output_shape(self, input_shape):
    return self.candidates[0].compute_output_shape(input_shape)

  def get_config(self):
    return {**super().get_config(),
            "candidates": [keras.saving.serialize_keras_object(c)
                           for c in self.candidates]}
