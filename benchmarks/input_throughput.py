"""Input throughput: does the streaming pipeline keep up with the search step?

Measures, in one run, each in a process of its own:
  stream/jpeg224  images per second of the streaming search pipeline
                  (``data.search_dataset``: pairs of a weight and an
                  architecture batch, batch 32, the weight batch with the
                  random resized crop and mirror) over Fashion-MNIST written
                  as 224 px grey JPEGs (``benchmarks/image_folders.py``)
  stream/png32    the same over 32 px PNGs (tiny32's size; translation and
                  mirror instead of the crop)
  step/fbnetv2_f  images per second of the ``fbnetv2_f`` supernet's search
                  step at 224 px: the bilevel ``train_step`` of
                  ``search.search_model.Supernet`` compiled with the default
                  ``SearchConfig`` (a weight update on one batch, an
                  architecture update on another), under the search's
                  determinism settings, fed constant batches; then the same
                  step fed by the streaming pipeline (``fed``)
  step/tiny32     the same for tiny32 at 32 px
(``--big_step=weight`` times the fbnetv2_f step's weight update alone,
which bounds the search step's images per second from above, where the
whole search step does not fit in memory.)
Both sides count every image of both batches of a pair, so the ratio
pipeline / step says how many times over the pipeline could feed the step;
it is the claim when it is at least 1 for fbnetv2_f. The fed step's rate
against the constant-fed one shows the two sharing the cores.

  python benchmarks/input_throughput.py [--big_step_batch=8]
      [--small_step_batch=64] [--big_steps=3] [--small_steps=20]
      [--resolution_sampling=all|one] [--big_step=search|weight]
      [--work_dir=out/input_throughput]
      [--json=benchmarks/results/input_throughput.json]

The files are read from the page cache after they are written: this is
decoding and augmentation throughput, not disk throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import image_folders, input_memory  # pylint: disable=wrong-import-position  (after the path above)

# (format, size) of the two folders, and the space whose step each feeds.
FOLDERS = {"jpeg224": ("jpeg", 224), "png32": ("png", 32)}
STEPS = {"fbnetv2_f": "jpeg224", "tiny32": "png32"}
TRAIN_IMAGES = 2000
TEST_IMAGES = 100
PIPELINE_BATCH = 32
CLASSES = 10


def folder_of(work_dir: str, name: str) -> str:
  return os.path.join(work_dir, f"fmnist_{name}_{TRAIN_IMAGES}")


def _streamed_pairs(data_dir: str, size: int, batch: int, pairs: int,
                    seed: int = 0):
  """The search pipeline over the folder, at least ``pairs`` elements."""
  from fbnetv2_tf import data as data_lib  # pylint: disable=import-outside-toplevel
  data = data_lib.load_dataset("image_folder", data_dir, image_size=size,
                               pipeline="stream")
  weight, arch = data_lib.split_for_search(data, seed)
  per_epoch = len(weight[1]) // batch
  dataset, _ = data_lib.search_dataset(weight, arch, batch, seed,
                                       epochs=-(-pairs // per_epoch),
                                       flip=data.flip)
  return dataset, data


def pipeline_rate(data_dir: str, size: int, batch: int = PIPELINE_BATCH,
                  pairs: int = 40, warmup: int = 10, rounds: int = 3) -> dict:
  """Images per second (both batches of a pair) of the streaming search
  pipeline; the median of ``rounds`` rounds of ``pairs`` pairs, after
  ``warmup`` pairs (which also fill the prefetch buffer)."""
  dataset, data = _streamed_pairs(data_dir, size, batch,
                                  warmup + rounds * pairs)
  iterator = iter(dataset)
  for _ in range(warmup):
    next(iterator)
  rates = []
  for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(pairs):
      (x_w, x_a), _ = next(iterator)
    rates.append(pairs * (len(x_w) + len(x_a))
                 / (time.perf_counter() - start))
  return {"images_per_s": float(np.median(rates)), "rounds": rates,
          "batch": batch, "pairs": pairs, "warmup": warmup, "size": size,
          "channels": data.image_shape[2], "streamed": data.streamed}


def step_rate(space_name: str, data_dir: str, batch: int, steps: int = 3,
              warmup: int = 2, resolution_sampling: str = "all",
              which: str = "search") -> dict:
  """Images per second of the supernet's step on constant batches and fed
  by the streaming pipeline, in turn; medians of ``steps`` of each after
  ``warmup`` untimed ones (the first traces).

  ``which``: ``search``, the bilevel step (both batches of a pair count), or
  ``weight``, its weight update alone on the pair's weight batch, counted
  as if it took both batches: the search step does that update and more,
  so this rate bounds the search step's from above (for a space whose
  search step does not fit in memory).
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.search.search_model import Supernet  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.training import run_setup  # pylint: disable=import-outside-toplevel
  space = builtin_spaces.get_space(space_name)
  size = space.max_input_size
  dataset, data = _streamed_pairs(data_dir, size, batch, 2 * (warmup + steps))
  # As tools.search runs: op determinism on, Grappler off.
  run_setup.make_deterministic(0)
  net = Supernet(space, num_classes=CLASSES,
                 input_channels=data.image_shape[2], seed=0,
                 resolution_sampling=resolution_sampling)
  net.compile(search_config=SearchConfig(), total_steps=100)
  net.build_for_input()
  net.bilevel.build_optimizers()
  if which == "search":
    step = tf.function(net.train_step)
  else:
    update = tf.function(
        net.bilevel._weight_update)  # pylint: disable=protected-access

    def step(data):
      (x_w, _), (y_w, _) = data
      update(x_w, y_w)
      return {"loss": net.bilevel.trackers["loss"].result()}
  # The constant batches match the pipeline's dtypes, so the fed steps
  # reuse the trace.
  rng = np.random.default_rng(0)
  x = [tf.constant(rng.uniform(-1, 1, (batch, size, size,
                                       data.image_shape[2])), tf.float32)
       for _ in range(2)]
  y = [tf.constant((np.arange(batch) + k) % CLASSES, tf.int32)
       for k in range(2)]

  iterator = iter(dataset)
  batches = {"constant": lambda: ((x[0], x[1]), (y[0], y[1])),
             "fed": lambda: next(iterator)}
  times = {source: [] for source in batches}
  # Alternated, so that a change in the machine's load moves both alike.
  for i in range(warmup + steps):
    for source, next_batch in batches.items():
      start = time.perf_counter()
      out = step(next_batch())
      for value in out.values():
        np.asarray(value)
      if i >= warmup:
        times[source].append(time.perf_counter() - start)
  constant_s, fed_s = (float(np.median(times[s])) for s in batches)
  return {"space": space_name, "size": size, "batch": batch,
          "channels": data.image_shape[2],
          "resolution_sampling": resolution_sampling, "step": which,
          "step_s": constant_s, "step_times": times["constant"],
          "images_per_s": 2 * batch / constant_s,
          "fed_step_s": fed_s, "fed_step_times": times["fed"],
          "fed_images_per_s": 2 * batch / fed_s,
          "steps": steps, "warmup": warmup}


def spawn(measurement: dict, log_path: str,
          min_available_mb: float = 1000) -> dict:
  """``measure`` in a fresh process (``input_memory.run_measured``: killed
  first if the machine runs low on memory); a failure (e.g. out of memory)
  returns its error instead."""
  done = input_memory.run_measured(
      [sys.executable, os.path.abspath(__file__),
       f"--one={json.dumps(measurement)}"], log_path, min_available_mb)
  row = {**measurement, "seconds": done["seconds"]}
  with open(log_path, encoding="utf-8", errors="replace") as f:
    lines = f.read().strip().splitlines() or [f"exit {done['returncode']}"]
  if done["returncode"] != 0:
    why = ("killed: the machine ran low on memory"
           if done["killed_low_memory"] else lines[-1])
    return {**row, "error": why, "peak_rss_mb": done["peak_rss_mb"]}
  return {**row, **json.loads(lines[-1])}


def measure(measurement: dict) -> dict:
  """One measurement in this process: a pipeline's or a step's rate."""
  import resource  # pylint: disable=import-outside-toplevel
  if measurement["kind"] == "stream":
    row = pipeline_rate(measurement["data_dir"], measurement["size"],
                        measurement["batch"])
  else:
    row = step_rate(measurement["space"], measurement["data_dir"],
                    measurement["batch"], measurement["steps"],
                    measurement["warmup"],
                    measurement["resolution_sampling"],
                    measurement.get("step", "search"))
  row["peak_rss_mb"] = resource.getrusage(
      resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
  return row


def ratios(rows: dict) -> dict:
  """Pipeline / step images per second for each space and its folder."""
  out = {}
  for space, folder in STEPS.items():
    pipe, step = rows.get(f"stream/{folder}"), rows.get(f"step/{space}")
    if not pipe or not step or "error" in pipe or "error" in step:
      continue
    out[space] = {
        "pipeline_over_step": pipe["images_per_s"] / step["images_per_s"],
        "fed_over_constant": step["fed_images_per_s"] / step["images_per_s"]}
  return out


def report(result: dict) -> str:
  """The table and the ratios, as markdown."""
  lines = ["| measurement | batch | images / s | fed by the stream (images / s)"
           " | peak RSS (MB) |", "|---|---:|---:|---:|---:|"]
  for name, r in result["rows"].items():
    if r.get("step") == "weight":
      name += " (weight update alone: an upper bound)"
    if "error" in r:
      lines.append(f"| {name} | {r['batch']} | failed: {r['error']} | | |")
      continue
    fed = (f"{r['fed_images_per_s']:.2f}" if "fed_images_per_s" in r
           else "-")
    lines.append(f"| {name} | {r['batch']} | {r['images_per_s']:.2f} | "
                 f"{fed} | {r['peak_rss_mb']:.0f} |")
  lines += ["", "| space | pipeline / step | fed / constant |",
            "|---|---:|---:|"]
  for space, q in result["ratios"].items():
    lines.append(f"| {space} | {q['pipeline_over_step']:.1f}x | "
                 f"{q['fed_over_constant']:.2f} |")
  return "\n".join(lines)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n", maxsplit=1)[0])
  parser.add_argument("--big_step_batch", type=int, default=8,
                      help="batch of the fbnetv2_f step (each split)")
  parser.add_argument("--small_step_batch", type=int, default=64,
                      help="batch of the tiny32 step (each split)")
  parser.add_argument("--big_steps", type=int, default=3,
                      help="timed fbnetv2_f steps (each source)")
  parser.add_argument("--small_steps", type=int, default=20,
                      help="timed tiny32 steps (each source)")
  parser.add_argument("--warmup", type=int, default=2)
  parser.add_argument("--resolution_sampling", default="all",
                      choices=("all", "one"))
  parser.add_argument("--big_step", default="search",
                      choices=("search", "weight"),
                      help="the fbnetv2_f step timed: the bilevel search "
                      "step, or its weight update alone (an upper bound on "
                      "the search step's images per second)")
  parser.add_argument("--parts", default="stream/jpeg224,stream/png32,"
                      "step/tiny32,step/fbnetv2_f")
  parser.add_argument("--min_available_mb", type=float, default=1000,
                      help="kill a measurement when the machine's available "
                      "memory falls below this")
  parser.add_argument("--work_dir", default="out/input_throughput")
  parser.add_argument("--json", default=os.path.join(
      ROOT, "benchmarks", "results", "input_throughput.json"))
  parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.one:
    print(json.dumps(measure(json.loads(args.one))))
    return {}
  for name, (fmt, size) in FOLDERS.items():
    image_folders.write_image_folder(folder_of(args.work_dir, name), fmt,
                                     size, max_train=TRAIN_IMAGES,
                                     max_test=TEST_IMAGES)
  rows = {}
  for part in args.parts.split(","):
    kind, name = part.split("/")
    if kind == "stream":
      fmt, size = FOLDERS[name]
      measurement = {"kind": kind, "size": size, "batch": PIPELINE_BATCH,
                     "data_dir": folder_of(args.work_dir, name)}
    else:
      measurement = {
          "kind": kind, "space": name,
          "batch": (args.big_step_batch if name == "fbnetv2_f"
                    else args.small_step_batch),
          "steps": (args.big_steps if name == "fbnetv2_f"
                    else args.small_steps), "warmup": args.warmup,
          "resolution_sampling": args.resolution_sampling,
          "step": args.big_step if name == "fbnetv2_f" else "search",
          "data_dir": folder_of(args.work_dir, STEPS[name])}
    os.makedirs(args.work_dir, exist_ok=True)
    rows[part] = spawn(measurement, os.path.join(
        args.work_dir, part.replace("/", "_") + ".log"),
                       args.min_available_mb)
    r = rows[part]
    print(f"  {part}: " + (r["error"] if "error" in r else
                           f"{r['images_per_s']:.2f} images/s"),
          file=sys.stderr, flush=True)
  result = {"settings": {"train_images": TRAIN_IMAGES,
                         "pipeline_batch": PIPELINE_BATCH,
                         "jpeg_quality": image_folders.JPEG_QUALITY,
                         "cores": os.cpu_count(), "device": "CPU",
                         "statistic": "median"},
            "rows": rows, "ratios": ratios(rows)}
  print(report(result))
  if args.json:
    from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=import-outside-toplevel
    write_atomically(args.json, json.dumps(result, indent=1) + "\n")
  return result


if __name__ == "__main__":
  main()
