"""Builds a latency lookup table (LUT) for a search space.

Every distinct block the space's supernet can instantiate, at the input
shape it sees there, becomes a small TFLite model (fp32 or int8, batch 1),
timed on the host with LiteRT or on an Android device over adb. Rows are
added to --output atomically as they are measured; run the same command
again to resume after a crash or a lost device.

  fbnetv2-build-lut --space=tiny32 --input_channels=1 --output=out/tiny32.lut.json
"""

import contextlib

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.specs import builtin_spaces

FLAGS = flags.FLAGS


def progress_bar(total, description):
  import tqdm  # pylint: disable=g-import-not-at-top
  return tqdm.tqdm(total=total, desc=description, unit="candidate")


def main(argv):
  del argv  # flags only
  space = builtin_spaces.space_from_argument(FLAGS.space)
  common = cli.flag_definitions("common")
  settings = common.measure_settings_from_flags(FLAGS)
  cli.quiet_tensorflow_logs()  # the cost model below imports Keras
  from fbnetv2_tf.lut import candidates  # pylint: disable=g-import-not-at-top
  keys = candidates.enumerate_candidates(space, FLAGS.input_channels,
                                         FLAGS.max_grid)
  print(f"{space.name}: {len(keys)} candidates ({FLAGS.dtype}, "
        f"{space.padding} padding) on "
        f"{FLAGS.runner}, {FLAGS.threads} thread(s)", flush=True)
  from fbnetv2_tf.lut import build  # pylint: disable=g-import-not-at-top
  # closing: the device's pushed files are removed however the build ends.
  with contextlib.closing(common.runner_from_flags(FLAGS)) as runner:
    lut = build.build_lut(space, runner, settings, build.BuildJob(
        output=FLAGS.output, dtype=FLAGS.dtype,
        input_channels=FLAGS.input_channels, num_classes=FLAGS.num_classes,
        max_grid=FLAGS.max_grid, cache_dir=FLAGS.cache_dir,
        workers=FLAGS.workers, limit=FLAGS.limit, hswish=FLAGS.hswish),
        progress=progress_bar)
  print(f"Wrote {FLAGS.output}: {len(lut.rows)} rows, {lut.header.device()}")


def run():
  cli.run_binary("build_lut", __doc__, main, required=["output"])


if __name__ == "__main__":
  run()
