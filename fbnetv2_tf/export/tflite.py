"""Keras model to a TFLite flatbuffer: fp32 or post-training quantized,
always with a fixed batch of 1.

A fixed ``[1, H, W, C]`` signature matters: with a dynamic batch whole models
fell off the XNNPACK delegate on this stack, which skews latency.

Modes (TFLite's post-training quantization):

- ``fp32``: float weights and activations.
- ``fp16``: float16 weights, dequantized to float32 at load (half the size).
- ``dynamic``: int8 weights; activations quantized on the fly per inference.
- ``int8``: full-integer, weights and activations int8, calibrated on
  representative images; only builtin int8 kernels are allowed, so a model
  with an op that has none fails to convert instead of silently keeping it
  in float. Input and output are int8 (``int8_io``) or float32, the latter
  with one QUANTIZE at the input and one DEQUANTIZE at the output.
"""

from __future__ import annotations

import os
import tempfile
from typing import Iterable

import keras
import numpy as np
import tensorflow as tf

from fbnetv2_tf.specs import files

POST_TRAINING_MODES = ("fp32", "fp16", "dynamic", "int8")
# Images for int8 calibration: TFLite's guidance is a few hundred.
CALIBRATION_IMAGES = 200


def input_signature(model: keras.Model, batch_size: int = 1) -> list[tf.TensorSpec]:
  """A fixed-shape signature for the model's single image input."""
  shape = model.inputs[0].shape
  if any(d is None for d in shape[1:]):
    raise ValueError(f"model {model.name!r} has a dynamic input shape {shape}; "
                     "build it with a fixed input size to export it")
  return [tf.TensorSpec([batch_size, *shape[1:]], tf.float32)]


def check_calibration_images(model: keras.Model, images: np.ndarray) -> None:
  """One-line ValueError unless ``images`` fit the model's input."""
  want = tuple(model.inputs[0].shape[1:])
  images = np.asarray(images)
  if images.ndim != 4 or tuple(images.shape[1:]) != want:
    raise ValueError(f"calibration images have shape {images.shape[1:]}, the "
                     f"model takes {want} (height, width, channels)")
  if not len(images):
    raise ValueError("no calibration images")


def _representative(images: np.ndarray) -> Iterable[list[np.ndarray]]:
  def batches():
    for image in images[:CALIBRATION_IMAGES]:
      yield [image[None].astype(np.float32)]
  return batches


def calibration_sample(data, seed: int = 0,
                       count: int = CALIBRATION_IMAGES) -> np.ndarray:
  """``count`` training images of ``data`` (an ImageData) drawn at random,
  normalized as the model takes them: the representative dataset."""
  from fbnetv2_tf.data import normalize  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  pick = rng.choice(len(data.train_images),
                    min(count, len(data.train_images)), replace=False)
  return normalize(data.train_images[np.sort(pick)])


def random_calibration(model: keras.Model, count: int = 16,
                       seed: int = 0) -> np.ndarray:
  """``count`` uniform random images in [-1, 1] shaped for ``model``: int8
  calibration where only latency matters, which does not depend on the
  values, only on the int8 graph the converter builds."""
  shape = (count, *model.inputs[0].shape[1:])
  return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def configure_int8(converter, calibration_images: np.ndarray,
                   int8_io: bool) -> None:
  """Sets ``converter`` up for full-integer int8 with only builtin int8
  kernels, so an op without one fails the conversion instead of staying in
  float."""
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.representative_dataset = _representative(calibration_images)
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  if int8_io:
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8


def convert_to_tflite(model: keras.Model, mode: str = "fp32",
                      calibration_images: np.ndarray | None = None,
                      int8_io: bool = False) -> bytes:
  """Converts ``model`` (batch 1) in ``mode`` and returns the flatbuffer.

  Args:
    model: a Keras model with one fixed-size image input.
    mode: one of ``POST_TRAINING_MODES``.
    calibration_images: float32 ``[N, H, W, C]`` images as the model takes
      them (normalized), for ``int8``; the first ``CALIBRATION_IMAGES``
      calibrate the activation ranges.
    int8_io: ``int8`` only: int8 input and output instead of float32.

  Raises:
    ValueError: an unknown mode, or missing or misshapen calibration images.
  """
  if mode not in POST_TRAINING_MODES:
    raise ValueError(f"unknown export mode {mode!r}; known: "
                     f"{', '.join(POST_TRAINING_MODES)}")
  if mode == "int8":
    if calibration_images is None:
      raise ValueError("int8 export needs calibration images")
    check_calibration_images(model, calibration_images)
  with tempfile.TemporaryDirectory() as tmp:
    saved = os.path.join(tmp, "saved_model")
    model.export(saved, format="tf_saved_model",
                 input_signature=input_signature(model), verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    if mode in ("fp16", "dynamic"):
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "fp16":
      converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
      configure_int8(converter, calibration_images, int8_io)
    return converter.convert()


def write_tflite(model: keras.Model, path: str | os.PathLike, mode: str = "fp32",
                 calibration_images: np.ndarray | None = None,
                 int8_io: bool = False) -> int:
  """Converts ``model`` and writes it atomically; returns the size in bytes."""
  flatbuffer = convert_to_tflite(model, mode, calibration_images, int8_io)
  files.write_atomically(path, flatbuffer)
  return len(flatbuffer)
