"""Builds architectures as Keras models and exports them to float32 TFLite.

For each model, writes NAME.keras and NAME.tflite (batch 1, fixed shape) into
--output_dir and checks the TFLite output against Keras in LiteRT.

  python -m tools.export --arch=FBNetV2_F1 --output_dir=out/f1
"""

import os

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.models import arch_source

FLAGS = flags.FLAGS


def main(argv):
  del argv  # flags only
  archs = arch_source.archs_from_argument(FLAGS.arch, FLAGS.input_size)
  if FLAGS.weights and not os.path.isfile(FLAGS.weights):
    raise cli.UserError(f"--weights {FLAGS.weights!r}: no such file")
  # Imported after argument checks so a bad flag fails before TensorFlow loads.
  cli.quiet_tensorflow_logs()
  from fbnetv2_tf.export import pipeline  # pylint: disable=g-import-not-at-top
  os.makedirs(FLAGS.output_dir, exist_ok=True)
  for arch in archs.values():
    result = pipeline.export_arch(arch, FLAGS.output_dir, FLAGS.num_classes,
                                  FLAGS.weights)
    print(result.summary())


def run():
  cli.run_binary("export", __doc__, main, required=["arch", "output_dir"])


if __name__ == "__main__":
  run()
