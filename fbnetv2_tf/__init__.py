"""fbnetv2_tf: FBNet and FBNetV2 (DMaskingNAS) architecture search for Keras and TFLite."""

__version__ = "0.1.0"
