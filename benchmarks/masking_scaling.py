"""Train-step time and peak memory of one searched stage vs. its options.

Compares, in one run:
  masked  - the FBNetV2 supernet: one block at the largest width, channel masks
  naive   - FBNet style: one block per channel option, outputs zero-padded
  child   - the largest child alone (a plain Keras model)
as the number of output-channel options grows (2, 4, 8, 16, 32), and the
masked supernet as the number of resolution options grows (1 to 4 factors),
keeping or recomputing the low-resolution branches' activations.
Each configuration runs in its own process with TensorFlow's BFC allocator
on the CPU, whose statistics give the exact peak bytes of live tensors during
the timed steps (above what stays allocated between steps).

  python benchmarks/masking_scaling.py [--steps=5] [--batch=32] [--json=out.json]
      [--part=all|channels|resolution]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

STAGE_BLOCKS = 3
IN_CHANNELS = 16
MAX_WIDTH = 32
EXPANSION = 3
SIZE = 32
CHANNEL_OPTIONS = (2, 4, 8, 16, 32)
RESOLUTION_FACTORS = ((1,), (1, 2), (1, 2, 4), (1, 2, 4, 8))


def _widths(n):
  return sorted({max(1, round(MAX_WIDTH * (i + 1) / n)) for i in range(n)})


def _space(n_widths, factors=(1,)):
  from fbnetv2_tf.specs.search_space import SearchSpace  # pylint: disable=g-import-not-at-top
  block = {"ops": ["ir_k3"], "out": _widths(n_widths), "stride": 1,
           "expansions": [EXPANSION], "width_group": "stage"}
  return SearchSpace.from_dict({
      "name": "bench", "width_divisor": 1,
      "input_sizes": [SIZE // f for f in factors],
      "stages": [[dict(block) for _ in range(STAGE_BLOCKS)]]})


def _naive_model(n_widths, num_classes):
  """One InvertedResidual per width option, zero-padded to the largest."""
  import keras  # pylint: disable=g-import-not-at-top
  from keras import ops  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.layers import ClassifierHead, InvertedResidual  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.layers.gumbel import ArchDecision  # pylint: disable=g-import-not-at-top

  widths = _widths(n_widths)

  class Naive(keras.Model):

    def __init__(self):
      super().__init__()
      self.decision = ArchDecision(len(widths), seed=0)
      self.blocks = []
      for b in range(STAGE_BLOCKS):
        cin = IN_CHANNELS if b == 0 else MAX_WIDTH
        self.blocks.append([InvertedResidual(cin, w, cin * EXPANSION,
                                             residual=False)
                            for w in widths])
      self.head = ClassifierHead(num_classes)

    def call(self, x, training=None):
      g = self.decision()
      for candidates in self.blocks:
        outs = [ops.pad(c(x, training=training),
                        [[0, 0], [0, 0], [0, 0], [0, MAX_WIDTH - w]])
                for c, w in zip(candidates, widths)]
        x = sum(g[i] * o for i, o in enumerate(outs))
      return self.head(x, training=training)

  return Naive()


def _build(kind, n):
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.search_model import Supernet  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.derive import derive_arch  # pylint: disable=g-import-not-at-top
  if kind == "masked":
    return Supernet(_space(n), 10, input_channels=IN_CHANNELS, seed=0)
  if kind == "resolution":
    return Supernet(_space(2, RESOLUTION_FACTORS[n - 1]), 10,
                    input_channels=IN_CHANNELS, seed=0)
  if kind == "naive":
    return _naive_model(n, 10)
  space = _space(2)
  widest = {d.name: d.size - 1 for d in space.decisions()}
  return build_child_model(derive_arch(space, widest), 10,
                           input_channels=IN_CHANNELS)


def run_one(kind, n, steps, batch):
  """Builds one configuration and times its train step; returns a dict."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  # One op at a time (each still uses every core): with parallel ops the
  # order, and so the peak of live tensors, varies from run to run.
  tf.config.threading.set_inter_op_parallelism_threads(1)
  keras.utils.set_random_seed(0)
  model = _build(kind, n)
  x = np.random.default_rng(0).uniform(-1, 1, (batch, SIZE, SIZE, IN_CHANNELS)
                                       ).astype("float32")
  y = np.arange(batch) % 10
  model(x[:1])  # build eagerly before tracing
  optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
  optimizer.build(model.trainable_variables)
  loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(grads, model.trainable_variables)
    return loss

  step(x, y).numpy()  # trace, optimise and run once
  # TensorFlow's BFC allocator (enabled on the CPU by _spawn) counts the
  # bytes of live tensors exactly; process RSS would also count freed pages
  # that malloc keeps. Peak minus what stays allocated between steps
  # (variables, optimizer slots) is the step's working memory.
  tf.config.experimental.reset_memory_stats("CPU:0")
  resident = tf.config.experimental.get_memory_info("CPU:0")["current"]
  times = []
  for _ in range(steps):
    t = time.perf_counter()
    step(x, y).numpy()
    times.append(time.perf_counter() - t)
  peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] - resident
  # The fastest step: on a shared, noisy CPU the minimum is the most
  # repeatable estimate of what the step itself costs.
  return {"kind": kind, "n": n, "step_s": float(np.min(times)),
          "peak_mib": peak / 2**20,
          "params": int(sum(np.prod(v.shape) for v in model.trainable_variables))}


def _spawn(kind, n, steps, batch):
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
         "TF_CPU_ALLOCATOR_USE_BFC": "true"}
  out = subprocess.run([sys.executable, __file__, f"--one={kind}:{n}",
                        f"--steps={steps}", f"--batch={batch}"],
                       capture_output=True, text=True, env=env, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--json", default=None, help="also write results here")
  parser.add_argument("--part", default="all",
                      choices=("all", "channels", "resolution"))
  parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.one:
    kind, n = args.one.split(":")
    print(json.dumps(run_one(kind, int(n), args.steps, args.batch)))
    return
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  child = _spawn("child", 0, args.steps, args.batch)
  rows = [("child", "-", child)]
  channel_kinds = ("masked", "naive") if args.part != "resolution" else ()
  resolution_kinds = ("resolution",) if args.part != "channels" else ()
  for kind in channel_kinds:
    for n in CHANNEL_OPTIONS:
      rows.append((kind, n, _spawn(kind, n, args.steps, args.batch)))
      print(f"  {kind} {n}: {rows[-1][2]['step_s']:.3f} s", file=sys.stderr)
  for kind in resolution_kinds:
    for i, factors in enumerate(RESOLUTION_FACTORS, 1):
      rows.append((kind, factors, _spawn(kind, i, args.steps, args.batch)))
  _report(rows, child, args)


def _report(rows, child, args):
  base = {k: next(r for kk, _, r in rows if kk == k)
          for k in {kk for kk, _, _ in rows}}
  print(f"One searched stage: {STAGE_BLOCKS} inverted residual blocks, input "
        f"{SIZE}x{SIZE}x{IN_CHANNELS}, widths up to {MAX_WIDTH}, expansion "
        f"{EXPANSION}, batch {args.batch}, fastest of {args.steps} steps.\n")
  print("| model | options | step (ms) | vs fewest | vs child | peak MiB "
        "| vs fewest | vs child |")
  print("|---|---|---:|---:|---:|---:|---:|---:|")
  for kind, n, r in rows:
    ref = base.get(kind, child)
    extra = ""
    if kind == "resolution":
      factors = n
      expected = sum(1 / f**2 for f in factors)
      extra = f" (sum 1/r^2 = {expected:.3f})"
    print(f"| {kind} | {n}{extra} | {1000 * r['step_s']:.1f} | "
          f"{r['step_s'] / ref['step_s']:.2f}x | "
          f"{r['step_s'] / child['step_s']:.2f}x | {r['peak_mib']:.0f} | "
          f"{r['peak_mib'] / ref['peak_mib']:.2f}x | "
          f"{r['peak_mib'] / child['peak_mib']:.2f}x |")
  if args.json:
    with open(args.json, "w", encoding="utf-8") as f:
      json.dump([{"kind": k, "options": str(n), **r} for k, n, r in rows], f,
                indent=1)


if __name__ == "__main__":
  main()
