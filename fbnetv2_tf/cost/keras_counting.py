"""MACs and parameters of any Keras model, by walking its layers.

Same convention as :mod:`fbnetv2_tf.cost.counting` (conv and dense weights,
no bias or BN, plus one op per input element of a global average pool), so it
can count models that were not built from an ArchSpec, such as
``keras.applications``.
"""

from __future__ import annotations

import math

import keras

from fbnetv2_tf.cost.counting import Counts, LayerCount


def _hwc(shape) -> tuple[int, int, int]:
  dims = tuple(int(d) for d in shape[1:])
  if len(dims) == 1:
    return (1, 1, dims[0])
  return dims[-3:] if len(dims) >= 3 else (1,) + dims


def layer_counts(layer: keras.layers.Layer, input_shape, output_shape
                 ) -> tuple[int, int]:
  """``(macs, params)`` of one layer given its batched shapes."""
  if isinstance(layer, keras.layers.GlobalAveragePooling2D):
    return math.prod(input_shape[1:]), 0
  if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                        keras.layers.Dense)):
    weights = math.prod(layer.kernel.shape)
    positions = math.prod(output_shape[1:-1])
    return weights * positions, weights
  return 0, 0


def count_keras_model(model: keras.Model) -> Counts:
  """Per-layer counts of a built functional or sequential model.

  Nested models are walked recursively; layers that cost nothing under the
  convention (BN, activations, adds, padding) are left out of the rows.
  """
  rows = []
  for layer in model.layers:
    if isinstance(layer, keras.Model):
      rows.extend(count_keras_model(layer).layers)
      continue
    if isinstance(layer.input, (list, tuple)):
      continue  # merge layers (Add, Multiply) cost nothing
    input_shape, output_shape = layer.input.shape, layer.output.shape
    macs, params = layer_counts(layer, input_shape, output_shape)
    if macs or params:
      rows.append(LayerCount(layer.name, type(layer).__name__,
                             _hwc(input_shape), _hwc(output_shape), macs,
                             params))
  return Counts(tuple(rows))
