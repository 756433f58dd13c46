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
