"""Same flags, same architecture: the README's main search, run three times.

Each run is a separate process of ``fbnetv2-search`` (python -m tools.search)
with the README's flags and its own output directory; the derived
architectures (arch.json) must be identical. With ``--kill_after_epochs=K``
one more run is killed (SIGKILL) as soon as its checkpoint holds K epochs and
then started again; it must derive the same architecture too.

  python benchmarks/reproducibility.py [--runs=3] [--flags="--target_mflops=0.3"]
      [--kill_after_epochs=K]
"""

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _search(out: str, flags: str, **popen_kwargs) -> subprocess.Popen:
  return subprocess.Popen(
      [sys.executable, "-m", "tools.search", f"--output_dir={out}",
       "--verbose=0", *shlex.split(flags)], cwd=ROOT,
      stdout=subprocess.DEVNULL, **popen_kwargs)


def finished_epochs(out: str) -> int:
  """Epochs the run's checkpoint holds (it is renamed into place whole)."""
  path = os.path.join(out, "checkpoint.npz")
  if not os.path.exists(path):
    return 0
  with np.load(path) as data:
    return int(data["finished_epochs"])


def killed_and_resumed(out: str, flags: str, epochs: int) -> None:
  """A search SIGKILLed once its checkpoint holds ``epochs`` epochs, then
  run again to the end in the same directory."""
  proc = _search(out, flags, stderr=subprocess.DEVNULL)
  while finished_epochs(out) < epochs:
    if proc.poll() is not None:
      sys.exit(f"the run to kill ended (exit {proc.returncode}) before "
               f"{epochs} epochs")
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  print(f"killed after {finished_epochs(out)} epochs; resuming",
        file=sys.stderr)
  if _search(out, flags).wait() != 0:
    sys.exit("the resumed run failed")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--runs", type=int, default=3)
  parser.add_argument("--flags", default="--target_mflops=0.3")
  parser.add_argument("--kill_after_epochs", type=int, default=None)
  args = parser.parse_args()
  archs, probabilities = [], []
  work = tempfile.mkdtemp(prefix="reproducibility_")
  kills = [args.kill_after_epochs] if args.kill_after_epochs else []
  for k, kill in enumerate([None] * args.runs + kills):
    out = os.path.join(work, f"run{k}")
    start = time.time()
    if kill:
      killed_and_resumed(out, args.flags, kill)
    elif _search(out, args.flags).wait() != 0:
      sys.exit(f"run {k} failed")
    with open(os.path.join(out, "arch.json"), encoding="utf-8") as f:
      archs.append(json.load(f))
    with open(os.path.join(out, "search_result.json"), encoding="utf-8") as f:
      result = json.load(f)
    print(f"run {k}{' (killed, resumed)' if kill else ''}: "
          f"{result['arch']} counted {result['counted_cost']:.4f}, "
          f"{result['budget_changes']} repaired, "
          f"{time.time() - start:.0f} s", file=sys.stderr)
    probabilities.append(np.concatenate(
        [result["probabilities"][n] for n in sorted(result["probabilities"])]))
  same = all(a == archs[0] for a in archs)
  gap = max(float(np.abs(p - probabilities[0]).max()) for p in probabilities)
  print(f"largest difference of a final probability from run 0: {gap:.3g}")
  print(f"{len(archs)} runs of `fbnetv2-search {args.flags}` in separate "
        "processes" + (f" (the last killed after {kills[0]} epochs and "
                       "resumed)" if kills else "") +
        f": {'the same' if same else 'DIFFERENT'} derived architecture"
        + ("" if same else "s"))
  sys.exit(0 if same else 1)


if __name__ == "__main__":
  main()
