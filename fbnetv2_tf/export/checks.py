"""What one exported file is and how it checked out: the report written
beside it, the per-file checks, and the warnings that explain its latency.

A warning is one line. An export warns when a file's graph splits into
more than one XNNPACK partition (naming the ops LiteRT's XNNPACK delegate
leaves to the builtin kernels: each such op costs a partition switch and
runs on a slower kernel), when an int8 file runs slower than the fp32
file of the same model on the runner (which is what happened to every
h-swish model here before the delegable form, docs/benchmarks/export_table.md),
and when the file holds h-swish in another form than the latency table its
search priced it with.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from fbnetv2_tf.export import graph, parity
from fbnetv2_tf.export.hswish import INTEGER_MODES

_EVAL_BATCH = 256


@dataclasses.dataclass
class ExportReport:
  """What one exported file is and how it checked out.

  ``hswish`` records the h-swish form: what was asked (``requested``),
  what the file holds (``form``), how many h-swish layers the model has
  (``layers``), why that form (``chosen_by``: ``latency``, ``flag``,
  ``rule`` or ``none`` without h-swish) and each form's median time on the
  runner where both were timed (``median_us``). ``undelegated_ops`` are the
  ops XNNPACK left to the builtin kernels; ``warnings`` are the lines the
  export printed about this file.
  """

  model: str
  mode: str
  path: str
  bytes: int
  ops: dict
  float_ops: list
  xnnpack_partitions: int
  undelegated_ops: dict
  unfolded_batch_norms: int
  dynamic_tensors: int
  parity: dict
  accuracy: dict | None = None
  latency: dict | None = None
  hswish: dict | None = None
  metadata: dict | None = None
  warnings: list = dataclasses.field(default_factory=list)

  def summary(self) -> str:
    parts = [f"{self.model} {self.mode}: {self.path} "
             f"({self.bytes / 2**20:.2f} MiB)",
             f"max |diff| vs Keras {self.parity['max_abs_diff']:.2e}"
             + {True: " (ok)", False: " (MISMATCH)", None: ""}[
                 self.parity["ok"]],
             f"{self.xnnpack_partitions} XNNPACK partition(s)"]
    if self.hswish and self.hswish["layers"]:
      parts.append(f"h-swish {self.hswish['form']}")
    if self.mode in INTEGER_MODES:
      parts.append(f"{len(self.float_ops)} float op(s)")
    if self.accuracy:
      parts.append(f"accuracy {self.accuracy['tflite']:.4f} (Keras "
                   f"{self.accuracy['keras']:.4f}, top-1 agreement "
                   f"{self.accuracy['top1_agreement']:.4f})")
    if self.latency:
      parts.append(f"{self.latency['median_us'] / 1e3:.3f} ms "
                   f"({self.latency['settings']['threads']} thread(s))")
    return "; ".join(parts)


class Evaluation:
  """The test images, normalized, and the Keras model's top-1 on them:
  computed once per export, shared by every file's check."""

  def __init__(self, model: keras.Model, data, max_images: int | None):
    from fbnetv2_tf.data import normalize  # pylint: disable=g-import-not-at-top
    self.images = normalize(data.test_images[:max_images])
    self.labels = data.test_labels[:max_images]
    self.keras_top1 = np.argmax(
        model.predict(self.images, batch_size=_EVAL_BATCH, verbose=0), axis=-1)

  def accuracy(self, flatbuffer: bytes) -> dict:
    tflite_top1 = np.argmax(parity.TFLiteRunner(flatbuffer).predict(
        self.images), axis=-1)
    return {"images": int(len(self.labels)),
            "keras": float(np.mean(self.keras_top1 == self.labels)),
            "tflite": float(np.mean(tflite_top1 == self.labels)),
            "top1_agreement": float(np.mean(self.keras_top1 == tflite_top1))}


def check_file(model: keras.Model, mode: str, flatbuffer: bytes, path: str,
               evaluation: Evaluation | None = None) -> ExportReport:
  """The deployment checks of one exported flatbuffer; with ``evaluation``
  (given a dataset), parity on the first test image and test accuracy.
  ``model`` is the Keras model the file was converted from."""
  image = evaluation.images[:1] if evaluation is not None else None
  check = parity.check_parity(model, flatbuffer, image)
  partitions, undelegated = graph.xnnpack_split(flatbuffer)
  report = ExportReport(
      model=model.name, mode=mode, path=path, bytes=len(flatbuffer),
      ops=graph.op_counts(flatbuffer), float_ops=graph.float_ops(flatbuffer),
      xnnpack_partitions=partitions, undelegated_ops=undelegated,
      unfolded_batch_norms=graph.unfolded_batch_norms(flatbuffer),
      dynamic_tensors=len(graph.dynamic_tensors(flatbuffer)),
      # The bound is float32's; quantized files are judged by accuracy.
      parity={"max_abs_diff": check.max_abs_diff,
              "tolerance": check.tolerance,
              "ok": check.ok if mode == "fp32" else None})
  if evaluation is not None:
    report.accuracy = evaluation.accuracy(flatbuffer)
  return report


def _ops_text(ops: dict) -> str:
  return ", ".join(f"{count} {name}" for name, count in ops.items())


def partition_warning(report: ExportReport) -> str | None:
  """One line when the graph runs in more than one XNNPACK partition."""
  if report.xnnpack_partitions <= 1:
    return None
  left = _ops_text(report.undelegated_ops) or "ops it could not identify"
  hint = ""
  if "HARD_SWISH" in report.undelegated_ops:
    hint = " (--hswish=delegable keeps h-swish on XNNPACK)"
  return (f"{report.model} {report.mode}: the graph splits into "
          f"{report.xnnpack_partitions} XNNPACK partitions; XNNPACK leaves "
          f"{left} to LiteRT's builtin kernels{hint}")


def slower_than_float_warning(report: ExportReport, float_us: float | None,
                              runner: str) -> str | None:
  """One line when an integer file runs slower than the model's fp32 file
  (``float_us``, timed in the same call) on ``runner``."""
  if (report.mode not in INTEGER_MODES or not report.latency
      or float_us is None or report.latency["median_us"] <= float_us):
    return None
  return (f"{report.model} {report.mode} runs slower than fp32 on {runner}: "
          f"{report.latency['median_us'] / 1e3:.3f} ms against "
          f"{float_us / 1e3:.3f} ms")


def priced_otherwise_warning(report: ExportReport, provenance: dict
                             ) -> str | None:
  """One line when the search that found the model priced its h-swish in
  another form (its latency table's, of the same integer or float kind)
  than the file holds: the table then timed another graph than ships."""
  lut = provenance.get("search", {}).get("lut", {})
  form, table_form = (report.hswish or {}).get("form"), lut.get("hswish")
  if (not (report.hswish or {}).get("layers") or table_form in (None, form)
      or (lut.get("dtype") == "int8") != (report.mode in INTEGER_MODES)):
    return None
  return (f"{report.model} {report.mode} holds h-swish {form}, but the "
          f"search priced it {table_form} (latency table "
          f"{lut.get('path')}): export with --hswish={table_form} to ship "
          "what was priced, or rebuild the table")
