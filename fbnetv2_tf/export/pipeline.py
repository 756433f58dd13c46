"""A Keras child model to TFLite files in one or more modes, each checked.

For every mode, ``NAME.MODE.tflite`` and ``NAME.MODE.json`` go into the
output directory, both written atomically. The JSON holds the deployment
checks: LiteRT vs Keras on one image (the first test image
given a dataset, else a random one), the op list, ops left in float, XNNPACK
partitions, unfolded BatchNorms, dynamic tensors, file size, and, given a
dataset, the test accuracy of the float model and of the file with their
top-1 agreement; host latency through LiteRT last, all modes interleaved,
timed as ``fbnetv2-benchmark`` times a file (``measure_latency``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from typing import Callable, Mapping

import keras
import numpy as np

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.export import graph, parity, sources, tflite
from fbnetv2_tf.lut import probes
from fbnetv2_tf.lut.host import HostRunner
from fbnetv2_tf.lut.runner import MeasureSettings
from fbnetv2_tf.specs.files import atomic_path, write_atomically

MODES = (*tflite.POST_TRAINING_MODES, "qat")
# Modes whose graphs must be integer-only between the float ends.
INTEGER_MODES = ("int8", "qat")
_EVAL_BATCH = 256


@dataclasses.dataclass(frozen=True)
class ExportJob:
  """What to export and check.

  Attributes:
    output_dir: where the files go (created).
    modes: some of ``MODES``.
    data: an ImageData at the model's input size: calibration images for
      int8, test images for the accuracy check. Required for int8 and qat.
    dataset: the dataset's name and ``data_dir``, for the QAT process.
    data_dir: see ``dataset``.
    max_train_images: QAT fine-tunes on a subset of this size.
    input_pipeline: how the QAT process reads the dataset (``memory``,
      ``stream`` or ``auto``: ``data.load_dataset``).
    bad_files: what the QAT process does with files it cannot decode.
    qat_epochs: QAT fine-tuning epochs.
    int8_io: int8 and qat: int8 input and output instead of float32.
    max_eval_images: accuracy on at most this many test images.
    latency: how the host latency check times (by default as
      fbnetv2-benchmark does); None skips timing.
    seed: seeds calibration sampling and QAT.
  """

  output_dir: str
  modes: tuple[str, ...] = ("fp32",)
  data: object = None
  dataset: str | None = None
  data_dir: str | None = None
  max_train_images: int | None = None
  input_pipeline: str = "auto"
  bad_files: str = "fail"
  qat_epochs: int = 1
  int8_io: bool = False
  max_eval_images: int | None = None
  latency: MeasureSettings | None = MeasureSettings()
  seed: int = 0


@dataclasses.dataclass
class ExportReport:
  """What one exported file is and how it checked out."""

  model: str
  mode: str
  path: str
  bytes: int
  ops: dict
  float_ops: list
  xnnpack_partitions: int
  unfolded_batch_norms: int
  dynamic_tensors: int
  parity: dict
  accuracy: dict | None = None
  latency: dict | None = None

  def summary(self) -> str:
    parts = [f"{self.model} {self.mode}: {self.path} "
             f"({self.bytes / 2**20:.2f} MiB)",
             f"max |diff| vs Keras {self.parity['max_abs_diff']:.2e}"
             + {True: " (ok)", False: " (MISMATCH)", None: ""}[
                 self.parity["ok"]],
             f"{self.xnnpack_partitions} XNNPACK partition(s)"]
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


def check_job(model: keras.Model, job: ExportJob) -> None:
  """One-line errors for modes and data before any work starts."""
  unknown = [m for m in job.modes if m not in MODES]
  if unknown or not job.modes:
    raise UserError(f"unknown export mode {', '.join(unknown) or '(none)'}; "
                    f"known: {', '.join(MODES)}")
  needs_data = [m for m in job.modes if m in INTEGER_MODES]
  if needs_data and job.data is None:
    raise UserError(f"mode {needs_data[0]} needs a dataset (calibration "
                    "images from its training split)")
  if "qat" in job.modes and job.dataset is None:
    raise UserError("mode qat needs the dataset's name to fine-tune on")
  if job.data is not None:
    sources.check_data_fits(model, job.data)


def export_model(model: keras.Model, job: ExportJob,
                 keras_path: str | None = None,
                 progress: Callable[[str], None] | None = None
                 ) -> list[ExportReport]:
  """Exports ``model`` in every mode of ``job``; ``keras_path`` is the model
  saved as ``.keras`` (QAT loads it in its own process; saved here if
  missing). ``progress`` (e.g. ``print``) hears of each step as it starts."""
  check_job(model, job)
  os.makedirs(job.output_dir, exist_ok=True)
  say = progress or (lambda message: None)
  flatbuffers, paths = {}, {}
  for mode in job.modes:
    step = "fine-tuning and converting" if mode == "qat" else "converting"
    say(f"{model.name}: {step} to {mode}")
    path = paths[mode] = os.path.join(job.output_dir,
                                      f"{model.name}.{mode}.tflite")
    if mode == "qat":
      if keras_path is None:
        keras_path = os.path.join(job.output_dir, f"{model.name}.keras")
        save_keras_atomically(model, keras_path)
      run_qat_process(keras_path, path, job)
      with open(path, "rb") as f:
        flatbuffers[mode] = f.read()
    else:
      flatbuffers[mode] = _post_training(model, mode, job)
      write_atomically(path, flatbuffers[mode])
  timings = {}
  if job.latency:
    say(f"{model.name}: timing {', '.join(flatbuffers)} in LiteRT "
        f"({job.latency.threads} thread(s), {job.latency.trials} trials)")
    timings = _latency_reports(measure_latency(paths, job.latency),
                               job.latency)
  evaluation = _Evaluation(model, job) if job.data is not None else None
  reports = []
  for mode, flatbuffer in flatbuffers.items():
    say(f"{model.name}: checking {mode}")
    report = check_file(model, mode, flatbuffer, job, evaluation)
    report.latency = timings.get(mode)
    stem = os.path.join(job.output_dir, f"{model.name}.{mode}")
    write_atomically(f"{stem}.json",
                     json.dumps(dataclasses.asdict(report), indent=1) + "\n")
    reports.append(report)
  return reports


def measure_latency(paths: Mapping[str, str], settings: MeasureSettings
                    ) -> probes.Probed:
  """Times ``{mode: .tflite path}`` as fbnetv2-benchmark times files on the
  host, so both report one file's same latency: the host runner and
  ``probes.measure_files``, with fp32 probes (the benchmark's default dtype)
  converted into a temporary folder."""
  with tempfile.TemporaryDirectory() as cache, contextlib.closing(
      HostRunner()) as runner:
    return probes.measure_files(runner, dict(paths), settings, cache, "fp32")


def _latency_reports(probed: probes.Probed, settings: MeasureSettings
                    ) -> dict[str, dict]:
  """Each mode's ``ExportReport.latency``: microseconds over the fast
  trials, which trials those were, and the settings."""
  return {mode: {"median_us": stats.median_us, "p90_us": stats.p90_us,
                 "std_us": stats.std_us, "fast_trials": probed.fast_trials,
                 "trials": probed.trials,
                 "settings": dataclasses.asdict(settings)}
          for mode, stats in probed.stats.items()}


def _post_training(model, mode: str, job: ExportJob) -> bytes:
  calibration = (tflite.calibration_sample(job.data, job.seed)
                 if mode == "int8" else None)
  return tflite.convert_to_tflite(model, mode, calibration, job.int8_io)


class _Evaluation:
  """The test images, normalized, and the Keras model's top-1 on them:
  computed once per export, shared by every mode's check."""

  def __init__(self, model: keras.Model, job: ExportJob):
    from fbnetv2_tf.data import normalize  # pylint: disable=g-import-not-at-top
    self.images = normalize(job.data.test_images[:job.max_eval_images])
    self.labels = job.data.test_labels[:job.max_eval_images]
    self.keras_top1 = np.argmax(
        model.predict(self.images, batch_size=_EVAL_BATCH, verbose=0), axis=-1)

  def accuracy(self, flatbuffer: bytes) -> dict:
    tflite_top1 = np.argmax(parity.TFLiteRunner(flatbuffer).predict(
        self.images), axis=-1)
    return {"images": int(len(self.labels)),
            "keras": float(np.mean(self.keras_top1 == self.labels)),
            "tflite": float(np.mean(tflite_top1 == self.labels)),
            "top1_agreement": float(np.mean(self.keras_top1 == tflite_top1))}


def check_file(model: keras.Model, mode: str, flatbuffer: bytes,
               job: ExportJob, evaluation: _Evaluation | None = None
               ) -> ExportReport:
  """The deployment checks of one exported flatbuffer; with ``evaluation``
  (given a dataset), parity on the first test image and test accuracy."""
  image = evaluation.images[:1] if evaluation is not None else None
  check = parity.check_parity(model, flatbuffer, image)
  report = ExportReport(
      model=model.name, mode=mode,
      path=os.path.join(job.output_dir, f"{model.name}.{mode}.tflite"),
      bytes=len(flatbuffer), ops=graph.op_counts(flatbuffer),
      float_ops=graph.float_ops(flatbuffer),
      xnnpack_partitions=graph.xnnpack_partitions(flatbuffer),
      unfolded_batch_norms=graph.unfolded_batch_norms(flatbuffer),
      dynamic_tensors=len(graph.dynamic_tensors(flatbuffer)),
      # The bound is float32's; quantized files are judged by accuracy.
      parity={"max_abs_diff": check.max_abs_diff,
              "tolerance": check.tolerance,
              "ok": check.ok if mode == "fp32" else None})
  if evaluation is not None:
    report.accuracy = evaluation.accuracy(flatbuffer)
  return report


def run_qat_process(keras_path: str, output: str, job: ExportJob) -> None:
  """Runs ``fbnetv2_tf.export.qat`` in its own process (tfmot switches the
  process it is imported into to legacy Keras); its one-line error becomes
  this process's."""
  command = [sys.executable, "-m", "fbnetv2_tf.export.qat",
             f"--model={keras_path}", f"--output={output}",
             f"--dataset={job.dataset}", f"--epochs={job.qat_epochs}",
             f"--seed={job.seed}", f"--input_pipeline={job.input_pipeline}",
             f"--bad_files={job.bad_files}"]
  if job.data_dir:
    command.append(f"--data_dir={job.data_dir}")
  if job.max_train_images:
    command.append(f"--max_train_images={job.max_train_images}")
  if job.int8_io:
    command.append("--int8_io")
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
  # Its progress goes to this process's stdout; stderr is kept for errors.
  result = subprocess.run(command, env=env, stdout=None,
                          stderr=subprocess.PIPE, text=True, check=False)
  if result.returncode != 0:
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    if errors:
      raise UserError(errors[-1][len("error: "):])
    raise RuntimeError(f"quantization-aware training failed:\n"
                       f"{result.stderr[-4000:]}")


def save_keras_atomically(model: keras.Model, path: str) -> None:
  with atomic_path(path) as tmp:
    model.save(tmp)
