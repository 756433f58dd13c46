"""Latency of .tflite files or zoo models on the host or an Android device.

Every model is timed in one run with the same settings, interleaved: the
median over trials of the mean of --runs back-to-back invokes, p90 and
standard deviation, in milliseconds. As in a latency-table build, only the
trials run in the machine's fast state count (--fast_within; a reference
block rides along, ``fbnetv2_tf/lut/probes.py``); --fast_within=0 keeps
every trial. fbnetv2-export's latency check times the same way with these
defaults, so both report the same latency for one file.

  fbnetv2-benchmark --model=FBNetV2_F1,out/tflite/child.int8.tflite
"""

import contextlib
import os
import tempfile

from absl import flags

from fbnetv2_tf import cli

FLAGS = flags.FLAGS


def _tflite_files(work_dir):
  """{name: .tflite path}; zoo names are converted into ``work_dir``."""
  from fbnetv2_tf.export.tflite_file import check_tflite_file  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models import zoo  # pylint: disable=g-import-not-at-top
  paths = {}
  for item in FLAGS.model:
    if os.path.isfile(item):
      check_tflite_file(item, load=FLAGS.runner == "host")
      paths[os.path.basename(item)] = item
    elif zoo.canonical_name(item):
      arch = zoo.get_arch(item)
      if FLAGS.input_size:
        arch = arch.replace(input_size=FLAGS.input_size)
      from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
      path = os.path.join(work_dir, f"{arch.name}.{FLAGS.dtype}.tflite")
      paths[f"{arch.name}.{FLAGS.dtype}"] = validate.convert_arch(
          arch, path, FLAGS.dtype, FLAGS.num_classes)
    else:
      raise cli.UserError(f"--model {item!r} is neither a file nor a zoo "
                          f"model ({', '.join(zoo.names())})")
  return paths


def measure():
  """Every --model timed with the flags' settings on the flags' runner: a
  ``probes.Probed`` and where it was timed (the runner's ``describe``)."""
  common = cli.flag_definitions("common")
  settings = common.measure_settings_from_flags(FLAGS)
  from fbnetv2_tf.lut import probes  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as work, contextlib.closing(
      common.runner_from_flags(FLAGS)) as runner:
    paths = _tflite_files(work)
    # The probes are converted into the work folder, like zoo models.
    return (probes.measure_files(runner, paths, settings, work, FLAGS.dtype),
            runner.describe())


def main(argv):
  del argv  # flags only
  missing = [m for m in FLAGS.model if m.endswith(".tflite")
             and not os.path.isfile(m)]
  if missing:
    raise cli.UserError(f"--model {missing[0]!r}: no such file")
  cli.quiet_tensorflow_logs()
  probed, where = measure()
  selected = ("" if not FLAGS.fast_within else
              f" ({probed.fast_trials} of {probed.trials} trials in the fast "
              "state)")
  print(f"{where.get('runner')}: {where.get('cpu_model') or where.get('model')}"
        f", {FLAGS.threads} thread(s), {FLAGS.trials} trials x {FLAGS.runs} "
        f"runs{selected}")
  width = max(len(n) for n in probed.stats)
  for name, stats in probed.stats.items():
    print(f"  {name:<{width}}  median {stats.median_us / 1e3:9.3f} ms  p90 "
          f"{stats.p90_us / 1e3:9.3f} ms  std {stats.std_us / 1e3:7.3f} ms")


def run():
  cli.run_binary("benchmark", __doc__, main, required=["model"])


if __name__ == "__main__":
  run()
