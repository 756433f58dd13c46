"""Latency tables on the host, end to end, with the binaries a user runs.

1. Build host LUTs for ``tiny32`` (1-channel, 10-class data), fp32 and
   int8, 1 thread, pinned to core 1, timing the build (candidates per
   minute); the same for tiny32 with a 64 px and with a 128 px input; time
   a ``fbnetv2_f`` build on its first --fbnetv2_f_candidates candidates.
2. Validate each table: fit a correction on 10 sampled architectures
   (seed 1), then judge the table with and without it on 20 others (seed
   2) at the table's input size, three times in separate processes (MAPE,
   Spearman, scatter PNG); the 32 px table (tiny32 as searched, which also
   takes 24 and 16 px inputs) is judged over all three sizes as well.
3. Search with --lut and --target_ms, once with the fp32 table and once
   with the int8 table (same flags and seed; each target the 40 % quantile
   of its table's latency over random architectures): do they land within
   15 % of their targets? Then the int8-aware comparison: the int8 search
   again with the fp32 table (same target), and the int8 table at the
   int8 latency of the fp32 table's child (the same int8 budget); count the
   searched h-swish blocks and measure every derived network in fp32 and
   int8.

4. An int8 table of tiny32 at 32 px with h-swish in the delegable form
   (``fbnetv2-build-lut``'s int8 default), built and validated as in 1-2
   against networks converted in that form. The int8 tables of 1-3 keep
   the fused form they were first measured with (``--hswish=fused``).

Every step is resumable: LUT builds resume themselves, finished steps are
kept in the results file.

  python benchmarks/latency_tables.py [--work_dir=out/latency_tables]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

from _common import Results  # pylint: disable=import-error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEATS = 3
DATA = ("--input_channels=1", "--num_classes=10")


def _tool(name, *args):
  """Runs ``python -m tools.NAME``; returns its stdout."""
  result = subprocess.run([sys.executable, "-m", f"tools.{name}", *args],
                          cwd=ROOT, check=True, stdout=subprocess.PIPE,
                          text=True, env={**os.environ,
                                          "TF_CPP_MIN_LOG_LEVEL": "3"})
  sys.stderr.write(result.stdout)
  return result.stdout


def build(path, space, dtype, *extra, hswish="fused"):
  """Builds a table (h-swish in ``hswish``: the fused form, in which this
  benchmark's tables were first measured, unless told otherwise)."""
  start = time.time()
  _tool("build_lut", f"--space={space}", f"--dtype={dtype}",
        f"--output={path}", *DATA, "--cpu=1", f"--hswish={hswish}", *extra)
  with open(path, encoding="utf-8") as f:
    rows = len(json.load(f)["entries"])
  minutes = (time.time() - start) / 60
  return {"rows": rows, "minutes": round(minutes, 2),
          "candidates_per_minute": round(rows / minutes, 1)}


def validation(path, *extra):
  out = _tool("validate_lut", f"--lut={path}", *extra)
  size = re.search(r"at up to (\d+) px", out).group(1)
  with open(f"{os.path.splitext(path)[0]}.validation_{size}px.json",
            encoding="utf-8") as f:
    report = json.load(f)
  return {k: report[k] for k in ("mape", "spearman", "fast_trials",
                                 "speed_ratio") if k in report} | {k: report[k] for k in ("corrected",
                                                     "calibration")
                              if k in report}


def tiny32_at(size, work_dir):
  """tiny32 with one input resolution (its largest, 32 px, keeps the
  others: the space as searched), as a space JSON file."""
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  space = builtin_spaces.tiny32().to_dict()
  if size != 32:
    space.update(name=f"tiny32_{size}", input_sizes=[size])
  path = os.path.join(work_dir, f"tiny32_{size}.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(space, f)
  return path


def relative_target(path, space, quantile=0.4, count=200):
  """The ``quantile`` of the table's predicted latency over random
  architectures, in ms: a budget that binds alike for any table."""
  sys.path.insert(0, ROOT)
  import numpy as np  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  lut = LutFile.load(path)
  table = lut.table()
  archs = validate.sample_archs(builtin_spaces.space_from_argument(space),
                                count, 7)
  predicted = [validate.predicted_us(a, table, 1) / 1e3 for a in archs]
  return round(float(np.quantile(predicted, quantile)), 4)


def search(lut, target_ms, out, epochs, *extra):
  """A ``--lut``/``--target_ms`` search; its derived architecture (as an
  arch string), target and predicted latency."""
  _tool("search", f"--lut={lut}", f"--target_ms={target_ms}",
        f"--output_dir={out}", f"--epochs={epochs}", "--verbose=0", *extra)
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.specs.arch_spec import load_archs  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  with open(os.path.join(out, "search_result.json"), encoding="utf-8") as f:
    result = json.load(f)
  (arch,) = load_archs(os.path.join(out, "arch.json")).values()
  return {"arch": to_arch_string(arch), "target_ms": target_ms,
          "predicted_ms": result["counted_cost"]}


def tiny32_search(lut, target_ms, out, epochs):
  """``search`` on tiny32, counting its searched h-swish blocks (the
  squeeze-excite option; its stem and last stage always use h-swish)."""
  found = search(lut, target_ms, out, epochs)
  return found | {"hswish_blocks": found["arch"].count("sehsig_hs")}


def measure_archs(work_dir, archs, luts):
  """Whole-network latency (ms) of arch strings in each table's dtype,
  timed as that table's validation times networks."""
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import parse_arch_string  # pylint: disable=g-import-not-at-top
  measured = {}
  for dtype, path in luts.items():
    lut = LutFile.load(path)
    probed = validate.measure_networks(
        lut, {label: parse_arch_string(text) for label, text in archs.items()},
        HostRunner(), MeasureSettings(**lut.header.settings), work_dir,
        f"{os.path.splitext(path)[0]}.cache")
    for label, stats in probed.stats.items():
      measured[f"{label}.{dtype}"] = stats.median_us / 1e3
  return measured


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=os.path.join(ROOT, "out",
                                                         "latency_tables"))
  parser.add_argument("--results", default=os.path.join(
      ROOT, "benchmarks", "results", "latency_tables.json"))
  parser.add_argument("--fbnetv2_f_candidates", type=int, default=240)
  parser.add_argument("--search_epochs", type=int, default=6)
  args = parser.parse_args()
  os.makedirs(args.work_dir, exist_ok=True)
  results = Results(args.results)
  lut = {d: os.path.join(args.work_dir, f"tiny32_{d}.json")
         for d in ("fp32", "int8")}
  for size in (32, 64, 128):
    space_file = tiny32_at(size, args.work_dir)
    space_flag = f"--space={space_file}"
    for dtype in ("fp32", "int8"):
      path = (lut[dtype] if size == 32 else
              os.path.join(args.work_dir, f"tiny32_{size}_{dtype}.json"))
      results.get_or_run(f"build/tiny32_{size}/{dtype}",
                         lambda d=dtype, p=path, f=space_file: build(p, f, d))
      # A correction fitted on 10 architectures, judged on 20 others; the
      # judging is repeated in separate processes, since this host's speed
      # changes from run to run.
      results.get_or_run(f"calibrate/tiny32_{size}/{dtype}", lambda p=path: (
          validation(p, space_flag, "--archs=10", "--seed=1", "--calibrate")))
      judged = {f"tiny32_{size}": (f"--input_size={size}",)}
      if size == 32:  # the space as searched: 32, 24 and 16 px inputs
        judged["tiny32_16-32"] = ()
      for label, at_size in judged.items():
        for repeat in range(REPEATS):
          results.get_or_run(
              f"validate/{label}/{dtype}/{repeat}", lambda p=path, a=at_size: (
                  validation(p, space_flag, "--archs=20", "--seed=2", *a)))
  # The int8 default: h-swish in the delegable form, validated against
  # networks converted in that form.
  delegable = os.path.join(args.work_dir, "tiny32_int8_delegable.json")
  space_32 = f"--space={tiny32_at(32, args.work_dir)}"
  results.get_or_run("build/tiny32_32/int8_delegable", lambda: build(
      delegable, tiny32_at(32, args.work_dir), "int8", hswish="delegable"))
  results.get_or_run("calibrate/tiny32_32/int8_delegable", lambda: validation(
      delegable, space_32, "--archs=10", "--seed=1", "--calibrate"))
  for label, at_size in (("tiny32_32", ("--input_size=32",)),
                         ("tiny32_16-32", ())):
    for repeat in range(REPEATS):
      results.get_or_run(
          f"validate/{label}/int8_delegable/{repeat}", lambda a=at_size: (
              validation(delegable, space_32, "--archs=20", "--seed=2", *a)))
  results.get_or_run("build/fbnetv2_f/fp32/sample", lambda: build(
      os.path.join(args.work_dir, "fbnetv2_f_sample.json"), "fbnetv2_f",
      "fp32", "--input_channels=3", "--num_classes=1000",
      f"--limit={args.fbnetv2_f_candidates}", "--max_grid=3",
      # 224 px blocks take up to milliseconds: fewer, shorter visits.
      "--trials=5", "--runs=20"))
  targets = {d: results.get_or_run(f"target/{d}", lambda d=d: (
      relative_target(lut[d], "tiny32"))) for d in lut}
  searched = {}
  for dtype, target in targets.items():  # each table at its own target
    searched[f"{dtype}_lut"] = results.get_or_run(
        f"search/{dtype}_lut", lambda d=dtype, t=target: tiny32_search(
            lut[d], t, os.path.join(args.work_dir, f"search_{d}"),
            args.search_epochs))
  # The same search as the int8 one (flags, seed, target), but with the
  # fp32 table: what a user deploying int8 gets from an fp32 table.
  searched["fp32_lut_int8_target"] = results.get_or_run(
      "search/fp32_lut_int8_target", lambda: tiny32_search(
          lut["fp32"], targets["int8"],
          os.path.join(args.work_dir, "search_fp32_int8_target"),
          args.search_epochs))
  measured = results.get_or_run("measured/searched", lambda: measure_archs(
      args.work_dir, {k: s["arch"] for k, s in searched.items()}, lut))
  # The same int8 budget as the fp32 table's child: the int8 table at the
  # int8 latency that child measured.
  same_budget = round(measured["fp32_lut.int8"], 4)
  searched["int8_lut_same_budget"] = results.get_or_run(
      "search/int8_lut_same_budget", lambda: tiny32_search(
          lut["int8"], same_budget,
          os.path.join(args.work_dir, "search_int8_same_budget"),
          args.search_epochs))
  results.get_or_run("measured/same_budget", lambda: measure_archs(
      args.work_dir, {k: searched[k]["arch"] for k in (
          "fp32_lut", "int8_lut_same_budget")}, {"int8": lut["int8"]}))
  print(json.dumps(results.items, indent=1))


if __name__ == "__main__":
  main()
