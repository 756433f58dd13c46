"""Inverted residual (MobileNetV2) block with the FBNet/FBNetV2 options."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite
from fbnetv2_tf.layers.channel_shuffle import ChannelShuffle
from fbnetv2_tf.layers.conv_bn_act import ConvBNAct
from fbnetv2_tf.layers.squeeze_excite import SqueezeExcite


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class InvertedResidual(composite.CompositeBlock):
  """1x1 expand + BN + act, KxK depthwise + BN + act, optional squeeze-excite,
  1x1 project + BN, and a residual add when in == out and stride == 1.

  Args:
    in_channels: input channels.
    out_channels: output channels.
    mid_channels: expanded channels; the expand conv is omitted when equal to
      ``in_channels``.
    kernel_size: depthwise kernel size.
    strides: depthwise stride.
    activation: ``"relu"`` or ``"hswish"``.
    se_channels: squeeze-excite width, 0 for none.
    expand_groups: groups of the expand conv; > 1 adds a channel shuffle.
    project_groups: groups of the project conv.
    use_bias: give the 1x1 and depthwise convs a bias.
    expand: whether to have the expand conv; None: when mid != in.
    residual: whether to add the input; None: when in == out and stride 1.
    padding: how a strided depthwise conv pads (``ConvBNAct``).
  """

  def __init__(self, in_channels, out_channels, mid_channels, kernel_size=3,
               strides=1, activation="relu", se_channels=0, expand_groups=1,
               project_groups=1, use_bias=False, expand=None, residual=None,
               padding=composite.SYMMETRIC, **kwargs):
    super().__init__(**kwargs)
    self.in_channels = in_channels
    self.out_channels = out_channels
    self.mid_channels = mid_channels
    self.kernel_size = kernel_size
    self.strides = strides
    self.activation = activation
    self.se_channels = se_channels
    self.expand_groups = expand_groups
    self.project_groups = project_groups
    self.use_bias = use_bias
    self.expand_conv = expand
    self.residual = residual
    self.padding = padding
    if residual and (in_channels != out_channels or strides != 1):
      raise ValueError("a residual needs in == out channels and stride 1")
    if expand is False and mid_channels != in_channels:
      raise ValueError("without an expand conv, mid must equal in channels")
    n = self.name
    self.expand = self.shuffle = self.se = self.add = None
    if expand or (expand is None and mid_channels != in_channels):
      self.expand = ConvBNAct(mid_channels, 1, activation=activation,
                              groups=expand_groups, use_bias=use_bias,
                              name=f"{n}_expand")
      if expand_groups > 1:
        self.shuffle = ChannelShuffle(expand_groups, name=f"{n}_shuffle")
    self.dw_pad = composite.padding_layer(kernel_size, strides, f"{n}_dw_pad",
                                          padding)
    self.dw = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides,
        padding=composite.conv_padding(kernel_size, strides, padding),
        use_bias=use_bias, depthwise_initializer=composite.CONV_INITIALIZER,
        name=f"{n}_dw")
    self.dw_bn = composite.batch_norm(f"{n}_dw_bn")
    self.dw_act = composite.activation_layer(activation, f"{n}_dw_act")
    if se_channels:
      self.se = SqueezeExcite(mid_channels, se_channels, activation,
                              name=f"{n}_se")
    self.project = ConvBNAct(out_channels, 1, activation=None,
                             groups=project_groups, use_bias=use_bias,
                             name=f"{n}_project")
    if self.has_residual:
      self.add = keras.layers.Add(name=f"{n}_add")

  @property
  def has_residual(self) -> bool:
    if self.residual is not None:
      return self.residual
    return self.in_channels == self.out_channels and self.strides == 1

  def forward(self, x, training=None, mid_mask=None, se_mask=None,
              out_mask=None, expand_weight=None, residual_weight=None):
    """Runs the block; the optional arguments serve the supernet.

    ``mid_mask`` multiplies the depthwise output (after BN and activation).
    The depthwise conv and its BN act per channel, so a masked expand channel
    only ever reaches its own depthwise channel, which this mask zeroes:
    masking here once is equivalent to masking after the expand conv too.
    ``out_mask`` multiplies the projection after its BN, before the add, so
    BN's beta cannot refill masked channels. ``expand_weight`` (the weight of
    the options that have an expand conv) blends the expand conv's output
    with the input itself, which is what a child whose mid equals its input
    width runs. ``residual_weight`` (the weight of the options whose input
    and output widths are equal) scales the residual where the two widths
    are decided separately.
    """
    y = x
    if self.expand is not None:
      y = composite.apply(self.shuffle, self.expand.inline(x, training=training))
      if expand_weight is not None:
        y = (expand_weight * y + (1.0 - expand_weight)
             * composite.fit_channels(x, self.mid_channels))
    y = self.dw(composite.apply(self.dw_pad, y))
    y = composite.apply(self.dw_act, self.dw_bn(y, training=training))
    if mid_mask is not None:
      y = y * mid_mask
    y = composite.apply(self.se, y, se_mask=se_mask)
    y = composite.apply(self.project, y, training=training)
    if out_mask is not None:
      y = y * out_mask
    if residual_weight is not None:
      return y + residual_weight * composite.fit_channels(x, self.out_channels)
    return self.add([x, y]) if self.add is not None else y

  def get_config(self):
    return {**super().get_config(), "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "mid_channels": self.mid_channels,
            "kernel_size": self.kernel_size, "strides": self.strides,
            "activation": self.activation, "se_channels": self.se_channels,
            "expand_groups": self.expand_groups,
            "project_groups": self.project_groups, "use_bias": self.use_bias,
            "expand": self.expand_conv, "residual": self.residual,
            "padding": self.padding}
