"""Runs TFLite models in LiteRT and compares them with Keras.

LiteRT (``ai_edge_litert``) is the reference interpreter here; the
``tf.lite.Interpreter`` shipped with TensorFlow is deliberately not used for
numerics (its default XNNPACK path gave wrong int8 BATCH_MATMUL results on
this stack).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from ai_edge_litert.interpreter import Interpreter

# Parity bound: max |keras - tflite| <= 1e-4 * max(1, max |logit|).
RELATIVE_TOLERANCE = 1e-4


def run_tflite(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
  """Runs a single-input, single-output model on float ``x`` in LiteRT;
  returns float outputs (an int8 input is quantized and an int8 output
  dequantized with the model's own scale and zero point)."""
  interpreter = Interpreter(model_content=flatbuffer)
  interpreter.allocate_tensors()
  (inp,), (out,) = (interpreter.get_input_details(),
                    interpreter.get_output_details())
  if inp["dtype"] == np.int8:
    scale, zero = inp["quantization"]
    x = np.clip(np.round(x / scale + zero), -128, 127)
  interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
  interpreter.invoke()
  y = interpreter.get_tensor(out["index"])
  if out["dtype"] == np.int8:
    scale, zero = out["quantization"]
    y = (y.astype(np.float32) - zero) * scale
  return y


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


def check_parity(model, flatbuffer: bytes, seed: int = 0) -> Parity:
  """Compares Keras and LiteRT on a uniform random image in [-1, 1]."""
  shape = (1, *model.inputs[0].shape[1:])
  x = np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)
  expected = np.asarray(model(x, training=False))
  got = run_tflite(flatbuffer, x)
  return Parity(float(np.max(np.abs(expected - got))),
                float(np.max(np.abs(expected))))
