"""Base class of the block layers: a Keras layer that can also be inlined.

A block owns standard Keras sublayers and wires them in :meth:`forward`.
Called as a layer it behaves like any Keras layer. :meth:`inline` applies the
same sublayers directly to a symbolic tensor, so a functional model built with
it contains only the standard layers (Conv2D, BatchNormalization, ...) and
works unchanged with the TFLite converter and quantization tooling. One
definition of each block therefore serves both uses.
"""

from __future__ import annotations

import keras

# The layers' padding names, re-exported.
from fbnetv2_tf.specs.arch_spec import (  # noqa: F401
    PADDINGS, SAME, SYMMETRIC, check_padding)

# BatchNorm settings of the reference PyTorch models (torch defaults:
# momentum 0.1 there is 0.9 here, eps 1e-5).
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5

# Kaiming-normal with fan-out, the init of the reference conv layers.
CONV_INITIALIZER = {"class_name": "VarianceScaling",
                    "config": {"scale": 2.0, "mode": "fan_out",
                               "distribution": "untruncated_normal"}}

RELU = "relu"
HSWISH = "hswish"
ACTIVATIONS = (RELU, HSWISH, None)


def activation_layer(activation: str | None, name: str) -> keras.layers.Layer | None:
  """ReLU, h-swish (``x * relu6(x + 3) / 6``) or nothing."""
  if activation == RELU:
    return keras.layers.ReLU(name=name)
  if activation == HSWISH:
    return keras.layers.Activation("hard_swish", name=name)
  if activation is None:
    return None
  raise ValueError(f"unknown activation {activation!r}; known: relu, hswish")


def batch_norm(name: str) -> keras.layers.BatchNormalization:
  return keras.layers.BatchNormalization(momentum=BN_MOMENTUM,
                                         epsilon=BN_EPSILON, name=name)


# How a strided conv pads (specs.arch_spec.PADDINGS): ``k // 2`` on every
# side with an explicit ZeroPadding2D (the reference models), or Keras'
# ``"same"`` inside the conv (one pixel less at the top and left of an even
# input), which converts to no separate PAD op. Output sizes agree for odd
# kernels.


def _pads_explicitly(kernel_size: int, strides: int, padding: str) -> bool:
  # At stride 1 Keras' "same" is already symmetric for odd kernels.
  check_padding(padding, "padding")
  return padding == SYMMETRIC and strides > 1 and kernel_size > 1


def padding_layer(kernel_size: int, strides: int, name: str,
                  padding: str = SYMMETRIC):
  """The ZeroPadding2D before a conv that pads symmetrically, or None."""
  if _pads_explicitly(kernel_size, strides, padding):
    return keras.layers.ZeroPadding2D(kernel_size // 2, name=name)
  return None


def conv_padding(kernel_size: int, strides: int,
                 padding: str = SYMMETRIC) -> str:
  """The conv's own Keras ``padding`` after ``padding_layer``."""
  return "valid" if _pads_explicitly(kernel_size, strides, padding) else "same"


class CompositeBlock(keras.layers.Layer):
  """A layer made of standard sublayers; subclasses implement ``forward``."""

  def forward(self, x, training=None):
    raise NotImplementedError

  def inline(self, x, training=None, **masks):
    """Applies the sublayers to ``x`` without wrapping them in this layer."""
    y = self.forward(x, training=training, **masks)
    self.built = True
    return y

  def build(self, input_shape):
    # Running forward on a symbolic tensor builds every sublayer with its real
    # input shape, which `.keras` loading needs before it restores weights.
    self.forward(keras.KerasTensor(input_shape))
    super().build(input_shape)

  def call(self, inputs, training=None, **masks):
    return self.forward(inputs, training=training, **masks)


def apply(layer, x, **kwargs):
  """Calls ``layer`` on ``x``; None layers pass ``x`` through."""
  if layer is None:
    return x
  if isinstance(layer, CompositeBlock):
    return layer.inline(x, **kwargs)
  return layer(x, **kwargs)


def fit_channels(x, channels: int):
  """``x`` with its last axis zero-padded or cut to ``channels``.

  The supernet's identity paths join tensors of different largest widths;
  the channels cut off are zero in every child that takes the path (the
  input's own width is at most ``channels`` there).
  """
  from keras import ops  # pylint: disable=g-import-not-at-top
  width = x.shape[-1]
  if width == channels:
    return x
  if width > channels:
    return x[..., :channels]
  return ops.pad(x, [[0, 0]] * (len(x.shape) - 1) + [[0, channels - width]])
