"""Latency-table tour: build a host LUT for a small space, check it against
whole networks, and search with it under a latency budget.

  python examples/lut_tour.py     # writes into ./lut_tour/, about 2 minutes

The binaries do the same at scale: ``fbnetv2-build-lut``,
``fbnetv2-validate-lut`` and ``fbnetv2-search --lut --target_ms``. For a
phone, make the runner with ``make_runner("adb", benchmark_binary=...)``
(``fbnetv2_tf.lut.runners``).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# pylint: disable=wrong-import-position
import numpy as np

import fbnetv2_tf as fbn
from fbnetv2_tf.lut import build, candidates, validate
from fbnetv2_tf.lut.runner import MeasureSettings
from fbnetv2_tf.lut.runners import make_runner
from fbnetv2_tf.lut.table_file import load_for_search

# Two searched blocks (an h-swish squeeze-excite option among them) on
# 16 px digits: a table of a few dozen candidates.
SPACE = fbn.SearchSpace.from_dict({
    "name": "lut_tour", "input_sizes": [16], "width_divisor": 4,
    "stages": [
        [{"ops": ["conv_k3_hs"], "out": [8], "stride": 2}],
        [{"ops": ["ir_k3", "ir_k5", "ir_k3_sehsig_hs"], "out": [8, 16],
          "stride": 2, "expansions": [2, 4]},
         {"ops": ["ir_k3", "ir_k5", "skip"], "out": [16], "stride": 1,
          "expansions": [2, 4]}],
        [{"ops": ["ir_pool_hs"], "out": [32], "stride": 1,
          "expansions": [4]}]]})
WORK = "lut_tour"  # in the current directory
TABLE = os.path.join(WORK, "lut_tour.lut.json")


def main():
  # 1. Build: every distinct block at the shape it sees, timed on this host
  #    in fp32 with 1 thread; a rerun resumes (only missing rows are timed).
  runner = make_runner("host")
  settings = MeasureSettings(threads=1, trials=11, runs=50)
  job = build.BuildJob(output=TABLE, input_channels=1, num_classes=10)
  lut = build.build_lut(SPACE, runner, settings, job)
  keys = candidates.enumerate_candidates(SPACE, input_channels=1)
  print(f"{TABLE}: {len(lut.rows)} rows for {len(keys)} candidates, "
        f"{lut.header.device()}")

  # 2. Validate: predicted (sum of rows) against whole networks timed alike.
  archs = validate.sample_archs(SPACE, 6, seed=0)
  result = validate.validate(lut, archs, runner, settings,
                             os.path.join(WORK, "networks"), job.cache)
  print(f"validation: {result.summary()}")

  # 3. Search with it: the latency cost is the table's expected latency.
  table = load_for_search(TABLE, SPACE, input_channels=1, num_classes=10)
  predicted_ms = [validate.predicted_us(a, table, 1) / 1e3
                  for a in validate.sample_archs(SPACE, 40, seed=1)]
  target = round(float(np.quantile(predicted_ms, 0.4)), 5)
  data = fbn.load_dataset("digits", image_size=16).subset(max_train=480,
                                                          seed=0)
  net = fbn.Supernet(SPACE, num_classes=10, seed=0)
  net.compile(search_config=fbn.SearchConfig(
      warmup_epochs=1,
      loss=fbn.ResourceLoss("budget", "latency_ms", target)),
              latency_table=table)
  net.fit(data.train_images, data.train_labels, batch_size=32, epochs=3,
          verbose=0)
  arch = net.derive(target=target, metric="latency_ms", latency_table=table)
  print(f"derived: {fbn.to_arch_string(arch)}")
  print(f"predicted {validate.predicted_us(arch, table, 1) / 1e3:.5f} ms, "
        f"target {target} ms")


if __name__ == "__main__":
  main()
