"""Candidate blocks as TFLite files: one per key, dtype, padding and h-swish
form, cached by name, written atomically (a killed conversion leaves no half
file)."""

from __future__ import annotations

import os

from fbnetv2_tf.cost.latency_table import LatencyKey
from fbnetv2_tf.export import hswish as hswish_forms
from fbnetv2_tf.lut import candidates
from fbnetv2_tf.specs.arch_spec import SYMMETRIC


def variant(padding: str = SYMMETRIC,
            hswish: str = hswish_forms.FUSED) -> str:
  """The part of a converted file's name that sets a padding or an h-swish
  form other than the defaults apart (``""`` for the defaults, so files
  converted before either existed keep their names), e.g.
  ``".same.delegable"``: two variants never share a cached file."""
  return "".join(f".{value}" for value, default in
                 ((padding, SYMMETRIC), (hswish, hswish_forms.FUSED))
                 if value != default)


def candidate_path(cache: str, key: LatencyKey, dtype: str,
                   padding: str = SYMMETRIC,
                   hswish: str = hswish_forms.FUSED) -> str:
  """Where the candidate's file is cached. A block without h-swish is the
  same graph in either form, so both forms share its file: a table built
  in the other form reuses it instead of converting it again."""
  if not candidates.has_hswish(key):
    hswish = hswish_forms.FUSED
  return os.path.join(cache, f"{candidates.key_name(key)}"
                      f"{variant(padding, hswish)}.{dtype}.tflite")


def convert_candidate(key: LatencyKey, width_divisor: int, num_classes: int,
                      dtype: str, path: str, padding: str = SYMMETRIC,
                      hswish: str = hswish_forms.FUSED) -> str:
  """Writes the candidate's .tflite unless cached; its path."""
  if os.path.exists(path):
    return path
  return convert_model(candidates.candidate_model(key, width_divisor,
                                                  num_classes, padding),
                       dtype, path, hswish)


def convert_model(model, dtype: str, path: str,
                  hswish: str = hswish_forms.FUSED,
                  int8_io: bool = True) -> str:
  """``model``, its h-swish in form ``hswish``, as a batch-1 TFLite file in
  ``dtype``; int8 is calibrated on random inputs (latency does not depend
  on the values) and, for a block (``int8_io``), takes and gives int8: a
  network quantizes once, at its ends, not at every block."""
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  model = hswish_forms.with_hswish_form(model, hswish)
  calibration = tflite.random_calibration(model) if dtype == "int8" else None
  tflite.write_tflite(model, path, dtype, calibration,
                      int8_io=int8_io and dtype == "int8")
  return path
