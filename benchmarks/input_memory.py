"""Input memory: does a streamed search's memory stay flat as the data grows?

Writes Fashion-MNIST as 224 px grey JPEG image folders of 2,000 and 20,000
training images (``benchmarks/image_folders.py``; 500 test images each),
then runs the same short search on each (``tools.search``: ``--space``,
``fbnetv2_f`` by default, at 224 px, 1 epoch of 2 steps, batch 4, no
budget) under
``--input_pipeline=stream`` and ``--input_pipeline=memory``, every run in a
process of its own. Each run's peak resident memory is that process's
``ru_maxrss``, read with ``os.wait4`` when it exits (the kernel's high-water
mark of its resident set, for that one child). The claim: the streamed
search grows by less than 200 MB from 2,000 to 20,000 images, while the
in-memory one grows by at least the decoded images' size,
18,000 x 224 x 224 x C bytes (C = 1: the loader reads grey files as one
channel, which each run's ``supernet.json`` records).

  python benchmarks/input_memory.py [--train_sizes=2000,20000]
      [--test_images=500] [--batch_size=4] [--work_dir=/tmp/input_memory]
      [--space=fbnetv2_f|tiny32@224] [--resolution_sampling=all|one]
      [--json=benchmarks/results/input_memory.json]

The results file keeps one entry per ``--space``; a run replaces its own,
keeping the runs of the earlier entry that succeeded under the same
settings (``--fresh`` measures all again).

The fbnetv2_f search at 224 px needs more than a 24 GB machine holds
(batches 1 to 4 tried); ``--space=tiny32@224`` (tiny32's network with the
one input size 224) measures the same pipelines in about half a minute a
run on 2 cores. The image folders stay in ``--work_dir`` and are reused by
a rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import image_folders  # pylint: disable=wrong-import-position  (after the path above)

SIZE = 224
PIPELINES = ("stream", "memory")
# The claim's bound on the streamed search's growth, in MB (10^6 bytes).
MAX_STREAM_GROWTH_MB = 200.0
MB = 1e6


def folder_of(work_dir: str, train_images: int) -> str:
  return os.path.join(work_dir, f"fmnist_jpeg{SIZE}_{train_images}")


def space_argument(space: str, work_dir: str) -> str:
  """``--space`` for ``space``: a built-in name, or ``NAME@SIZE`` for that
  built-in space with the one input size ``SIZE``, written as a JSON file
  (a small network at 224 px, whose own memory hides less of the input's)."""
  name, _, size = space.partition("@")
  if not size:
    return name
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=import-outside-toplevel
  d = {**builtin_spaces.get_space(name).to_dict(),
       "name": f"{name}_at{size}", "input_sizes": [int(size)]}
  path = os.path.join(work_dir, f"{name}_at{size}.json")
  os.makedirs(work_dir, exist_ok=True)
  write_atomically(path, json.dumps(d, indent=1) + "\n")
  return path


def search_command(data_dir: str, pipeline: str, output_dir: str,
                   args) -> list[str]:
  """The search of one run: short, no budget, nothing printed per step."""
  return [sys.executable, "-m", "tools.search", "--dataset=image_folder",
          f"--data_dir={data_dir}", f"--input_pipeline={pipeline}",
          "--bad_files=fail", f"--space={args.space_argument}",
          f"--resolution_sampling={args.resolution_sampling}",
          f"--batch_size={args.batch_size}", "--epochs=1",
          "--warmup_epochs=0", f"--steps_per_epoch={args.steps_per_epoch}",
          f"--max_test_images={args.max_test_images}",
          f"--output_dir={output_dir}", "--verbose=0"]


def _available_mb() -> float:
  with open("/proc/meminfo", encoding="ascii") as f:
    for line in f:
      if line.startswith("MemAvailable:"):
        return int(line.split()[1]) * 1024 / MB
  return float("inf")


def run_measured(command: list[str], log_path: str,
                 min_available_mb: float = 0.0) -> dict:
  """Runs ``command`` (output to ``log_path``); its exit status, seconds and
  peak resident set in MB, from the rusage ``os.wait4`` returns for that
  child alone (``ru_maxrss``: KiB on Linux).

  On a shared machine the kernel's out-of-memory killer ends the largest
  process, which may be someone else's: the child is killed first when the
  machine's available memory falls under ``min_available_mb``
  (``killed_low_memory`` in the result).
  """
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT}
  start, killed = time.time(), False
  with open(log_path, "w", encoding="utf-8") as log:
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    while True:
      pid, status, usage = os.wait4(child.pid, os.WNOHANG)
      if pid:
        break
      if not killed and _available_mb() < min_available_mb:
        child.kill()
        killed = True
      time.sleep(0.2)
    child.returncode = os.waitstatus_to_exitcode(status)
  return {"returncode": child.returncode, "seconds": time.time() - start,
          "peak_rss_mb": usage.ru_maxrss * 1024 / MB,
          "killed_low_memory": killed}


def _tail(path: str, lines: int = 5) -> str:
  with open(path, encoding="utf-8", errors="replace") as f:
    return "\n".join(f.read().strip().splitlines()[-lines:])


def measure(pipeline: str, train_images: int, args) -> dict:
  """One search run; its peak memory and what the search read."""
  name = f"{pipeline}_{train_images}"
  runs = os.path.join(args.work_dir, "runs", args.space.replace("@", "_at"))
  output_dir = os.path.join(runs, name)
  # A fresh directory: the search would otherwise resume a finished run.
  shutil.rmtree(output_dir, ignore_errors=True)
  os.makedirs(output_dir)
  log_path = os.path.join(runs, f"{name}.log")
  row = {"pipeline": pipeline, "train_images": train_images,
         **run_measured(search_command(
             folder_of(args.work_dir, train_images), pipeline, output_dir,
             args), log_path, args.min_available_mb)}
  with open(log_path, encoding="utf-8", errors="replace") as f:
    row["streamed"] = "(streamed)" in f.read()
  supernet = os.path.join(output_dir, "supernet.json")
  if row["returncode"] == 0 and os.path.exists(supernet):
    with open(supernet, encoding="utf-8") as f:
      row["input_channels"] = json.load(f)["input_channels"]
  else:
    row["error"] = _tail(log_path)
  print(f"  {name}: exit {row['returncode']}, peak RSS "
        f"{row['peak_rss_mb']:.0f} MB, {row['seconds']:.0f} s",
        file=sys.stderr, flush=True)
  return row


def summarize(rows: list[dict], small: int, large: int) -> dict:
  """The growth of each pipeline's peak from ``small`` to ``large`` images
  against the decoded images' growth."""
  by = {(r["pipeline"], r["train_images"]): r for r in rows
        if r["returncode"] == 0}
  channels = {r.get("input_channels") for r in by.values()} - {None}
  out = {"small": small, "large": large,
         "input_channels": sorted(channels)}
  if len(channels) == 1:
    out["decoded_growth_mb"] = ((large - small) * SIZE * SIZE
                                * channels.pop() / MB)
  for pipeline in PIPELINES:
    if (pipeline, small) in by and (pipeline, large) in by:
      out[f"{pipeline}_growth_mb"] = (by[pipeline, large]["peak_rss_mb"]
                                      - by[pipeline, small]["peak_rss_mb"])
  if "stream_growth_mb" in out:
    out["stream_holds"] = out["stream_growth_mb"] < MAX_STREAM_GROWTH_MB
  if "memory_growth_mb" in out and "decoded_growth_mb" in out:
    out["memory_growth_over_decoded"] = (out["memory_growth_mb"]
                                         / out["decoded_growth_mb"])
  return out


def report(result: dict) -> str:
  """The table and the differences, as markdown."""
  lines = ["| pipeline | train images | peak RSS (MB) | seconds |",
           "|---|---:|---:|---:|"]
  for r in result["runs"]:
    rss = (f"{r['peak_rss_mb']:.0f}" if r["returncode"] == 0
           else f"failed (exit {r['returncode']}"
           + (", killed: the machine ran low on memory"
              if r.get("killed_low_memory") else "") + ")")
    lines.append(f"| {r['pipeline']} | {r['train_images']} | {rss} | "
                 f"{r['seconds']:.0f} |")
  s = result["summary"]
  lines.append("")
  for key, text in (("stream_growth_mb", "stream growth"),
                    ("memory_growth_mb", "memory growth"),
                    ("decoded_growth_mb", "decoded images' growth")):
    if key in s:
      lines.append(f"- {text}, {s['small']} -> {s['large']} images: "
                   f"{s[key]:.0f} MB")
  if "memory_growth_over_decoded" in s:
    lines.append(f"- memory growth / decoded growth: "
                 f"{s['memory_growth_over_decoded']:.2f}x")
  if "stream_holds" in s:
    lines.append(f"- stream growth < {MAX_STREAM_GROWTH_MB:.0f} MB: "
                 f"{s['stream_holds']}")
  return "\n".join(lines)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n", maxsplit=1)[0])
  parser.add_argument("--train_sizes", default="2000,20000",
                      help="two training-set sizes, smaller first")
  parser.add_argument("--test_images", type=int, default=500)
  parser.add_argument("--space", default="fbnetv2_f",
                      help="a built-in space, or NAME@SIZE: that space with "
                      "the one input size SIZE (e.g. tiny32@224)")
  parser.add_argument("--resolution_sampling", default="all",
                      choices=("all", "one"))
  parser.add_argument("--batch_size", type=int, default=4)
  parser.add_argument("--steps_per_epoch", type=int, default=2)
  parser.add_argument("--max_test_images", type=int, default=16)
  parser.add_argument("--pipelines", default=",".join(PIPELINES))
  parser.add_argument("--min_available_mb", type=float, default=1000,
                      help="kill a run when the machine's available memory "
                      "falls below this (before the kernel kills anyone)")
  parser.add_argument("--work_dir", default="/tmp/input_memory")
  parser.add_argument("--fresh", action="store_true",
                      help="measure every run again (default: keep the "
                      "successful runs of the results file's entry for "
                      "--space, when measured with the same settings)")
  parser.add_argument("--json", default=os.path.join(
      ROOT, "benchmarks", "results", "input_memory.json"))
  args = parser.parse_args(argv)
  small, large = sorted(int(n) for n in args.train_sizes.split(","))
  args.space_argument = space_argument(args.space, args.work_dir)
  for n in (small, large):
    image_folders.write_image_folder(folder_of(args.work_dir, n), "jpeg",
                                     SIZE, max_train=n,
                                     max_test=args.test_images)
  settings = {
      "space": args.space, "resolution_sampling": args.resolution_sampling,
      "image_size": SIZE, "format": "jpeg",
      "jpeg_quality": image_folders.JPEG_QUALITY,
      "test_images": args.test_images, "batch_size": args.batch_size,
      "epochs": 1, "warmup_epochs": 0,
      "steps_per_epoch": args.steps_per_epoch,
      "max_test_images": args.max_test_images,
      "peak_rss": "ru_maxrss of the search process (os.wait4)",
      "cores": os.cpu_count(), "mb": "10^6 bytes"}
  kept = {} if args.fresh else _finished_runs(args.json, args.space, settings)
  rows = []
  for pipeline in args.pipelines.split(","):
    for n in (small, large):
      if (pipeline, n) in kept:
        print(f"  {pipeline}_{n}: kept from the earlier run",
              file=sys.stderr)
        rows.append(kept[pipeline, n])
      else:
        rows.append(measure(pipeline, n, args))
  result = {"settings": settings,
            "runs": rows, "summary": summarize(rows, small, large),
            "claim": {"max_stream_growth_mb": MAX_STREAM_GROWTH_MB}}
  print(report(result))
  if args.json:
    save(args.json, args.space, result)
  return result


def _finished_runs(path: str, space: str, settings: dict) -> dict:
  """The successful runs of ``space``'s entry in the results file, by
  ``(pipeline, train images)``, where it was measured with ``settings``
  (a rerun then measures only what failed or is missing)."""
  if not path or not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    earlier = json.load(f).get(space)
  if not earlier or earlier["settings"] != settings:
    return {}
  return {(r["pipeline"], r["train_images"]): r for r in earlier["runs"]
          if r["returncode"] == 0}


def save(path: str, space: str, result: dict) -> None:
  """Writes ``result`` as ``space``'s entry of the results file, keeping
  the other spaces' entries."""
  from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=import-outside-toplevel
  results = {}
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      results = json.load(f)
  results[space] = result
  write_atomically(path, json.dumps(results, indent=1, sort_keys=True)
                   + "\n")


if __name__ == "__main__":
  main()
