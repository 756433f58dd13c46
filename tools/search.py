"""Searches an architecture: bilevel supernet training, then derivation.

Trains the supernet of --space on --dataset (weights on 80 % of the training
images, architecture logits on the other 20 %), derives the architecture and
writes into --output_dir: arch.json, search_result.json, flags.json, the
per-epoch architecture log (arch.json, probabilities.png, search_log.jsonl,
tensorboard/) and checkpoint.npz. Run again with the same flags to resume.

  python -m tools.search --space=tiny32 --target_mflops=0.3 --output_dir=out/search
"""

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.arch_string import to_arch_string
from fbnetv2_tf.training import run_setup

FLAGS = flags.FLAGS

# The share of the epochs that trains the weights only, unless
# --warmup_epochs says otherwise: 2 of the default 10, the main search's
# warm-up in every measurement of the README; 0 for a 1-epoch smoke run.
WARMUP_FRACTION = 0.2


def resource_loss():
  """The ResourceLoss the flags ask for; one-line errors for bad mixes."""
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  targets = {m: v for m, v in (("mflops", FLAGS.target_mflops),
                               ("mparams", FLAGS.target_mparams),
                               ("latency_ms", FLAGS.target_ms))
             if v is not None}
  if len(targets) > 1:
    raise cli.UserError("give one of --target_mflops, --target_mparams, "
                        "--target_ms")
  metric, target = next(iter(targets.items()), (None, None))
  metric = FLAGS.cost_metric or metric or "mflops"
  if target is not None and metric != next(iter(targets)):
    raise cli.UserError(f"--cost_metric={metric} does not match the target's "
                        "metric")
  form = FLAGS.loss or ("none" if target is None else "budget")
  if form in ("budget", "additive") and target is None:
    raise cli.UserError(f"--loss={form} needs a target: "
                        "--target_mflops, --target_mparams or --target_ms")
  if metric == "latency_ms" and not FLAGS.lut:
    raise cli.UserError("a latency cost needs --lut (a latency table JSON)")
  return ResourceLoss(form=form, metric=metric, target=target,
                      weight=FLAGS.cost_weight, penalty=FLAGS.budget_penalty,
                      dual_lr=FLAGS.dual_lr,
                      scale=FLAGS.cost_scale)


def search_config(loss):
  """The SearchConfig the flags ask for."""
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.schedules import TemperatureSchedule  # pylint: disable=g-import-not-at-top
  warmup = FLAGS.warmup_epochs
  if warmup is None:
    warmup = round(WARMUP_FRACTION * FLAGS.epochs)
  if warmup > FLAGS.epochs:
    raise cli.UserError(f"--warmup_epochs={warmup} exceeds "
                        f"--epochs={FLAGS.epochs}")
  schedule = TemperatureSchedule(
      FLAGS.temperature, FLAGS.final_temperature or None,
      FLAGS.temperature_decay)
  return SearchConfig(weight_lr=FLAGS.weight_lr,
                      weight_lr_floor=FLAGS.weight_lr_floor,
                      arch_lr=FLAGS.arch_lr, warmup_epochs=warmup,
                      entropy_weight=FLAGS.entropy_weight,
                      temperature=schedule, loss=loss,
                      child_share=FLAGS.child_share,
                      child_sampling=FLAGS.child_sampling)


def main(argv):
  del argv  # flags only
  space = builtin_spaces.space_from_argument(FLAGS.space)
  cli.quiet_tensorflow_logs()  # the loss and all after it import TensorFlow
  loss = resource_loss()
  config = search_config(loss)
  from fbnetv2_tf.lut.table_file import load_for_search  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import search_job  # pylint: disable=g-import-not-at-top
  strategy = run_setup.strategy(FLAGS.strategy, FLAGS.cpu_replicas)
  data = run_setup.load_data_from_flags(FLAGS, space.max_input_size)
  table = (load_for_search(FLAGS.lut, space, data.image_shape[2],
                           data.num_classes) if FLAGS.lut else None)
  job = search_job.SearchJob(
      space=space, output_dir=FLAGS.output_dir, epochs=FLAGS.epochs,
      batch_size=FLAGS.batch_size, seed=FLAGS.seed,
      steps_per_epoch=FLAGS.steps_per_epoch,
      config=config, latency_table=table,
      strategy=strategy, verbose=FLAGS.verbose, gumbel_mode=FLAGS.gumbel_mode,
      resolution_sampling=FLAGS.resolution_sampling,
      precision=FLAGS.precision, jit_compile=FLAGS.jit_compile,
      deterministic=FLAGS.deterministic,
      derive=cli.flag_definitions("common").derive_config_from_flags(
          FLAGS, FLAGS.derive))
  # Only a run that passes every check is recorded (a mistake must not
  # block the corrected rerun as "a run with other flags").
  search_job.check_job(job, data)
  run_setup.record_flags(FLAGS.output_dir, FLAGS.flag_values_dict(),
                         cli.flag_defaults())
  print(f"Searching {space.name} ({space.num_architectures():.3g} "
        f"architectures) on {data.name}: {len(data.train_labels)} training "
        f"images{' (streamed)' if data.streamed else ''}, {FLAGS.epochs} "
        f"epochs ({config.warmup_epochs} warm-up).")
  result = search_job.run_search(job, data)
  unit = search_job.preflight.UNITS[loss.metric]
  print(f"\nDerived architecture:\n  {to_arch_string(result.arch)}")
  print(f"Cost: expected {result.expected_cost:.4g} {unit} (final "
        f"distribution), counted {result.counted_cost:.4g} {unit} (derived "
        "child)" + (f", target {loss.target:g} {unit}" if loss.target else ""))
  if result.budget_changes and result.predicted_accuracy is None:
    print(f"  ({result.budget_changes} decision change(s) after the argmax "
          "brought the child into the budget band)")
  elif result.budget_changes:
    print(f"  ({result.budget_changes} decision(s) differ from the argmax)")
  print(f"Argmax child inside the supernet: test accuracy "
        f"{result.supernet_test_accuracy:.4f}")
  if result.predicted_accuracy is not None:
    print(f"Derived by evaluation: best of {len(result.candidates)} "
          f"candidates, architecture-split accuracy "
          f"{result.predicted_accuracy:.4f} with inherited weights "
          f"({result.derive_seconds:.0f} s)")
  print(f"Wrote {FLAGS.output_dir}/arch.json")


def run():
  cli.run_binary("search", __doc__, main, required=["output_dir"])


if __name__ == "__main__":
  run()
