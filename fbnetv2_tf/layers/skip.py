"""The ``skip`` block: identity, or a 1x1 conv where the shape changes."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite
from fbnetv2_tf.layers.conv_bn_act import ConvBNAct


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class Skip(composite.CompositeBlock):
  """Identity when in == out and stride == 1; else 1x1 conv + BN + act.

  ``identity`` overrides that rule (the supernet, at its largest widths,
  needs a conv where a narrower child may be an identity).
  """

  def __init__(self, in_channels, out_channels, strides=1, activation="relu",
               use_bias=False, identity=None, **kwargs):
    super().__init__(**kwargs)
    self.identity = identity
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
    if self.identity is not None:
      return self.identity
    return self.in_channels == self.out_channels and self.strides == 1

  def forward(self, x, training=None, out_mask=None, residual_weight=None):
    """The optional arguments serve the supernet: ``out_mask`` masks the
    conv's output; ``residual_weight`` (the weight of the options under
    which input and output widths are equal) blends in the identity that
    such a child is."""
    if self.conv is None:
      return x
    y = self.conv.inline(x, training=training, out_mask=out_mask)
    if residual_weight is None:
      return y
    return (residual_weight * composite.fit_channels(x, self.out_channels)
            + (1.0 - residual_weight) * y)

  def get_config(self):
    return {**super().get_config(), "in_channels": self.in_channels,
            "out_channels": self.out_channels, "strides": self.strides,
            "activation": self.activation, "use_bias": self.use_bias,
            "identity": self.identity}
