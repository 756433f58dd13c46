"""Train-step time and peak memory of supernets against the children they hold.

Measures, in one run, each step in a fresh process so that memory peaks do
not mix:
  fbnetv2_f/all      the fbnetv2_f supernet, every resolution per step
  fbnetv2_f/one      the same, one sampled resolution per step
  fbnetv2_f/largest  its dearest child (every decision at its dearest option)
  FBNetV2_F4         the zoo's FBNetV2-F4
  fbnet_v1/all       the fbnet_v1 supernet (one resolution)
  fbnet_c            the zoo's FBNet-C
at their 224 px and 1000 classes, and with ``--part=tiny32`` the same
question on tiny32 at 32 px (10 classes): ``tiny32/all``, ``tiny32/one``,
``tiny32@32/all`` (a supernet of the same space with its 32 px resolution
only) and ``tiny32/largest``.

A supernet has two steps: its ``weight`` update alone (cross-entropy under
sampled decision weights, SGD: one forward and backward pass of one batch,
as a child's step) and its ``search`` step, the bilevel ``train_step`` (that
weight update, then an architecture update on a second batch; budget
loss). A child's step is SGD on cross-entropy. Every step is a compiled
``tf.function`` on one thread, with op determinism on and Grappler off (as
searches and child training run by default); its time is the median CPU
time (and wall time) of ``--steps`` after ``--warmup`` untimed ones (with
``--rounds``, the lowest such median of that many passes over the list), a
one-resolution supernet's warm-up runs each resolution branch once, and its
step is also timed with the resolution pinned to each option.
Memory: the peak of live tensor bytes during the timed steps above what
stays allocated between them (TensorFlow's BFC allocator on the CPU, as in
masking_scaling.py), and the process's resident-set high-water mark
(``getrusage``), which includes the traced graph. A process that grows past
``--max_rss_gib`` is stopped and reported (the machine is shared).

  python benchmarks/supernet_cost.py [--part=224|tiny32|all] [--batch=N]
      [--steps=3] [--warmup=1] [--rounds=1] [--configs=NAME,...]
      [--supernet_steps=weight,search] [--max_rss_gib=12]
      [--json=benchmarks/results/supernet_cost.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = {
    "224": ("fbnetv2_f/all", "fbnetv2_f/one", "fbnetv2_f/largest",
            "FBNetV2_F4", "fbnet_v1/all", "fbnet_c"),
    "tiny32": ("tiny32/all", "tiny32/one", "tiny32@32/all", "tiny32/largest"),
}
# Batch of each split per part. At 224 px a process timing fbnetv2_f's
# supernet's weight step held 11.3 GB ("all") and 14.6 GB ("one") at batch
# 1, nearly all of it the traced and built graph, and "one" grew past
# 12 GiB at batch 2, on a 24 GB machine shared with other jobs; tiny32's is
# its search batch.
DEFAULT_BATCH = {"224": 1, "tiny32": 64}
# (numerator, denominator) of each reported ratio, where both were measured.
RATIOS = (
    ("fbnetv2_f/all", "fbnetv2_f/largest"),
    ("fbnetv2_f/one", "fbnetv2_f/largest"),
    ("fbnetv2_f/all", "FBNetV2_F4"),
    ("fbnetv2_f/one", "FBNetV2_F4"),
    ("fbnetv2_f/one", "fbnetv2_f/all"),
    ("fbnet_v1/all", "fbnet_c"),
    ("tiny32/all", "tiny32@32/all"),
    ("tiny32/one", "tiny32@32/all"),
    ("tiny32/one", "tiny32/all"),
    ("tiny32/all", "tiny32/largest"),
    ("tiny32/one", "tiny32/largest"),
)
# Supernets: the dataset's classes of their use here (ImageNet at 224 px,
# the built-in digits' 10 with tiny32).
CLASSES = {"tiny32": 10}
SUPERNET_MODES = ("all", "one")
# A supernet's steps: its weight update alone (one forward and backward pass
# of one batch, as a child's step), and its bilevel search step.
STEPS = ("weight", "search")


def _space(name):
  """The built-in space of ``name`` (``tiny32@32``: its 32 px option only)."""
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.search_space import SearchSpace  # pylint: disable=g-import-not-at-top
  base, _, size = name.partition("@")
  space = builtin_spaces.get_space(base)
  if size:
    space = SearchSpace.from_dict({**space.to_dict(), "input_sizes": [int(size)]})
  return space


def build(config):
  """``(model, kind, input size, classes)`` of a configuration name:
  ``SPACE/all``, ``SPACE/one``, ``SPACE/largest`` or a zoo name."""
  from fbnetv2_tf.models import zoo  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  if "/" not in config:
    arch = zoo.get_arch(config)
    return build_child_model(arch, 1000), "child", arch.input_size, 1000
  name, mode = config.split("/")
  space = _space(name)
  classes = CLASSES.get(name.partition("@")[0], 1000)
  if mode in SUPERNET_MODES:
    from fbnetv2_tf.search.search_model import Supernet  # pylint: disable=g-import-not-at-top
    net = Supernet(space, num_classes=classes, input_channels=3, seed=0,
                   resolution_sampling=mode)
    return net, "supernet", space.max_input_size, classes
  if mode != "largest":
    raise ValueError(f"unknown configuration {config!r}")
  from fbnetv2_tf.search import derive  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.cost_range import cost_range  # pylint: disable=g-import-not-at-top
  dearest = cost_range(space, "mflops", classes, 3).dearest
  arch = derive.derive_arch(space, dearest, f"{name}_largest")
  return build_child_model(arch, classes), "child", arch.input_size, classes


def _budget_loss(net):
  """The budget loss at the middle of the space's cost range."""
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search import derive  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.cost_range import cost_range  # pylint: disable=g-import-not-at-top
  extremes = cost_range(net.space, "mflops", net.num_classes, 3)
  cost_of = derive.child_cost(net.space, "mflops", net.num_classes, 3)
  target = 0.5 * (cost_of(extremes.cheapest) + cost_of(extremes.dearest))
  return ResourceLoss("budget", "mflops", target)


def _timed(step, args, steps, warmup, memory, net=None):
  """Median wall and CPU seconds (``wall_s``, ``cpu_s``) of ``steps`` calls
  after ``warmup`` (the first call, which traces, among them), and the peak
  live MiB of the timed calls (``peak_live_mib``). For a one-resolution
  supernet ``net``, the warm-up runs every resolution branch, and the same
  is measured with the resolution pinned to each option in turn
  (``by_size``). ``first_call_s``: the wall time of the first call, which
  traces the step and builds its graph."""
  start = time.perf_counter()
  _fetch(step(*args))  # traces, builds the graph and runs it once
  first = time.perf_counter() - start
  for _ in range(warmup - 1):
    _fetch(step(*args))
  sizes = _pinnable_sizes(net)
  for j in range(len(sizes)):  # first runs at a branch's shapes: untimed
    with _pinned(net, j):
      _fetch(step(*args))
  found = {**_timed_calls(step, args, steps, memory), "first_call_s": first}
  if sizes:
    found["by_size"] = {}
    for j, size in enumerate(sizes):
      with _pinned(net, j):
        found["by_size"][str(size)] = _timed_calls(step, args, steps, memory)
  return found


def _timed_calls(step, args, steps, memory):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if memory:
    tf.config.experimental.reset_memory_stats("CPU:0")
    resident = tf.config.experimental.get_memory_info("CPU:0")["current"]
  wall, cpu = [], []
  for _ in range(steps):
    start, start_cpu = time.perf_counter(), time.process_time()
    _fetch(step(*args))
    wall.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
  peak = None
  if memory:
    peak = (tf.config.experimental.get_memory_info("CPU:0")["peak"]
            - resident) / 2**20
  return {"wall_s": float(np.median(wall)), "cpu_s": float(np.median(cpu)),
          "peak_live_mib": peak}


def _pinnable_sizes(net):
  """The resolution options of a one-resolution supernet, else ()."""
  from fbnetv2_tf.specs.search_space import RESOLUTION  # pylint: disable=g-import-not-at-top
  if (net is None or getattr(net, "resolution_sampling", None) != "one"
      or RESOLUTION not in net.decisions):
    return ()
  return net.space.input_sizes


class _pinned:
  """Pins a one-resolution supernet's resolution to option ``j`` (its
  logits at +-50, which no Gumbel noise overturns), then puts them back."""

  def __init__(self, net, j):
    from fbnetv2_tf.specs.search_space import RESOLUTION  # pylint: disable=g-import-not-at-top
    self.logits, self.j = net.decisions[RESOLUTION].logits, j

  def __enter__(self):
    self.saved = np.array(self.logits)
    n = len(self.saved)
    self.logits.assign(np.where(np.arange(n) == self.j, 50.0, -50.0
                                ).astype("float32"))

  def __exit__(self, *exc):
    self.logits.assign(self.saved)


def _fetch(value):
  """Waits for a step's outputs (a dict of tensors or a tensor)."""
  values = value.values() if isinstance(value, dict) else [value]
  for v in values:
    np.asarray(v)


def _rss_mib():
  """The process's resident-set high-water mark (Linux: KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(config, step="weight", batch=4, steps=3, warmup=1):
  """Builds one configuration and times one train step; returns a dict.

  ``step``: a supernet's ``weight`` update alone or its ``search`` step
  (weight and architecture update); a child's step is its SGD step either
  way. Peak live memory needs TensorFlow's BFC allocator on the CPU
  (``TF_CPU_ALLOCATOR_USE_BFC=true`` before TensorFlow starts; ``spawn``
  sets it); without it the field is None.
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import run_setup  # pylint: disable=g-import-not-at-top
  if step not in STEPS:
    raise ValueError(f"unknown step {step!r}; known: {', '.join(STEPS)}")
  memory = os.environ.get("TF_CPU_ALLOCATOR_USE_BFC") == "true"
  # One thread: the step's CPU time then stays what the step costs on a
  # machine that other jobs load (its wall time does not), and ops run in
  # a repeatable order, so the peak of live tensors repeats too.
  try:
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
  except RuntimeError:  # in a process whose TensorFlow runs already
    pass
  # As searches and child training run by default (--deterministic): op
  # determinism on, Grappler off.
  run_setup.make_deterministic(0)
  model, kind, size, classes = build(config)
  rng = np.random.default_rng(0)
  images = [tf.constant(rng.uniform(-1, 1, (batch, size, size, 3)
                                    ).astype("float32")) for _ in range(2)]
  labels = [tf.constant((np.arange(batch) + k) % classes) for k in range(2)]
  row = {"config": config, "kind": kind, "step": step, "size": size,
         "batch": batch, "classes": classes}
  if kind == "supernet":
    from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
    model.compile(search_config=SearchConfig(loss=_budget_loss(model)))
    model.build_for_input()
    model.bilevel.build_optimizers()
    row["rss_built_mib"] = _rss_mib()
    if step == "weight":
      fn = tf.function(
          model.bilevel._weight_update)  # pylint: disable=protected-access
      args = (images[0], labels[0])
    else:
      fn = tf.function(model.train_step)
      args = (((images[0], images[1]), (labels[0], labels[1])),)
    row.update(_timed(fn, args, steps, warmup, memory, model))
  else:
    from fbnetv2_tf.cost.keras_counting import count_keras_model  # pylint: disable=g-import-not-at-top
    row["mflops"] = count_keras_model(model).macs / 1e6
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    row["rss_built_mib"] = _rss_mib()

    @tf.function
    def child_step(x, y):
      with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
      grads = tape.gradient(loss, model.trainable_variables)
      optimizer.apply(grads, model.trainable_variables)
      return loss

    row.update(_timed(child_step, (images[0], labels[0]), steps, warmup,
                      memory))
  row["params"] = int(sum(np.prod(v.shape) for v in model.trainable_variables))
  row["rss_peak_mib"] = _rss_mib()
  return row


def _rss_of(pid):
  """Resident MiB of process ``pid`` now (Linux), or None."""
  try:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
      for line in f:
        if line.startswith("VmRSS:"):
          return int(line.split()[1]) / 1024
  except OSError:
    pass
  return None


def spawn(config, step, batch, steps, warmup, max_rss_gib=None):
  """:func:`measure` in a fresh process (its own memory peaks); a failed
  configuration returns its error instead. A process whose resident set
  passes ``max_rss_gib`` is stopped (the machine is shared: swapping or the
  kernel's OOM killer would hit other jobs) and reported as such."""
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
         "TF_CPU_ALLOCATOR_USE_BFC": "true"}
  with tempfile.TemporaryFile("w+") as out, \
      tempfile.TemporaryFile("w+") as err:
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), f"--one={config}:{step}",
         f"--batch={batch}", f"--steps={steps}", f"--warmup={warmup}"],
        stdout=out, stderr=err, text=True, env=env)
    highest = 0.0
    while child.poll() is None:
      highest = max(highest, _rss_of(child.pid) or 0.0)
      if max_rss_gib and highest > 1024 * max_rss_gib:
        child.kill()
        child.wait()
        return {"config": config, "step": step,
                "error": f"stopped above {max_rss_gib:g} GiB resident",
                "rss_seen_mib": highest}
      time.sleep(0.2)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
  if child.returncode != 0:
    errors = [line for line in stderr.splitlines() if "Error" in line]
    reason = ("killed (out of memory?)" if child.returncode == -9
              else f"exit {child.returncode}")
    return {"config": config, "step": step,
            "error": reason + (f": {errors[-1].strip()}" if errors else "")}
  return json.loads(stdout.strip().splitlines()[-1])


def ratios(rows):
  """Ratios of ``RATIOS`` among the measured configurations, per step kind
  (CPU and wall time, peak live memory, RSS peak)."""
  found = {}
  for top, bottom in RATIOS:
    if top not in rows or bottom not in rows:
      continue
    entry = {}
    for step in STEPS:
      a, b = rows[top].get(step), rows[bottom].get(step)
      if not a or not b or "error" in a or "error" in b:
        continue
      q = {"cpu": a["cpu_s"] / b["cpu_s"], "wall": a["wall_s"] / b["wall_s"],
           "rss_peak": a["rss_peak_mib"] / b["rss_peak_mib"]}
      if a.get("peak_live_mib") and b.get("peak_live_mib"):
        q["peak_live"] = a["peak_live_mib"] / b["peak_live_mib"]
      if "by_size" in a:  # the numerator pinned to each resolution
        q["cpu_by_size"] = {size: t["cpu_s"] / b["cpu_s"]
                            for size, t in a["by_size"].items()}
      entry[step] = q
    if entry:
      found[f"{top} / {bottom}"] = entry
  return found


def run(configs, batch=4, steps=3, warmup=1, isolate=True, max_rss_gib=None,
        supernet_steps=STEPS, rounds=1):
  """Measures every configuration: a child's step once (it serves as
  both), a supernet's ``supernet_steps`` each in a process of their own
  when ``isolate`` (so that one traced step's memory does not add to the
  other's), stopped above ``max_rss_gib``; ``rounds`` times over the whole
  list, keeping each step's round of the lowest median (other jobs on a
  shared machine slow a step down, never up). Returns ``{"settings",
  "rows", "ratios"}``, ``rows`` by configuration and step kind."""
  measured = {}
  for _ in range(rounds):
    for config in configs:
      for step in supernet_steps if _is_supernet(config) else STEPS[:1]:
        r = (spawn(config, step, batch, steps, warmup, max_rss_gib)
             if isolate else measure(config, step, batch, steps, warmup))
        measured.setdefault((config, step), []).append(r)
        print(f"  {config} ({step}): " + (r["error"] if "error" in r else
                                          f"{r['cpu_s']:.3f} CPU s"),
              file=sys.stderr)
  rows = {}
  for (config, step), found in measured.items():
    rows.setdefault(config, {})[step] = _lowest(found)
  for config, row in rows.items():
    if not _is_supernet(config):
      row["search"] = row["weight"]  # a child's step is both
  return {"settings": {"batch": batch, "steps": steps, "warmup": warmup,
                       "rounds": rounds,
                       "statistic": "lowest of the rounds' medians",
                       "device": "CPU", "threads": 1, "cores": os.cpu_count(),
                       "max_rss_gib": max_rss_gib,
                       "supernet_steps": list(supernet_steps)},
          "rows": rows, "ratios": ratios(rows)}


def _lowest(found):
  """The round of the lowest median CPU time (pinned sizes: each size's
  lowest), with every round's median kept; the last error if all failed."""
  ok = [r for r in found if "error" not in r]
  if not ok:
    return found[-1]
  best = dict(min(ok, key=lambda r: r["cpu_s"]))
  best["cpu_s_rounds"] = [r["cpu_s"] for r in ok]
  if "by_size" in best:
    best["by_size"] = {size: min((r["by_size"][size] for r in ok),
                                 key=lambda t: t["cpu_s"])
                       for size in best["by_size"]}
  return best


def _is_supernet(config):
  return config.split("/")[-1] in SUPERNET_MODES


def _cell(r, fmt, key, scale=1.0):
  if r is None:
    return "-"
  if "error" in r:
    return "failed"
  return "-" if r.get(key) is None else fmt.format(r[key] * scale)


def report(result):
  """The tables, as markdown."""
  s = result["settings"]
  lines = [f"Batch {s['batch']} (each split, for a supernet's search step), "
           f"median of {s['steps']} steps after {s['warmup']} warm-up "
           f"(lowest of {s['rounds']} round(s)), "
           f"{s['device']}, {s['threads']} thread ({s['cores']} cores); "
           "CPU seconds (wall seconds).", "",
           "| model | px | weight step s | search step s | peak live MiB "
           "(weight / search) | RSS peak MiB (weight / search) | params (M) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
  errors = []
  for config, row in result["rows"].items():
    w, x = row.get("weight"), row.get("search")
    if not _is_supernet(config):
      x = None
    first = next((r for r in (w, x) if r and "error" not in r), None)
    for r in (w, x):
      if r and "error" in r:
        errors.append(f"- {config} ({r['step']}): {r['error']}")

    def time_cell(r):
      if r is None:
        return "-" if _is_supernet(config) else "(= weight step)"
      if "error" in r:
        return "failed"
      return f"{r['cpu_s']:.3f} ({r['wall_s']:.3f})"

    lines.append(
        f"| {config} | {first['size'] if first else '-'} | {time_cell(w)} | "
        f"{time_cell(x)} | {_cell(w, '{:.0f}', 'peak_live_mib')} / "
        f"{_cell(x, '{:.0f}', 'peak_live_mib')} | "
        f"{_cell(w, '{:.0f}', 'rss_peak_mib')} / "
        f"{_cell(x, '{:.0f}', 'rss_peak_mib')} | "
        f"{_cell(first, '{:.2f}', 'params', 1e-6)} |")
  lines += ["", "| ratio | step | CPU time | wall time | peak live | RSS peak |",
            "|---|---|---:|---:|---:|---:|"]
  for name, entry in result["ratios"].items():
    for step, q in entry.items():
      live = f"{q['peak_live']:.2f}x" if "peak_live" in q else "-"
      lines.append(f"| {name} | {step} | {q['cpu']:.2f}x | {q['wall']:.2f}x | "
                   f"{live} | {q['rss_peak']:.2f}x |")
  pinned = [(config, step, size, t)
            for config, row in result["rows"].items()
            for step in STEPS if row.get(step) and "by_size" in row[step]
            for size, t in row[step]["by_size"].items()]
  if pinned:
    lines += ["", "One resolution per step, pinned to each option:", "",
              "| model | step | px | CPU s | peak live MiB |",
              "|---|---|---:|---:|---:|"]
    lines += [f"| {config} | {step} | {size} | {t['cpu_s']:.3f} | "
              f"{_cell(t, '{:.0f}', 'peak_live_mib')} |"
              for config, step, size, t in pinned]
    by_size = [(name, step, q["cpu_by_size"])
               for name, entry in result["ratios"].items()
               for step, q in entry.items() if "cpu_by_size" in q]
    if by_size:
      lines += ["", "| ratio, numerator pinned | step | CPU time by px |",
                "|---|---|---|"]
      lines += [f"| {name} | {step} | " + ", ".join(
          f"{size}: {v:.2f}x" for size, v in ratio.items()) + " |"
                for name, step, ratio in by_size]
  if errors:
    lines += ["", *errors]
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--part", default="224", choices=(*PARTS, "all"))
  parser.add_argument("--configs", default=None,
                      help="comma-separated configurations, kept as the "
                      "part 'configs' (instead of --part)")
  parser.add_argument("--batch", type=int, default=None,
                      help="default: 1 at 224 px (fbnetv2_f's supernets "
                      "outgrow a shared 24 GB machine above it), 64 at "
                      "tiny32 (its search batch)")
  parser.add_argument("--steps", type=int, default=3)
  parser.add_argument("--warmup", type=int, default=1)
  parser.add_argument("--rounds", type=int, default=1,
                      help="measure the whole list this many times; keep "
                      "each step's lowest median")
  parser.add_argument("--supernet_steps", default="weight,search",
                      help="which steps of a supernet to time: weight, "
                      "search or both")
  parser.add_argument("--max_rss_gib", type=float, default=12.0,
                      help="stop a configuration whose process grows past "
                      "this resident size (0: no limit)")
  parser.add_argument("--json", default=os.path.join(
      ROOT, "benchmarks", "results", "supernet_cost.json"),
                      help="results by part; a run rewrites its parts only")
  parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
  args = parser.parse_args()
  sys.path.insert(0, ROOT)
  if args.one:
    config, step = args.one.rsplit(":", 1)
    print(json.dumps(measure(config, step, args.batch or 1, args.steps,
                             args.warmup)))
    return
  if args.configs:
    parts = {"configs": args.configs.split(",")}
  else:
    parts = {part: names for part, names in PARTS.items()
             if args.part in (part, "all")}
  results = {}
  if args.json and os.path.exists(args.json):
    with open(args.json, encoding="utf-8") as f:
      results = json.load(f)
  for part, configs in parts.items():
    batch = args.batch or DEFAULT_BATCH.get(part, 1)
    results[part] = run(configs, batch, args.steps, args.warmup,
                        max_rss_gib=args.max_rss_gib or None,
                        supernet_steps=tuple(args.supernet_steps.split(",")),
                        rounds=args.rounds)
    print(f"## {part}\n\n{report(results[part])}\n")
    if args.json:
      from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=g-import-not-at-top
      write_atomically(args.json, json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
  main()
