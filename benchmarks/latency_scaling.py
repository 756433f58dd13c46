"""Host latency follows the work: wider convolutions measure slower.

Two 3x3 convolutions on a 32 px, 3-channel image, with 4 and with 64
filters (and any other widths given), exported to fp32 TFLite and timed in
one LiteRT process, interleaved (``fbnetv2_tf.lut.host``), so the
ratios are fair on a busy machine. Reports each model's multiply-adds and
latency, and its ratio of medians to the narrowest. The claim: the widest
model, with about 150 times the multiply-adds of the narrowest, measures
more than 5 times slower. A wall-clock figure belongs here rather than in
the unit tests, where a slow or loaded machine would fail them; this exits
non-zero when the claim does not hold.

  python benchmarks/latency_scaling.py [--filters=4,64] [--trials=11]
      [--results=benchmarks/results/latency_scaling.json]
"""

import argparse
import json
import os
import sys

# export_table imports _common, which makes the checkout importable.
from export_table import keras_mmacs, milliseconds  # pylint: disable=import-error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The widest model must measure more than this many times the narrowest.
MIN_RATIO = 5.0


def conv_model(filters):
  """The timed model: two same-padded 3x3 convolutions of ``filters``."""
  import keras  # pylint: disable=g-import-not-at-top
  keras.utils.set_random_seed(0)
  inputs = keras.Input((32, 32, 3))
  x = keras.layers.Conv2D(filters, 3, padding="same")(inputs)
  x = keras.layers.Conv2D(filters, 3, padding="same")(x)
  return keras.Model(inputs, x)


def measure(filters, protocol):
  """Multiply-adds and latency of each width, and the ratio of medians to
  the narrowest; keyed ``conv{filters}``."""
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import host  # pylint: disable=g-import-not-at-top
  models = {f"conv{f}": conv_model(f) for f in filters}
  timed = host.measure_flatbuffers(
      {name: tflite.convert_to_tflite(m) for name, m in models.items()},
      protocol)
  narrowest = timed[f"conv{min(filters)}"].median_us
  return {name: {"mmacs": round(keras_mmacs(models[name]), 4),
                 **{k: round(v, 5) for k, v in milliseconds(t).items()},
                 "ratio_to_narrowest": round(t.median_us / narrowest, 2)}
          for name, t in timed.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--filters", default="4,64",
                      help="comma-separated widths; the claim compares the "
                      "narrowest and the widest")
  parser.add_argument("--warmup", type=int, default=20)
  parser.add_argument("--trials", type=int, default=11)
  parser.add_argument("--invokes", type=int, default=20)
  parser.add_argument("--results", default=os.path.join(
      ROOT, "benchmarks", "results", "latency_scaling.json"))
  args = parser.parse_args()
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=g-import-not-at-top
  filters = sorted({int(f) for f in args.filters.split(",")})
  protocol = MeasureSettings(threads=1, warmup=args.warmup,
                             trials=args.trials, runs=args.invokes,
                             fast_within=None)
  models = measure(filters, protocol)
  ratio = models[f"conv{filters[-1]}"]["ratio_to_narrowest"]
  report = {"protocol": protocol.__dict__, "models": models,
            "claim": {"min_ratio": MIN_RATIO, "ratio": ratio,
                      "holds": ratio > MIN_RATIO}}
  write_atomically(args.results, json.dumps(report, indent=1) + "\n")
  print(json.dumps(report, indent=1))
  print(f"conv{filters[-1]} measures {ratio:.1f} times conv{filters[0]} "
        f"(claim: more than {MIN_RATIO:g})", file=sys.stderr)
  sys.exit(0 if report["claim"]["holds"] else 1)


if __name__ == "__main__":
  main()
