"""The ``skip`` block: identity, or a 1x1 conv where the shape changes."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite
from fbnetv2_tf.layers.conv_bn_act import ConvBNAct


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class Skip(composite.CompositeBlock):
  """Identity when in == out and stride == 1; else 1x1 conv + BN + act."""

  def __init__(self, in_channels, out_channels, strides=1, activation="relu",
               use_bias=False, **kwargs):
    super().__init__(**kwargs)
    self.in_channels = in_channels
    self.out_channels = out_channels
    self.strides = strides
    self.activation = activation
    self.use_bias = use_bias
    self.conv = None
    if not self.is_identity:
      self.conv = ConvBNAct(out_channels, 1, strides=strides,
                            activation=activation, use_bias=use_bias,
                            name=f"{self.name}_conv")

  @property
  def is_identity(self) -> bool:
    return self.in_channels == self.out_channels and self.strides == 1

  def forward(self, x, training=None):
    return composite.apply(self.conv, x, training=training)

  def get_config(self):
    return {**super().get_config(), "in_channels": self.in_channels,
            "out_channels": self.out_channels, "strides": self.strides,
            "activation": self.activation, "use_bias": self.use_bias}
