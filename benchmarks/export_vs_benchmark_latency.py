"""fbnetv2-export's latency check and fbnetv2-benchmark report one .tflite
file's same latency: both code paths on the same file, interleaved in one
process so that both see the same machine.

The file is a tiny32 child (sampled with --seed; 1-channel input, 10
classes) or --arch (a zoo name, arch JSON or arch string, 1000 classes),
converted to fp32 with batch 1. Each of --rounds rounds times it once
through the export pipeline's latency check (``pipeline.measure_latency``
with ``ExportJob``'s default settings: what tools/export.py passes at its
default --threads) and once through fbnetv2-benchmark
(``tools.benchmark.measure`` with the binary's default flags and
--model=FILE), alternating which goes first, after one short untimed run
(a process's first timing runs slow). It prints each measurement's
median in microseconds, then the median over rounds of each path, their
ratio (export / benchmark; 1 within run-to-run noise) and, for scale, each
path's spread between its own rounds (slowest / fastest round).

  python benchmarks/export_vs_benchmark_latency.py [--rounds=6]
      [--arch=FBNetV2_F1 --input_size=64] [--work_dir=out/export_vs_benchmark]
"""

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tflite_file(args) -> str:
  """The timed file, converted once into ``args.work_dir``."""
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models import arch_source  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  if args.arch:
    (arch,) = arch_source.archs_from_argument(args.arch,
                                              args.input_size).values()
    model = build_child_model(arch, 1000)
  else:
    from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
    from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
    (arch,) = validate.sample_archs(builtin_spaces.tiny32(), 1, args.seed,
                                    args.input_size)
    model = build_child_model(arch, 10, input_channels=1)
  os.makedirs(args.work_dir, exist_ok=True)
  path = os.path.join(args.work_dir, f"{arch.name}.fp32.tflite")
  tflite.write_tflite(model, path, "fp32")
  return path


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=6)
  parser.add_argument("--arch", default=None)
  parser.add_argument("--input_size", type=int, default=None)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--work_dir", default=os.path.join(
      ROOT, "out", "export_vs_benchmark"))
  args = parser.parse_args()
  from absl import flags  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import cli  # pylint: disable=g-import-not-at-top
  cli.quiet_tensorflow_logs()
  path = tflite_file(args)
  # fbnetv2-benchmark --model=PATH, all else at the binary's defaults.
  cli.flag_definitions("benchmark").define_benchmark_flags()
  flags.FLAGS(["benchmark", f"--model={path}"])
  from fbnetv2_tf.export import pipeline  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  from tools import benchmark  # pylint: disable=g-import-not-at-top
  export_settings = pipeline.ExportJob(args.work_dir).latency
  # Lazy initialisation and cold caches would slow whichever path went first.
  HostRunner().measure({"warmup": path}, MeasureSettings(trials=3, runs=10))

  def exported():
    return pipeline.measure_latency({"fp32": path}, export_settings)

  def benchmarked():
    return benchmark.measure()[0]

  medians = {"export": [], "benchmark": []}
  print(f"{path}: {args.rounds} rounds, {export_settings}")
  for round_ in range(args.rounds):
    order = (("export", exported), ("benchmark", benchmarked))
    for name, measure in order if round_ % 2 == 0 else order[::-1]:
      probed = measure()
      (stats,) = probed.stats.values()
      medians[name].append(stats.median_us)
      print(f"  round {round_ + 1} {name:<9} median {stats.median_us:9.2f} us"
            f" ({probed.fast_trials} of {probed.trials} trials fast)",
            flush=True)
  summary = {name: float(np.median(v)) for name, v in medians.items()}
  report = {
      "file": path,
      "rounds": args.rounds,
      "median_us": summary,
      "ratio_export_to_benchmark": summary["export"] / summary["benchmark"],
      "spread_between_rounds": {name: max(v) / min(v)
                                for name, v in medians.items()},
      "per_round_us": medians}
  print(json.dumps(report, indent=1))


if __name__ == "__main__":
  main()
