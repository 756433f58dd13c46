"""Trains an architecture from scratch and evaluates it.

--arch is an arch.json from tools/search.py, a zoo name or an arch string;
the model is trained on --dataset at the architecture's input size. Writes
NAME.keras, train_result.json, flags.json and checkpoint.npz into
--output_dir. Run again with the same flags to resume.

  python -m tools.train --arch=out/search/arch.json --output_dir=out/child
"""

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.models import arch_source
from fbnetv2_tf.specs.arch_string import to_arch_string
from fbnetv2_tf.training import run_setup

FLAGS = flags.FLAGS


def main(argv):
  del argv  # flags only
  archs = arch_source.archs_from_argument(FLAGS.arch)
  if len(archs) != 1:
    raise cli.UserError(f"--arch {FLAGS.arch!r} holds {len(archs)} models; "
                        "train one at a time")
  arch = next(iter(archs.values()))
  cli.quiet_tensorflow_logs()
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import child  # pylint: disable=g-import-not-at-top
  strategy = run_setup.strategy(FLAGS.strategy, FLAGS.cpu_replicas)
  data = run_setup.load_data_from_flags(FLAGS, arch.input_size)
  job = child.TrainJob(
      output_dir=FLAGS.output_dir, epochs=FLAGS.epochs,
      batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
      steps_per_epoch=FLAGS.steps_per_epoch,
      seed=FLAGS.seed, strategy=strategy, verbose=FLAGS.verbose,
      precision=FLAGS.precision, jit_compile=FLAGS.jit_compile,
      deterministic=FLAGS.deterministic)
  child.check_job(arch, data, job)  # before flags.json, as in search
  run_setup.record_flags(FLAGS.output_dir, FLAGS.flag_values_dict(),
                         cli.flag_defaults())
  counts = count_arch(arch, data.num_classes, data.image_shape[2])
  print(f"Training {to_arch_string(arch)}\n  {counts.mflops:.4g} MFLOPs, "
        f"{counts.mparams:.4g} M params, on {data.name}: "
        f"{len(data.train_labels)} training images, {FLAGS.epochs} epochs.")
  result = child.train_child(arch, data, job)
  print(f"Test accuracy of {arch.name}: {result.test_accuracy:.4f} "
        f"({len(data.test_labels)} test images)")
  print(f"Wrote {result.model_path}")


def run():
  cli.run_binary("train", __doc__, main, required=["arch", "output_dir"])


if __name__ == "__main__":
  run()
