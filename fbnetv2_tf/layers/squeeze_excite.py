"""Squeeze-excite with an h-sigmoid gate (the reference ``_sehsig`` blocks)."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class SqueezeExcite(composite.CompositeBlock):
  """Global pool, 1x1 conv to ``se_channels`` (bias), activation, 1x1 conv
  back to ``channels`` (bias), h-sigmoid ``relu6(x + 3) / 6``, channel-wise
  multiply with the input.
  """

  def __init__(self, channels, se_channels, activation="relu", **kwargs):
    super().__init__(**kwargs)
    self.channels = channels
    self.se_channels = se_channels
    self.activation = activation
    n = self.name
    self.pool = keras.layers.GlobalAveragePooling2D(keepdims=True,
                                                    name=f"{n}_pool")
    self.reduce = keras.layers.Conv2D(se_channels, 1, name=f"{n}_reduce")
    self.act = composite.activation_layer(activation, f"{n}_act")
    self.expand = keras.layers.Conv2D(channels, 1, name=f"{n}_expand")
    self.gate = keras.layers.Activation("hard_sigmoid", name=f"{n}_gate")
    self.scale = keras.layers.Multiply(name=f"{n}_scale")

  def forward(self, x, training=None, se_mask=None):
    s = composite.apply(self.act, self.reduce(self.pool(x)))
    if se_mask is not None:  # supernet: searched SE width
      s = s * se_mask
    s = self.gate(self.expand(s))
    return self.scale([x, s])

  def get_config(self):
    return {**super().get_config(), "channels": self.channels,
            "se_channels": self.se_channels, "activation": self.activation}
