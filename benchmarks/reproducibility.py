"""Same flags, same architecture: the README's main search, run three times.

Each run is a separate process of ``fbnetv2-search`` (python -m tools.search)
with the README's flags and its own output directory; the derived
architectures (arch.json) must be identical.

  python benchmarks/reproducibility.py [--runs=3] [--flags="--target_mflops=0.3"]
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--runs", type=int, default=3)
  parser.add_argument("--flags", default="--target_mflops=0.3")
  args = parser.parse_args()
  archs, work = [], tempfile.mkdtemp(prefix="reproducibility_")
  for k in range(args.runs):
    out = os.path.join(work, f"run{k}")
    start = time.time()
    subprocess.run([sys.executable, "-m", "tools.search", f"--output_dir={out}",
                    "--verbose=0", *shlex.split(args.flags)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "arch.json"), encoding="utf-8") as f:
      archs.append(json.load(f))
    with open(os.path.join(out, "search_result.json"), encoding="utf-8") as f:
      result = json.load(f)
    print(f"run {k}: {result['arch']} counted {result['counted_cost']:.4f}, "
          f"{result['budget_changes']} repaired, "
          f"{time.time() - start:.0f} s", file=sys.stderr)
  same = all(a == archs[0] for a in archs)
  print(f"{args.runs} runs of `fbnetv2-search {args.flags}` in separate "
        f"processes: {'the same' if same else 'DIFFERENT'} derived "
        "architecture" + ("" if same else "s"))
  sys.exit(0 if same else 1)


if __name__ == "__main__":
  main()
