"""What a TFLite flatbuffer contains: its ops and the types they compute in.

Read through LiteRT's interpreter (its op and tensor details), so what is
reported is what the runtime loads; the graph's own ops are read without
LiteRT's default delegate, which would fold them into DELEGATE nodes.
"""

from __future__ import annotations

import collections

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

# Ops that convert between float and integer at a model's float ends.
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


def _interpreter(flatbuffer: bytes) -> Interpreter:
  interpreter = Interpreter(
      model_content=flatbuffer,
      experimental_op_resolver_type=(
          OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
  interpreter.allocate_tensors()
  return interpreter


def op_counts(flatbuffer: bytes) -> dict[str, int]:
  """``{op name: how many}`` in execution order of first appearance."""
  ops = _interpreter(flatbuffer)._get_ops_details()  # pylint: disable=protected-access
  return dict(collections.Counter(op["op_name"] for op in ops))


def float_ops(flatbuffer: bytes) -> list[str]:
  """Ops other than QUANTIZE/DEQUANTIZE that output a float tensor: in a
  full-integer model, the ops left in float."""
  interpreter = _interpreter(flatbuffer)
  dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
  return [op["op_name"]
          for op in interpreter._get_ops_details()  # pylint: disable=protected-access
          if op["op_name"] not in BOUNDARY_OPS
          and any(dtypes.get(i) in (np.float32, np.float16)
                  for i in op["outputs"])]


def _delegated(flatbuffer: bytes) -> tuple[list[dict], set[int]]:
  """Every node after LiteRT's default XNNPACK delegate took its share
  (the model's nodes, then one DELEGATE node per partition), and the graph's
  output tensors."""
  interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
  interpreter.allocate_tensors()
  return (interpreter._get_ops_details(),  # pylint: disable=protected-access
          {t["index"] for t in interpreter.get_output_details()})


def xnnpack_partitions(flatbuffer: bytes) -> int:
  """How many partitions LiteRT's default XNNPACK delegate makes of the
  graph: each is one DELEGATE node; 1 means the whole graph runs on
  XNNPACK, more means ops between them fall back to the builtin kernels."""
  return xnnpack_split(flatbuffer)[0]


def dynamic_tensors(flatbuffer: bytes) -> list[str]:
  """Names of tensors with a free (-1) dimension in their shape signature."""
  interpreter = _interpreter(flatbuffer)
  return [t["name"] for t in interpreter.get_tensor_details()
          if np.any(t["shape_signature"] < 0)]


def unfolded_batch_norms(flatbuffer: bytes) -> int:
  """MUL-by-constant ops that feed an ADD-of-constant: the pattern an
  inference BatchNorm leaves when the converter did not fold it into the
  preceding conv. 0 for a properly folded graph."""
  interpreter = _interpreter(flatbuffer)
  ops = interpreter._get_ops_details()  # pylint: disable=protected-access
  produced = {i for op in ops for i in op["outputs"]}
  graph_inputs = {t["index"] for t in interpreter.get_input_details()}

  def has_constant(op):
    return any(i >= 0 and i not in produced and i not in graph_inputs
               for i in op["inputs"])

  scaled = {i for op in ops if op["op_name"] == "MUL" and has_constant(op)
            for i in op["outputs"]}
  return sum(op["op_name"] == "ADD" and has_constant(op)
             and any(i in scaled for i in op["inputs"]) for op in ops)


def undelegated_ops(flatbuffer: bytes) -> dict[str, int]:
  """``{op name: how many}`` of the ops LiteRT's default XNNPACK delegate
  leaves to the builtin kernels: the ops that split the graph into more
  than one partition (``xnnpack_split``)."""
  return xnnpack_split(flatbuffer)[1]


def xnnpack_split(flatbuffer: bytes) -> tuple[int, dict[str, int]]:
  """The XNNPACK partitions of the graph and the ops left outside them,
  from one delegation.

  The interpreter lists every node of the model, delegated or not, and then
  one DELEGATE node per partition; which nodes still run on their own is
  read from the tensors. A tensor that crosses from a partition to another
  node is a DELEGATE node's output; a node of the model that produces no
  such tensor, yet whose output a DELEGATE node, a graph output or another
  node left outside reads, runs outside XNNPACK. Nodes are visited last to
  first so that a chain of undelegated nodes is found whole.
  """
  ops, graph_outputs = _delegated(flatbuffer)
  delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
  if not delegates:  # XNNPACK took nothing: every node runs on its own
    return 0, dict(sorted(collections.Counter(
        op["op_name"] for op in ops).items()))
  crossing = {i for op in delegates for i in op["outputs"]}
  read = {i for op in delegates for i in op["inputs"]} | graph_outputs
  left = collections.Counter()
  for op in reversed([op for op in ops if op["op_name"] != "DELEGATE"]):
    made = set(op["outputs"])
    if made & crossing or not made & read:
      continue
    left[op["op_name"]] += 1
    read |= set(op["inputs"])
  return len(delegates), dict(sorted(left.items()))
