"""Keras 3 layers of fbnetv2_tf; each is registered for `.keras` saving."""

from fbnetv2_tf.layers.channel_shuffle import ChannelShuffle
from fbnetv2_tf.layers.classifier_head import ClassifierHead
from fbnetv2_tf.layers.conv_bn_act import ConvBNAct
from fbnetv2_tf.layers.inverted_residual import InvertedResidual
from fbnetv2_tf.layers.ir_pool import IRPool
from fbnetv2_tf.layers.skip import Skip
from fbnetv2_tf.layers.squeeze_excite import SqueezeExcite

__all__ = ["ChannelShuffle", "ClassifierHead", "ConvBNAct", "InvertedResidual",
           "IRPool", "Skip", "SqueezeExcite"]
