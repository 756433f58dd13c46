"""Classifier head: global average pool, optional dropout, fully-connected."""

from __future__ import annotations

import keras

from fbnetv2_tf.layers import composite


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ClassifierHead(composite.CompositeBlock):
  """Pools to a vector and maps it to ``num_classes`` logits (no softmax)."""

  def __init__(self, num_classes, dropout_rate=0.0, **kwargs):
    super().__init__(**kwargs)
    self.num_classes = num_classes
    self.dropout_rate = dropout_rate
    n = self.name
    self.pool = keras.layers.GlobalAveragePooling2D(name=f"{n}_pool")
    self.dropout = (keras.layers.Dropout(dropout_rate, name=f"{n}_dropout")
                    if dropout_rate else None)
    # Float32 logits under a mixed-precision policy, so that the softmax and
    # the loss see float32 (Keras' advice for the last layer); under float32
    # nothing changes.
    self.fc = keras.layers.Dense(num_classes, dtype="float32", name=f"{n}_fc")

  def forward(self, x, training=None):
    x = self.pool(x)
    if self.dropout is not None:
      x = self.dropout(x, training=training)
    return self.fc(x)

  def get_config(self):
    return {**super().get_config(), "num_classes": self.num_classes,
            "dropout_rate": self.dropout_rate}
