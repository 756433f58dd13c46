"""A Keras child model to TFLite files in one or more modes, each checked.

For every mode, ``NAME.MODE.tflite`` and ``NAME.MODE.json`` go into the
output directory; beside them ``NAME.labels.txt`` (a classifier's class
names, one per line) and the model card ``NAME.md`` (``model_card``). They
are made in a hidden folder inside the output directory and moved into
place only when all of them have checked out. Every classifier file
carries TFLite Metadata (labels, input normalization, tensor names:
``metadata``), which Android Studio's ML Model Binding and the TFLite Task
library read; files with int8 input and output (``int8_io``), which those
do not take, carry none.

Each mode is converted in the h-swish forms asked for (``hswish``): with
``auto`` both, timed interleaved on the job's runner (LiteRT here, or a
phone over adb), and the faster kept; both timings go into the JSON. The
JSON holds the deployment checks (``checks``): LiteRT vs Keras on one image
(the first test image given a dataset, else a random one), the op list,
ops left in float, XNNPACK partitions and the ops that cause them,
unfolded BatchNorms, dynamic tensors, file size, and, given a dataset, the
test accuracy of the float model and of the file with their top-1
agreement; host latency timed as ``fbnetv2-benchmark`` times a file
(``measure_latency``). Warnings that explain latency (a split graph, an
int8 file slower than fp32, a form other than the one the search's latency
table priced: ``checks``) are printed and kept in the JSON.
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

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.export import checks, hswish, metadata, model_card, sources
from fbnetv2_tf.export import tflite
from fbnetv2_tf.export.checks import (INTEGER_MODES, ExportReport,  # noqa: F401  (the report type's home for callers)
                                      check_file)
from fbnetv2_tf.lut import probes
from fbnetv2_tf.lut.runner import MeasureSettings, device_name
from fbnetv2_tf.lut.runners import RunnerChoice
from fbnetv2_tf.specs.files import atomic_path, write_atomically

MODES = (*tflite.POST_TRAINING_MODES, "qat")
HSWISH_CHOICES = (*hswish.FORMS, hswish.AUTO)
# The float mode an integer file is compared with.
_FLOAT_MODE = "fp32"


@dataclasses.dataclass(frozen=True)
class ExportJob:
  """What to export and check.

  Attributes:
    output_dir: where the files go (created).
    modes: some of ``MODES``.
    data: an ImageData at the model's input size: calibration images for
      int8, test images for the accuracy check, class names for the labels.
      Required for int8 and qat.
    dataset: the dataset's name and ``data_dir``, for the QAT process.
    data_dir: see ``dataset``.
    max_train_images: QAT fine-tunes on a subset of this size.
    input_pipeline: how the QAT process reads the dataset (``memory``,
      ``stream`` or ``auto``: ``data.load_dataset``).
    bad_files: what the QAT process does with files it cannot decode.
    qat_epochs: QAT fine-tuning epochs.
    int8_io: int8 and qat: int8 input and output instead of float32.
    max_eval_images: accuracy on at most this many test images.
    latency: how the latency check times (by default as fbnetv2-benchmark
      does); None skips timing.
    runner: where the latency check times (host LiteRT, or a phone).
    hswish: ``fused``, ``delegable`` or ``auto`` (``export.hswish``): with
      ``auto`` both forms are converted and the faster on ``runner`` kept;
      untimed, the form measured faster for the mode here
      (``hswish.default_form``).
    labels: class names for the metadata (default: the dataset's, else
      the class indices).
    source: where the model came from (a ``.keras`` or arch JSON path), for
      the model card's trace (``model_card.trace``).
    arch_string: the model's architecture string, for the card.
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
  runner: RunnerChoice = RunnerChoice()
  hswish: str = hswish.AUTO
  labels: tuple[str, ...] | None = None
  source: str | None = None
  arch_string: str | None = None
  seed: int = 0


def check_job(model: keras.Model, job: ExportJob
              ) -> metadata.ClassifierMetadata | None:
  """One-line errors for modes, forms, labels and data before any work
  starts; returns the metadata the files will carry (``classifier_metadata``).
  """
  unknown = [m for m in job.modes if m not in MODES]
  if unknown or not job.modes:
    raise UserError(f"unknown export mode {', '.join(unknown) or '(none)'}; "
                    f"known: {', '.join(MODES)}")
  repeated = sorted({m for m in job.modes if job.modes.count(m) > 1})
  if repeated:
    raise UserError(f"export mode {', '.join(repeated)} given more than once")
  if job.hswish not in HSWISH_CHOICES:
    raise UserError(f"unknown h-swish form {job.hswish!r}; known: "
                    f"{', '.join(HSWISH_CHOICES)}")
  needs_data = [m for m in job.modes if m in INTEGER_MODES]
  if needs_data and job.data is None:
    raise UserError(f"mode {needs_data[0]} needs a dataset (calibration "
                    "images from its training split)")
  if "qat" in job.modes and job.dataset is None:
    raise UserError("mode qat needs the dataset's name to fine-tune on")
  if job.data is not None:
    sources.check_data_fits(model, job.data)
  return classifier_metadata(model, job)


def forms_for(mode: str, hswish_layers: int, job: ExportJob
              ) -> tuple[str, ...]:
  """The h-swish forms ``mode`` is converted in: one for a model without
  h-swish (both are the same graph) or where one is asked for; with
  ``auto``, both where they are timed, else the rule's."""
  if not hswish_layers:
    return (hswish.FUSED,)
  if job.hswish != hswish.AUTO:
    return (job.hswish,)
  return hswish.FORMS if job.latency else (hswish.default_form(mode),)


def export_model(model: keras.Model, job: ExportJob,
                 keras_path: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 save_keras: bool = False) -> list[ExportReport]:
  """Exports ``model`` in every mode of ``job``; ``keras_path`` is the model
  saved as ``.keras``, which QAT loads in its own process (without one, a
  copy is saved for it and removed). ``save_keras``: the model is also
  written as ``NAME.keras`` beside the files (one built from an
  architecture, which has no file of its own).

  Everything is made in a hidden folder inside ``output_dir`` and moved
  into place once every file has checked out, so an export that fails,
  early or half-way (a bad input, a lost phone, a failed conversion),
  leaves no file behind. ``progress`` (e.g. ``print``) hears of each step
  as it starts, and of every warning.
  """
  info = check_job(model, job)
  say = progress or (lambda message: None)
  layers = hswish.count_hard_swish(model)
  # One clone per form; every clone shares the model's layers.
  variants = {form: hswish.with_hswish_form(model, form)
              for form in (hswish.FORMS if layers else (hswish.FUSED,))}
  # The runner first: a missing phone or binary fails before any work.
  with contextlib.ExitStack() as stack:
    runner = (stack.enter_context(contextlib.closing(job.runner.make()))
              if job.latency else None)
    device = device_name(runner.describe()) if runner is not None else None
    created = _make_folders(job.output_dir)
    try:
      with tempfile.TemporaryDirectory(
          dir=job.output_dir, prefix=f".{model.name}.export-") as stage:
        made = _export_into(stage, model, variants, layers, job, info,
                            keras_path, save_keras, runner, device, say)
        _move_all(stage, made.files, job.output_dir)
    except BaseException:
      for folder in reversed(created):  # the deepest first
        if os.path.isdir(folder) and not os.listdir(folder):
          os.rmdir(folder)
      raise
  return made.reports


def _make_folders(path: str) -> list[str]:
  """Makes ``path`` and its missing parents; returns those it made, the
  topmost first, so that a failed export can remove them again."""
  missing, path = [], os.path.normpath(path)
  while path and not os.path.isdir(path):
    if os.path.exists(path):
      raise UserError(f"{path} is a file; the export needs a folder there")
    missing.append(path)
    path = os.path.dirname(path)
  missing.reverse()
  for folder in missing:
    os.makedirs(folder, exist_ok=True)
  return missing


def _move_all(stage: str, names: list[str], output_dir: str) -> None:
  """Moves ``names`` from ``stage`` into ``output_dir``: every target is
  checked first, so that a target that cannot be replaced (a folder of
  that name) stops the export before any file is moved."""
  targets = [os.path.join(output_dir, name) for name in names]
  blocked = [t for t in targets if os.path.isdir(t)]
  if blocked:
    raise UserError(f"{blocked[0]} is a folder; the export would write a "
                    "file there")
  for name, target in zip(names, targets):
    os.replace(os.path.join(stage, name), target)


@dataclasses.dataclass
class _Made:
  """What an export made in its staging folder: the reports, and the
  files to move into the output directory."""
  reports: list
  files: list


def _export_into(stage: str, model, variants, layers: int, job: ExportJob,
                 info, keras_path, save_keras, runner, device, say) -> _Made:
  """Every file of the export, made and checked in ``stage``."""
  made = _Made([], [])
  if save_keras or ("qat" in job.modes and keras_path is None):
    # Saved once: the file kept beside the others is the one QAT loads.
    staged = os.path.join(stage, f"{model.name}.keras")
    save_keras_atomically(model, staged)
    keras_path = keras_path or staged
    if save_keras:
      made.files.append(os.path.basename(staged))
  provenance = model_card.trace(job.source)
  candidates = {}  # (mode, form) -> a converted file in ``stage``
  for mode in _modes_converted(job):
    forms = forms_for(mode, layers, job)
    say(f"{model.name}: "
        + ("fine-tuning and converting" if mode == "qat" else "converting")
        + f" to {mode}"
        + (f" (h-swish {' and '.join(forms)})" if len(forms) > 1 else ""))
    candidates.update(_convert(model, variants, mode, forms, job, keras_path,
                               stage, _metadata_of(mode, info, job)))
  timings = {}
  if runner is not None:
    say(f"{model.name}: timing {len(candidates)} file(s) on {device} "
        f"({job.latency.threads} thread(s), {job.latency.trials} trials)")
    probed = _measure(runner, {f"{m}.{f}": p for (m, f), p in
                               candidates.items()}, job.latency)
    timings = {(m, f): _latency_report(probed, f"{m}.{f}", job.latency)
               for m, f in candidates}
  float_us = min((t["median_us"] for (m, _), t in timings.items()
                  if m == _FLOAT_MODE), default=None)
  evaluation = (checks.Evaluation(model, job.data, job.max_eval_images)
                if job.data is not None else None)
  for mode in job.modes:
    forms = forms_for(mode, layers, job)
    form, chosen_by = _choose(mode, forms, layers, timings, job)
    report = _finish(variants[form], mode, candidates[(mode, form)], job,
                     evaluation, _metadata_of(mode, info, job))
    report.latency = timings.get((mode, form))
    report.hswish = {
        "requested": job.hswish, "form": form, "chosen_by": chosen_by,
        "layers": layers,
        "median_us": {f: timings[(mode, f)]["median_us"] for f in forms
                      if (mode, f) in timings}}
    report.warnings = [w for w in (
        checks.partition_warning(report),
        checks.slower_than_float_warning(report, float_us,
                                         job.runner.name),
        checks.priced_otherwise_warning(report, provenance)) if w]
    for warning in report.warnings:
      say(f"warning: {warning}")
    stem = f"{model.name}.{mode}"
    os.replace(candidates[(mode, form)], os.path.join(stage,
                                                      f"{stem}.tflite"))
    write_atomically(os.path.join(stage, f"{stem}.json"), json.dumps(
        dataclasses.asdict(report), indent=1) + "\n")
    made.reports.append(report)
    made.files += [f"{stem}.tflite", f"{stem}.json"]
  made.files += _write_beside(stage, model, job, made.reports, info, device,
                              provenance)
  return made


def _modes_converted(job: ExportJob) -> list[str]:
  """The job's modes, and fp32 where an integer file will be timed without
  it: the file an int8 file's latency is compared with."""
  modes = list(job.modes)
  if (job.latency and _FLOAT_MODE not in modes
      and any(m in INTEGER_MODES for m in modes)):
    modes.insert(0, _FLOAT_MODE)
  return modes


def _metadata_of(mode: str, info, job: ExportJob):
  """The metadata ``mode``'s files carry: none for int8 input and output,
  which the TFLite Task library and ML Model Binding do not take (they
  read uint8 or float32 images)."""
  return None if job.int8_io and mode in INTEGER_MODES else info


def _convert(model, variants, mode: str, forms, job: ExportJob, keras_path,
             stage: str, info) -> dict[tuple[str, str], str]:
  """``mode`` in each of ``forms``, with metadata, as files in ``stage``."""
  paths = {form: os.path.join(stage, f"{model.name}.{mode}.{form}.tflite")
           for form in forms}
  if mode == "qat":
    run_qat_process(keras_path, os.path.join(
        stage, f"{model.name}.qat.{{form}}.tflite"), job, forms)
    flatbuffers = {}
    for form, path in paths.items():
      with open(path, "rb") as f:
        flatbuffers[form] = f.read()
  else:
    calibration = (tflite.calibration_sample(job.data, job.seed)
                   if mode == "int8" else None)
    flatbuffers = {form: tflite.convert_to_tflite(
        variants[form], mode, calibration, job.int8_io) for form in forms}
  for form, flatbuffer in flatbuffers.items():
    if info is not None:
      flatbuffer = metadata.with_metadata(flatbuffer, info)
    write_atomically(paths[form], flatbuffer)
  return {(mode, form): path for form, path in paths.items()}


def _choose(mode: str, forms, layers: int, timings, job: ExportJob
            ) -> tuple[str, str]:
  """The form ``mode`` keeps, and why: ``none`` without h-swish, ``flag``
  where one form was asked for, ``latency`` where both were timed, else
  ``rule`` (``hswish.default_form``)."""
  if not layers:
    return hswish.FUSED, "none"
  if job.hswish != hswish.AUTO:
    return job.hswish, "flag"
  timed = {f: timings[(mode, f)]["median_us"] for f in forms
           if (mode, f) in timings}
  if len(forms) > 1 and len(timed) == len(forms):
    return min(timed, key=timed.get), "latency"
  return hswish.default_form(mode), "rule"


def _finish(model, mode: str, candidate: str, job: ExportJob, evaluation,
            info) -> ExportReport:
  """The checks of the kept file against the model it was converted from
  (``model``, in the file's h-swish form), and its metadata (``info``, if
  it has any) read back."""
  with open(candidate, "rb") as f:
    flatbuffer = f.read()
  path = os.path.join(job.output_dir, f"{model.name}.{mode}.tflite")
  report = check_file(model, mode, flatbuffer, path, evaluation)
  if info is not None:
    written = metadata.read_metadata(flatbuffer)  # what an app will read
    report.metadata = {**dataclasses.asdict(written),
                       "labels": len(written.labels)}
  return report


def _write_beside(stage: str, model, job: ExportJob, reports, info,
                  device: str | None, provenance: dict) -> list[str]:
  """The labels file and the model card, once per model; their names."""
  from fbnetv2_tf.cost.keras_counting import count_keras_model  # pylint: disable=g-import-not-at-top
  names = []
  if info is not None:
    names.append(f"{model.name}.labels.txt")
    write_atomically(os.path.join(stage, names[-1]),
                     "\n".join(info.labels) + "\n")
  names.append(f"{model.name}.md")
  write_atomically(os.path.join(stage, names[-1]), model_card.render(
      model.name, job.arch_string or provenance.get("arch"),
      count_keras_model(model), reports, provenance, device))
  return names


def classifier_metadata(model: keras.Model, job: ExportJob
                        ) -> metadata.ClassifierMetadata | None:
  """The TFLite Metadata ``model``'s files get: for an image classifier
  (one grayscale or RGB image in, one score per class out) its labels
  (``job.labels``, else the dataset's class names, else the class indices)
  and this package's input normalization; None for other models."""
  image, output = model.inputs[0].shape, model.outputs[0].shape
  if len(image) != 4 or len(output) != 2:
    return None
  height, width, channels = image[1:]
  if height != width or channels not in (1, 3):
    return None
  classes = output[-1]
  labels = job.labels or getattr(job.data, "class_names", None) or [
      str(i) for i in range(classes)]
  if len(labels) != classes:
    raise UserError(f"{len(labels)} labels for model {model.name!r}, which "
                    f"outputs {classes} class scores")
  description = f"{model.name}, an image classifier exported by fbnetv2_tf"
  if job.arch_string:
    description += f": {job.arch_string}"
  return metadata.ClassifierMetadata(
      name=model.name, labels=tuple(labels), description=description,
      input_size=height, channels=channels,
      labels_file=f"{model.name}.labels.txt")


def measure_latency(paths: Mapping[str, str], settings: MeasureSettings,
                    runner: RunnerChoice = RunnerChoice()) -> probes.Probed:
  """Times ``{name: .tflite path}`` as fbnetv2-benchmark times files, so
  both report one file's same latency: ``probes.measure_files`` on
  ``runner``, with fp32 probes (the benchmark's default dtype)."""
  with contextlib.closing(runner.make()) as made:
    return _measure(made, paths, settings)


def _measure(runner, paths: Mapping[str, str], settings: MeasureSettings
             ) -> probes.Probed:
  with tempfile.TemporaryDirectory() as cache:
    return probes.measure_files(runner, dict(paths), settings, cache, "fp32")


def _latency_report(probed: probes.Probed, name: str,
                    settings: MeasureSettings) -> dict:
  """One file's ``ExportReport.latency``: microseconds over the fast
  trials, which trials those were, and the settings."""
  stats = probed.stats[name]
  return {"median_us": stats.median_us, "p90_us": stats.p90_us,
          "std_us": stats.std_us, "fast_trials": probed.fast_trials,
          "trials": probed.trials, "settings": dataclasses.asdict(settings)}


def run_qat_process(keras_path: str, output: str, job: ExportJob,
                    forms=(hswish.FUSED,)) -> None:
  """Runs ``fbnetv2_tf.export.qat`` in its own process (tfmot switches the
  process it is imported into to legacy Keras), writing one file per
  h-swish form (``{form}`` in ``output``); its one-line error becomes this
  process's."""
  command = [sys.executable, "-m", "fbnetv2_tf.export.qat",
             f"--model={keras_path}", f"--output={output}",
             f"--forms={','.join(forms)}",
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
