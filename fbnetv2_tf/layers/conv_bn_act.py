"""Conv + BatchNorm + activation, the basic unit of every block."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ConvBNAct(composite.CompositeBlock):
  """KxK conv + BN + ReLU / h-swish / nothing.

  Args:
    filters: output channels.
    kernel_size: odd spatial kernel size.
    strides: 1 or 2.
    activation: ``"relu"``, ``"hswish"`` or None.
    groups: conv groups.
    use_bias: give the conv a bias.
    use_bn: follow the conv with BatchNormalization.
    padding: how a strided conv pads, ``"symmetric"`` (``k // 2`` on every
      side, the reference models') or ``"same"`` (``composite.PADDINGS``).
  """

  def __init__(self, filters, kernel_size=1, strides=1, activation="relu",
               groups=1, use_bias=False, use_bn=True,
               padding=composite.SYMMETRIC, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.strides = strides
    self.activation = activation
    self.groups = groups
    self.use_bias = use_bias
    self.use_bn = use_bn
    self.padding = padding
    n = self.name
    self.pad = composite.padding_layer(kernel_size, strides, f"{n}_pad",
                                       padding)
    self.conv = keras.layers.Conv2D(
        filters, kernel_size, strides=strides,
        padding=composite.conv_padding(kernel_size, strides, padding),
        groups=groups,
        use_bias=use_bias, kernel_initializer=composite.CONV_INITIALIZER,
        name=f"{n}_conv")
    self.bn = composite.batch_norm(f"{n}_bn") if use_bn else None
    self.act = composite.activation_layer(activation, f"{n}_act")

  def forward(self, x, training=None, out_mask=None):
    """``out_mask`` (supernet) multiplies the activated output."""
    x = composite.apply(self.pad, x)
    x = self.conv(x)
    if self.bn is not None:
      x = self.bn(x, training=training)
    x = composite.apply(self.act, x)
    return x if out_mask is None else x * out_mask

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel_size": self.kernel_size, "strides": self.strides,
            "activation": self.activation, "groups": self.groups,
            "use_bias": self.use_bias, "use_bn": self.use_bn,
            "padding": self.padding}
