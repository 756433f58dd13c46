"""Keras model to a float32 TFLite flatbuffer, with a fixed batch of 1.

A fixed ``[1, H, W, C]`` signature matters: with a dynamic batch whole models
fell off the XNNPACK delegate on this stack, which skews latency.
"""

from __future__ import annotations

import os
import tempfile

import keras
import tensorflow as tf

from fbnetv2_tf.specs import files


def input_signature(model: keras.Model, batch_size: int = 1) -> list[tf.TensorSpec]:
  """A fixed-shape signature for the model's single image input."""
  shape = model.inputs[0].shape
  if any(d is None for d in shape[1:]):
    raise ValueError(f"model {model.name!r} has a dynamic input shape {shape}; "
                     "build it with a fixed input size to export it")
  return [tf.TensorSpec([batch_size, *shape[1:]], tf.float32)]


def convert_to_tflite(model: keras.Model) -> bytes:
  """Converts ``model`` (float32, batch 1) and returns the flatbuffer."""
  with tempfile.TemporaryDirectory() as tmp:
    saved = os.path.join(tmp, "saved_model")
    model.export(saved, format="tf_saved_model",
                 input_signature=input_signature(model), verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    return converter.convert()


def write_tflite(model: keras.Model, path: str | os.PathLike) -> int:
  """Converts ``model`` and writes it atomically; returns the size in bytes."""
  flatbuffer = convert_to_tflite(model)
  files.write_atomically(path, flatbuffer)
  return len(flatbuffer)
