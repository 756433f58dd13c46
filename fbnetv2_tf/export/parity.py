"""Runs TFLite models in LiteRT and compares them with Keras.

LiteRT (``ai_edge_litert``) is the reference interpreter here; the
``tf.lite.Interpreter`` shipped with TensorFlow is deliberately not used for
numerics (its default XNNPACK path gave wrong int8 BATCH_MATMUL results on
this stack).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter

# Parity bound: max |keras - tflite| <= 1e-4 * max(1, max |logit|).
RELATIVE_TOLERANCE = 1e-4


class TFLiteRunner:
  """A loaded single-input, single-output model that takes and returns float
  arrays: an int8 input is quantized and an int8 output dequantized with the
  model's own scale and zero point."""

  def __init__(self, flatbuffer: bytes, threads: int | None = None):
    self._interpreter = Interpreter(model_content=flatbuffer,
                                    num_threads=threads)
    self._interpreter.allocate_tensors()
    (self._input,), (self._output,) = (
        self._interpreter.get_input_details(),
        self._interpreter.get_output_details())

  def __call__(self, x: np.ndarray) -> np.ndarray:
    inp, out = self._input, self._output
    if inp["dtype"] == np.int8:
      scale, zero = inp["quantization"]
      x = np.clip(np.round(x / scale + zero), -128, 127)
    self._interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
    self._interpreter.invoke()
    y = self._interpreter.get_tensor(out["index"])
    if out["dtype"] == np.int8:
      scale, zero = out["quantization"]
      y = (y.astype(np.float32) - zero) * scale
    return y

  def predict(self, images: np.ndarray) -> np.ndarray:
    """Outputs for a stack of float images, one invoke per image (the
    models are batch 1)."""
    return np.concatenate([self(image[None]) for image in images])


def run_tflite(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
  """Runs a model once on float ``x`` in LiteRT; float outputs."""
  return TFLiteRunner(flatbuffer)(x)


@dataclasses.dataclass(frozen=True)
class Parity:
  """How far a TFLite model's output is from Keras' on one input."""
  max_abs_diff: float
  max_abs_logit: float

  @property
  def tolerance(self) -> float:
    return RELATIVE_TOLERANCE * max(1.0, self.max_abs_logit)

  @property
  def ok(self) -> bool:
    return self.max_abs_diff <= self.tolerance


def check_parity(model, flatbuffer: bytes, x: np.ndarray | None = None,
                 seed: int = 0) -> Parity:
  """Compares Keras and LiteRT on ``x`` (one ``[1, H, W, C]`` image), by
  default a uniform random image in [-1, 1]. Quantized models should get a
  real image: their ranges were calibrated on such images."""
  if x is None:
    shape = (1, *model.inputs[0].shape[1:])
    x = np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)
  expected = np.asarray(model(x, training=False))
  got = run_tflite(flatbuffer, x)
  return Parity(float(np.max(np.abs(expected - got))),
                float(np.max(np.abs(expected))))


def randomize_batch_norm(model: keras.Model, seed: int = 0) -> None:
  """Gives every BatchNorm layer random statistics and affine parameters.

  A freshly initialised network shrinks activations towards zero (logits of
  order 1e-2), which would make a numerics comparison of an untrained model
  pass trivially; this keeps activations of order one so differences show.
  """
  rng = np.random.default_rng(seed)
  for layer in model._flatten_layers():  # pylint: disable=protected-access
    if isinstance(layer, keras.layers.BatchNormalization):
      n = layer.gamma.shape[0]
      layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
      layer.beta.assign(rng.normal(0.0, 0.2, n).astype("float32"))
      layer.moving_mean.assign(rng.normal(0.0, 0.2, n).astype("float32"))
      layer.moving_variance.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
