"""ArchSpec to a plain functional Keras model of standard layers."""

from __future__ import annotations

import keras

from fbnetv2_tf import layers
from fbnetv2_tf.layers import composite
from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.arch_spec import ArchSpec
from fbnetv2_tf.specs.plan import ResolvedBlock, resolve


def block_layer(block: ResolvedBlock) -> composite.CompositeBlock:
  """The block layer for one resolved block of an architecture."""
  info = block.info
  common = {"activation": info.activation, "use_bias": block.use_bias,
            "name": block.name}
  if info.kind == ops.CONV:
    return layers.ConvBNAct(block.out_channels, info.kernel,
                            strides=block.stride, padding=block.padding,
                            **common)
  if info.kind == ops.SKIP:
    return layers.Skip(block.in_channels, block.out_channels,
                       strides=block.stride, **common)
  if info.kind == ops.IR_POOL:
    return layers.IRPool(block.out_channels, block.mid_channels, **common)
  return layers.InvertedResidual(
      block.in_channels, block.out_channels, block.mid_channels,
      kernel_size=info.kernel, strides=block.stride,
      se_channels=block.se_channels, expand_groups=info.expand_groups,
      project_groups=block.pwl_groups, padding=block.padding, **common)


def build_child_model(arch: ArchSpec, num_classes: int = 1000,
                      input_size: int | None = None, input_channels: int = 3,
                      dropout_rate: float = 0.0) -> keras.Model:
  """Builds ``arch`` as a functional ``keras.Model`` that outputs logits.

  Every block is inlined, so the model holds only standard Keras layers
  (plus ChannelShuffle for ``_g2`` blocks, which Keras lacks).

  Args:
    arch: the architecture.
    num_classes: classifier outputs.
    input_size: overrides ``arch.input_size`` (square inputs).
    input_channels: image channels.
    dropout_rate: dropout before the classifier.
  """
  if input_size is not None:
    arch = arch.replace(input_size=input_size)
  if num_classes < 1:
    raise ValueError(f"num_classes must be positive, got {num_classes}")
  inputs = keras.Input((arch.input_size, arch.input_size, input_channels),
                       name="image")
  x = inputs
  for block in resolve(arch, input_channels):
    x = block_layer(block).inline(x)
  outputs = layers.ClassifierHead(num_classes, dropout_rate,
                                  name="head").inline(x)
  return keras.Model(inputs, outputs, name=arch.name)
