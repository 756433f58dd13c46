"""Does an int8 latency table steer a search away from h-swish?

int8 HARD_SWISH has no XNNPACK kernel in LiteRT on this CPU, so every
h-swish block splits an int8 graph and costs several times its fp32 time,
while a ReLU is fused into its convolution in both. A search that deploys
int8 should therefore avoid h-swish where an fp32 table sees no reason to.

tiny32 fixes the activation of most of its blocks, so this benchmark uses
``tiny32_act``: tiny32 at 32 px in which every block (stem, the four
searched blocks, last stage) chooses its op with ReLU or with h-swish
(``ir_k3``/``ir_k3_hs``, ``ir_k5``/``ir_k5_hs``, ``conv_k3``/``conv_k3_hs``,
``ir_pool``/``ir_pool_hs``; skip where tiny32 has it).

1. Build host fp32 and int8 tables of ``tiny32_act`` (1 thread, core 1),
   h-swish fused (``HARD_SWISH``) as exported before the delegable form;
   with the delegable form, now the int8 default, int8 h-swish no longer
   splits the graph, and this question changes.
2. Target: the 40 % quantile of the int8 table's latency over random
   architectures.
3. Search with the int8 table and with the fp32 table at that target (same
   flags and seed: what a user deploying int8 gets from each table), with
   seeds 0, 1 and 2; and with the int8 table at the int8 time of the fp32
   table's seed-0 child (the same int8 budget).
4. Count each child's h-swish blocks and time every child whole, in fp32
   and int8, as the tables' validation times networks.

Resumable (finished steps are kept in the results file).

  python benchmarks/int8_aware_search.py [--work_dir=out/int8_aware_search]
"""

import argparse
import json
import os

from _common import Results  # pylint: disable=import-error
from latency_tables import (ROOT, build, measure_archs,  # pylint: disable=import-error
                            relative_target, search)

RELU_OR_HSWISH = {"conv_k3": "conv_k3_hs", "ir_k3": "ir_k3_hs",
                  "ir_k5": "ir_k5_hs", "ir_pool": "ir_pool_hs"}


def tiny32_act(work_dir):
  """The space described above, as a JSON file."""
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  space = builtin_spaces.tiny32().to_dict()
  plain = {hs: relu for relu, hs in RELU_OR_HSWISH.items()}
  for stage in space["stages"]:
    for block in stage:
      kinds = []
      for op in block["ops"]:
        op = plain.get(op, op)
        if op == "ir_k3_sehsig_hs":  # the activation choice replaces SE
          continue
        kinds += [op, RELU_OR_HSWISH[op]] if op in RELU_OR_HSWISH else [op]
      block["ops"] = list(dict.fromkeys(kinds))
  space.update(name="tiny32_act", input_sizes=[32],
               description="tiny32 at 32 px, ReLU or h-swish in every block")
  path = os.path.join(work_dir, "tiny32_act.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(space, f)
  return path


def hswish_blocks(arch_text):
  """How many blocks of an arch string use h-swish."""
  from fbnetv2_tf.specs import ops  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import parse_arch_string  # pylint: disable=g-import-not-at-top
  arch = parse_arch_string(arch_text)
  return sum(ops.parse_op(block.op).activation == ops.HSWISH
             for stage in arch.stages for block in stage)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=os.path.join(
      ROOT, "out", "int8_aware_search"))
  parser.add_argument("--results", default=os.path.join(
      ROOT, "benchmarks", "results", "int8_aware_search.json"))
  parser.add_argument("--search_epochs", type=int, default=6)
  parser.add_argument("--seeds", type=int, default=3,
                      help="search seeds of the int8/fp32 table pair")
  args = parser.parse_args()
  os.makedirs(args.work_dir, exist_ok=True)
  results = Results(args.results)
  space = tiny32_act(args.work_dir)
  lut = {d: os.path.join(args.work_dir, f"tiny32_act_{d}.json")
         for d in ("fp32", "int8")}
  for dtype, path in lut.items():
    results.get_or_run(f"build/{dtype}", lambda d=dtype, p=path: build(
        p, space, d))
  target = results.get_or_run("target/int8", lambda: relative_target(
      lut["int8"], space))

  def searched(label, dtype, target_ms, seed=0):
    found = results.get_or_run(f"search/{label}/{seed}", lambda: search(
        lut[dtype], target_ms, os.path.join(args.work_dir, f"{label}_{seed}"),
        args.search_epochs, f"--space={space}", f"--seed={seed}"))
    return found | {"hswish_blocks": hswish_blocks(found["arch"])}

  children = {}
  for seed in range(args.seeds):
    pair = {f"{label}/{seed}": searched(label, dtype, target, seed)
            for label, dtype in (("int8_lut", "int8"), ("fp32_lut", "fp32"))}
    children.update(pair)
    results.get_or_run(f"measured/{seed}", lambda p=pair: (
        measure_archs(args.work_dir, {k: c["arch"] for k, c in p.items()},
                      lut)))
  budget = round(results.items["measured/0"]["fp32_lut/0.int8"], 4)
  children["int8_lut_same_budget/0"] = searched("int8_lut_same_budget",
                                                "int8", budget)
  results.get_or_run("measured/same_budget/0", lambda: measure_archs(
      args.work_dir, {"int8_lut_same_budget/0": children[
          "int8_lut_same_budget/0"]["arch"]}, lut))
  print(json.dumps({"children": children, **results.items}, indent=1))


if __name__ == "__main__":
  main()
