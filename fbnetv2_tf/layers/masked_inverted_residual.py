"""The supernet's inverted residual: built once at the largest widths, masked."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers.inverted_residual import InvertedResidual


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class MaskedInvertedResidual(InvertedResidual):
  """An InvertedResidual at its largest widths whose call takes channel masks.

  ``call(x, mid_mask=..., se_mask=..., out_mask=...)`` with ``[C]`` masks
  from :class:`~fbnetv2_tf.layers.channel_mask.ChannelMask`: one set of
  weights and one feature map serve every expansion and output-width option
  (FBNetV2 channel masking). Unlike a child's block, the expand conv is kept
  by default (some options may need it) and the residual is given explicitly:
  the supernet adds the input only where every derived child would.
  """

  def __init__(self, in_channels, out_channels, mid_channels, residual=False,
               expand=True, **kwargs):
    super().__init__(in_channels, out_channels, mid_channels,
                     residual=residual, expand=expand, **kwargs)
