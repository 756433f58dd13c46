"""Exports a model to TFLite: fp32, fp16, dynamic range, int8 or QAT int8.

The model is a trained .keras file (--model, as fbnetv2-train writes it) or
an architecture (--arch: zoo name, arch JSON or arch string) with optional
--weights. Each mode writes NAME.MODE.tflite (batch 1, fixed shape; with TFLite
Metadata: labels, input normalization, tensor names, except int8 and qat
files with --int8_io, whose inputs are not floats) and NAME.MODE.json
with the deployment checks, printed as one line: LiteRT vs Keras, XNNPACK
partitions, ops left in float, accuracy and top-1 agreement on --dataset's
test split, latency on --runner (timed as fbnetv2-benchmark times a file,
with its default settings). --hswish=auto (the default) converts h-swish
models in both forms and keeps the faster. Beside them: NAME.labels.txt,
the model card NAME.md and, for --arch, NAME.keras. A warning line says
when a graph splits into several XNNPACK partitions (and which ops cause
it), when an int8 file runs slower than fp32, and when the file holds
h-swish in another form than the latency table of its search priced.

  fbnetv2-export --model=out/child/NAME.keras --mode=fp32,int8,qat \
      --dataset=fashion_mnist --output_dir=out/tflite
"""

import os

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.models import arch_source

FLAGS = flags.FLAGS
MODES = cli.flag_definitions("export").MODES


def _check_sources():
  if bool(FLAGS.model) == bool(FLAGS.arch):
    raise cli.UserError("give exactly one of --model (a .keras file) and "
                        "--arch (with optional --weights)")
  if FLAGS.weights and not FLAGS.arch:
    raise cli.UserError("--weights goes with --arch; a --model file holds its "
                        "own weights")
  if FLAGS.weights and not os.path.isfile(FLAGS.weights):
    raise cli.UserError(f"--weights {FLAGS.weights!r}: no such file")
  if FLAGS.model and not os.path.isfile(FLAGS.model):
    raise cli.UserError(f"--model {FLAGS.model!r}: no such file")
  unknown = [m for m in FLAGS.mode if m not in MODES]
  if unknown or not FLAGS.mode:
    raise cli.UserError(f"unknown --mode {','.join(unknown) or '(empty)'}; "
                        f"known: {','.join(MODES)}")


def _latency_settings():
  """fbnetv2-benchmark's default settings at --threads (None: --nolatency),
  so both binaries report the same latency for one file; --seed seeds the
  export, not the timing."""
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  return MeasureSettings(threads=FLAGS.threads) if FLAGS.latency else None


def _job(data, source, arch_string):
  from fbnetv2_tf.export import pipeline  # pylint: disable=g-import-not-at-top
  return pipeline.ExportJob(
      output_dir=FLAGS.output_dir, modes=tuple(FLAGS.mode), data=data,
      dataset=FLAGS.dataset, data_dir=FLAGS.data_dir,
      max_train_images=FLAGS.max_train_images,
      input_pipeline=FLAGS.input_pipeline, bad_files=FLAGS.bad_files,
      qat_epochs=FLAGS.qat_epochs,
      int8_io=FLAGS.int8_io, max_eval_images=FLAGS.max_eval_images,
      latency=_latency_settings(),
      runner=cli.flag_definitions("common").runner_choice_from_flags(FLAGS),
      hswish=FLAGS.hswish, source=source, arch_string=arch_string,
      seed=FLAGS.seed)


def _load_data(input_size: int):
  if FLAGS.dataset is None:
    return None
  from fbnetv2_tf.training import run_setup  # pylint: disable=g-import-not-at-top
  return run_setup.load_data(FLAGS.dataset, FLAGS.data_dir, input_size,
                             None, FLAGS.seed, FLAGS.input_pipeline,
                             FLAGS.bad_files, FLAGS.max_test_images)


def _models():
  """(model, its .keras path or None, data, arch string or None) for every
  model to export; a model built from --arch is saved beside its files by
  the export."""
  from fbnetv2_tf.export import sources  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  if FLAGS.model:
    model = sources.load_keras_model(FLAGS.model)
    yield model, FLAGS.model, _load_data(model.inputs[0].shape[1]), None
    return
  archs = arch_source.archs_from_argument(FLAGS.arch, FLAGS.input_size)
  for arch in archs.values():
    data = _load_data(arch.input_size)
    # A dataset decides the classes and channels; without one, --num_classes
    # and RGB.
    classes, channels = ((data.num_classes, data.image_shape[2]) if data
                         else (FLAGS.num_classes, 3))
    model = sources.model_for_arch(arch, FLAGS.weights, classes, channels)
    yield model, None, data, to_arch_string(arch)


def main(argv):
  del argv  # flags only
  _check_sources()
  if FLAGS.arch:
    arch_source.archs_from_argument(FLAGS.arch, FLAGS.input_size)
  # Imported after argument checks so a bad flag fails before TensorFlow loads.
  cli.quiet_tensorflow_logs()
  from fbnetv2_tf.export import pipeline  # pylint: disable=g-import-not-at-top
  for model, keras_path, data, arch_string in _models():
    job = _job(data, FLAGS.model or FLAGS.arch, arch_string)
    # A model built from --arch is kept beside its files as NAME.keras:
    # the Keras model they were checked against.
    for report in pipeline.export_model(
        model, job, keras_path, progress=lambda m: print(m, flush=True),
        save_keras=keras_path is None):
      print(report.summary())


def run():
  cli.run_binary("export", __doc__, main, required=["output_dir"])


if __name__ == "__main__":
  run()
