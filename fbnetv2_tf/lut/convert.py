"""Candidate blocks as TFLite files: one per key and dtype, cached by name,
written atomically (a killed conversion leaves no half file)."""

from __future__ import annotations

import os

from fbnetv2_tf.cost.latency_table import LatencyKey
from fbnetv2_tf.lut import candidates


def candidate_path(cache: str, key: LatencyKey, dtype: str) -> str:
  return os.path.join(cache, f"{candidates.key_name(key)}.{dtype}.tflite")


def convert_candidate(key: LatencyKey, width_divisor: int, num_classes: int,
                      dtype: str, path: str) -> str:
  """Writes the candidate's .tflite unless cached; its path."""
  if os.path.exists(path):
    return path
  return convert_model(candidates.candidate_model(key, width_divisor,
                                                  num_classes), dtype, path)


def convert_model(model, dtype: str, path: str) -> str:
  """``model`` as a batch-1 TFLite file in ``dtype``; int8 is calibrated on
  random inputs (latency does not depend on the values) and takes and gives
  int8: a network quantizes once, at its ends, not at every block."""
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  calibration = tflite.random_calibration(model) if dtype == "int8" else None
  tflite.write_tflite(model, path, dtype, calibration,
                      int8_io=dtype == "int8")
  return path
