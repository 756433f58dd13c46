"""Derives architectures for several budgets from one finished search.

Rebuilds the trained supernet of --search_dir and, for every target of
--targets, scores --candidates in-band architectures drawn from the learned
distribution as children of it (inherited weights, BatchNorm re-estimated
on training images, accuracy on the search's architecture split), keeping
the best. No supernet training. Writes into --output_dir: arch_TARGET.json
per target, derive_result.json and pareto.png.

  python -m tools.derive --search_dir=out/search --targets=0.15,0.225,0.3 --output_dir=out/derive
"""

import math
import os

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.specs.arch_string import to_arch_string
from fbnetv2_tf.training import run_setup

FLAGS = flags.FLAGS


def targets():
  """--targets as floats; one line for a bad entry."""
  try:
    values = [float(t) for t in FLAGS.targets]
  except ValueError as e:
    raise cli.UserError(f"--targets: {e}") from e
  if (not values or not all(math.isfinite(v) and v > 0 for v in values)
      or len(set(values)) != len(values)):
    raise cli.UserError(f"--targets must be distinct positive numbers, got "
                        f"{','.join(FLAGS.targets)}")
  return values


def candidate_bars(unit):
  """A progress bar of scored candidates per target."""
  import tqdm  # pylint: disable=g-import-not-at-top
  bars = {}
  def progress(target, done, total):
    if target not in bars:
      bars[target] = tqdm.tqdm(total=total, desc=f"{target:g} {unit}",
                               unit="candidate")
    bars[target].update(1)
    if done == total:
      bars[target].close()
  return progress


def main(argv):
  del argv  # flags only
  wanted = targets()
  searched = os.path.join(FLAGS.search_dir, run_setup.RUN_FLAGS)
  if not os.path.exists(searched):
    raise cli.UserError(f"{FLAGS.search_dir} holds no search made by "
                        f"fbnetv2-search (no {run_setup.RUN_FLAGS})")
  cli.quiet_tensorflow_logs()
  from fbnetv2_tf.specs.files import read_json  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import derive_job  # pylint: disable=g-import-not-at-top
  search_flags = read_json(searched)
  # The search's numerics, so that its own target derives its arch.json.
  run_setup.make_deterministic(search_flags["seed"],
                               search_flags.get("deterministic", True))
  described = derive_job.search_description(FLAGS.search_dir)
  metric = FLAGS.metric or described["metric"]
  lut = FLAGS.lut or search_flags.get("lut")
  if metric == "latency_ms" and not lut:
    raise cli.UserError("--metric=latency_ms needs --lut (a latency table "
                        "JSON)")
  from fbnetv2_tf.specs.search_space import SearchSpace  # pylint: disable=g-import-not-at-top
  space = SearchSpace.from_dict(described["space"])
  # The search's own data subset: its architecture split scores candidates.
  data = run_setup.load_data(search_flags["dataset"],
                             search_flags.get("data_dir"),
                             space.max_input_size,
                             search_flags.get("max_train_images"),
                             search_flags["seed"],
                             search_flags.get("input_pipeline", "memory"),
                             search_flags.get("bad_files", "fail"),
                             search_flags.get("max_test_images"))
  table = None
  if metric == "latency_ms":
    from fbnetv2_tf.lut.table_file import load_for_search  # pylint: disable=g-import-not-at-top
    table = load_for_search(lut, space, data.image_shape[2], data.num_classes)
  config = cli.flag_definitions("common").derive_config_from_flags(
      FLAGS, "evaluate")
  unit = derive_job.UNITS[metric]
  print(f"Deriving {len(wanted)} architectures of {space.name} from "
        f"{FLAGS.search_dir}: {config.candidates} candidates each.")
  results = derive_job.derive_targets(
      FLAGS.search_dir, data, wanted, FLAGS.output_dir, metric, config,
      table, FLAGS.band, progress=candidate_bars(unit))
  for r in results:
    print(f"\n{r.target:g} {unit}: counted {r.counted_cost:.4g} {unit} "
          f"({r.counted_cost / r.target:.3f} of target), predicted accuracy "
          f"{r.predicted_accuracy:.4f} ({len(r.candidates)} candidates, "
          f"{r.seconds:.0f} s)\n  {to_arch_string(r.arch)}\n  "
          f"{FLAGS.output_dir}/{r.arch_file}")
  print(f"\nWrote {FLAGS.output_dir}/{derive_job.RESULT_FILE} and "
        f"{FLAGS.output_dir}/{derive_job.PLOT_FILE}")


def run():
  cli.run_binary("derive", __doc__, main,
                 required=["search_dir", "targets", "output_dir"])


if __name__ == "__main__":
  run()
