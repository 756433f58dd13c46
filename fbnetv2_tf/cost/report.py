"""Human- and machine-readable reports of counts (used by tools/profile.py)."""

from __future__ import annotations

from fbnetv2_tf.cost.counting import Counts

_HEADER = ("layer", "op", "input", "output", "MACs", "params")


def _shape(hwc: tuple[int, int, int]) -> str:
  return "x".join(str(d) for d in hwc)


def format_table(name: str, input_size: int, counts: Counts) -> str:
  """A per-layer table with totals, aligned for a terminal."""
  rows = [_HEADER] + [
      (c.name, c.op, _shape(c.input_shape), _shape(c.output_shape),
       f"{c.macs:,}", f"{c.params:,}") for c in counts.layers]
  widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
  numeric = {4, 5}
  lines = [f"{name} ({input_size}x{input_size})"]
  for r in rows:
    lines.append("  ".join(cell.rjust(w) if i in numeric else cell.ljust(w)
                           for i, (cell, w) in enumerate(zip(r, widths))).rstrip())
  lines.append(f"total: {counts.mflops:.4f} MFLOPs (MACs), "
               f"{counts.mparams:.6f} M params")
  return "\n".join(lines)


def summary(input_size: int, counts: Counts) -> dict:
  """``{"flops_m", "params_m", "input_size"}`` of one model."""
  return {"flops_m": counts.mflops, "params_m": counts.mparams,
          "input_size": input_size}
