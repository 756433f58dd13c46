"""The efficient last stage ``ir_pool_hs`` of FBNetV2 (as in MobileNetV3)."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite
from fbnetv2_tf.layers.conv_bn_act import ConvBNAct


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class IRPool(composite.CompositeBlock):
  """1x1 conv to ``mid_channels`` + BN + act, global average pool, then a 1x1
  conv to ``out_channels`` with bias and no BN, + act. Output is 1x1 spatial.
  """

  def __init__(self, out_channels, mid_channels, activation="hswish",
               use_bias=False, **kwargs):
    super().__init__(**kwargs)
    self.out_channels = out_channels
    self.mid_channels = mid_channels
    self.activation = activation
    self.use_bias = use_bias
    n = self.name
    self.expand = ConvBNAct(mid_channels, 1, activation=activation,
                            use_bias=use_bias, name=f"{n}_expand")
    self.pool = keras.layers.GlobalAveragePooling2D(keepdims=True,
                                                    name=f"{n}_pool")
    self.project = ConvBNAct(out_channels, 1, activation=activation,
                             use_bias=True, use_bn=False, name=f"{n}_project")

  def forward(self, x, training=None, mid_mask=None, out_mask=None):
    """The optional masks serve the supernet's searched widths."""
    x = composite.apply(self.expand, x, training=training, out_mask=mid_mask)
    return composite.apply(self.project, self.pool(x), out_mask=out_mask)

  def get_config(self):
    return {**super().get_config(), "out_channels": self.out_channels,
            "mid_channels": self.mid_channels, "activation": self.activation,
            "use_bias": self.use_bias}
