"""Checks a latency table against whole networks measured end to end.

Samples --archs architectures from the LUT's space, predicts each one's
latency by summing its blocks' entries, converts and times each whole
network on the same runner with the LUT's own measurement settings, and
reports MAPE and Spearman rank correlation with a scatter plot. With
--calibrate, fits measured = scale * predicted + offset and stores it beside
the LUT, where searches with --lut pick it up.

  fbnetv2-validate-lut --lut=out/tiny32.lut.json --archs=20
"""

import json
import os

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.files import write_atomically

FLAGS = flags.FLAGS


def main(argv):
  del argv  # flags only
  if not os.path.isfile(FLAGS.lut):
    raise cli.UserError(f"--lut {FLAGS.lut!r}: no such file")
  cli.quiet_tensorflow_logs()  # the cost model below imports Keras
  from fbnetv2_tf.lut import table_file  # pylint: disable=g-import-not-at-top
  lut = table_file.LutFile.load(FLAGS.lut)
  if not FLAGS.space and lut.header.space not in builtin_spaces.names():
    raise cli.UserError(f"{FLAGS.lut} was built for space "
                        f"{lut.header.space!r}, which is not built in: pass "
                        "its JSON file as --space")
  space = builtin_spaces.space_from_argument(FLAGS.space or lut.header.space)
  if space.padding != lut.header.padding:
    # The networks are timed as the table's candidates were padded.
    raise cli.UserError(f"space {space.name!r} pads strided convs "
                        f"{space.padding}, {FLAGS.lut} was built "
                        f"{lut.header.padding}: build a table for the space")
  import contextlib  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.errors import RunnerError  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  stem = os.path.splitext(FLAGS.lut)[0]
  archs = validate.sample_archs(space, FLAGS.archs, FLAGS.seed,
                                FLAGS.input_size)
  size = FLAGS.input_size or space.max_input_size
  print(f"Validating {FLAGS.lut} ({lut.header.device()}) on {len(archs)} "
        f"architectures of {space.name} at up to {size} px", flush=True)
  with contextlib.closing(
      cli.flag_definitions("common").runner_from_flags(FLAGS)) as runner:
    if runner.describe() != lut.header.runner:
      raise RunnerError(f"{FLAGS.lut} was measured on {lut.header.device()}; "
                        "validate it on the same runner and device")
    result = validate.validate(
        lut, archs, runner, MeasureSettings(**lut.header.settings),
        FLAGS.work_dir or f"{stem}.validation", f"{stem}.cache")
  print(result.summary())
  report = {"lut": FLAGS.lut, "input_size": FLAGS.input_size,
            "mape": result.mape, "spearman": result.spearman,
            **{k: v for k, v in vars(result).items()}}
  stored = table_file.calibration_path(FLAGS.lut)
  if not FLAGS.calibrate and os.path.exists(stored):
    from fbnetv2_tf.specs.files import read_json  # pylint: disable=g-import-not-at-top
    fitted = read_json(stored)
    corrected = result.corrected(fitted["scale"], fitted["offset_ms"])
    print(f"With the stored correction ({stored}): {corrected.summary()}")
    report["corrected"] = {"mape": corrected.mape,
                           "spearman": corrected.spearman, **fitted}
  if FLAGS.calibrate:
    fitted = result.calibration()
    write_atomically(stored,
                     json.dumps(fitted, indent=1) + "\n")
    report["calibration"] = fitted
    print(f"Calibration: measured = {fitted['scale']:.4f} x predicted + "
          f"{fitted['offset_ms']:.4f} ms; MAPE after it "
          f"{100 * fitted['mape_after']:.2f} % (written to "
          f"{stored})")
  suffix = f"{size}px"
  write_atomically(f"{stem}.validation_{suffix}.json",
                   json.dumps(report, indent=1) + "\n")
  validate.plot(result, f"{stem}.validation_{suffix}.png",
                f"{space.name} at {size} px, {lut.header.device()}")
  print(f"Wrote {stem}.validation_{suffix}.json and .png")


def run():
  cli.run_binary("validate_lut", __doc__, main, required=["lut"])


if __name__ == "__main__":
  run()
