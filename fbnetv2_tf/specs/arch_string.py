"""Compact one-line form of an ArchSpec, for flags and logs.

Grammar (whitespace is ignored)::

  arch    := [name "@"] input_size ["/" width_divisor] ["+" padding] ":"
             stage ("|" stage)*
  padding := "same" | "symmetric"
  stage   := block ("," block)*
  block   := op "-c" out ("-" option)*
  option  := "s" stride | "e" expansion | "r" repeat | "p" pwl_groups | "b"

``op`` follows :mod:`fbnetv2_tf.specs.ops`; ``b`` gives the block's convs a
bias; omitted options take their defaults (stride 1, repeat 1, no expansion,
no bias, 1 group). ``width_divisor`` defaults to 8, ``name`` to ``arch`` and
``padding`` to ``symmetric`` (how strided convs pad,
:mod:`fbnetv2_tf.specs.arch_spec`), which is never written. Examples, the
first three stages of FBNetV2-F1, and a small network padded as ``same``::

  FBNetV2_F1@128/8: conv_k3_hs-c8-s2 | ir_k5-c8-e1 | ir_k5-c24-s2-e5.4566, ir_k5-c24-e4.7912
  tiny@32/8+same: conv_k3-c8-s2 | ir_k3-c16-s2-e4
"""

from __future__ import annotations

import decimal
import re

from fbnetv2_tf.specs.arch_spec import SYMMETRIC, ArchSpec, BlockSpec
from fbnetv2_tf.errors import SpecError

DEFAULT_NAME = "arch"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_HEADER_RE = re.compile(
    r"^(?:([A-Za-z0-9_.\-]+)@)?(\d+)(?:/(\d+))?(?:\+([A-Za-z]+))?$")
_OPTION_RE = re.compile(r"^([cserp])(\d+(?:\.\d*)?)$|^b$")
_OPTION_FIELDS = {"c": "out", "s": "stride", "e": "expansion", "r": "repeat",
                  "p": "pwl_groups"}


def looks_like_arch_string(text: str) -> bool:
  """True when ``text`` has the ``header: blocks`` shape of an arch string."""
  head, sep, _ = text.partition(":")
  return bool(sep) and bool(_HEADER_RE.match("".join(head.split())))


def parse_arch_string(text: str) -> ArchSpec:
  """Parses the grammar above; SpecError names the stage and block."""
  compact = "".join(text.split())
  head, sep, body = compact.partition(":")
  m = _HEADER_RE.match(head)
  if not sep or not m:
    raise SpecError(f"arch string {text!r}: expected "
                    "'[name@]input_size[/width_divisor][+padding]: blocks'")
  name = m.group(1) or DEFAULT_NAME
  stages = []
  for s, stage_text in enumerate(body.split("|")):
    if not stage_text:
      raise SpecError(f"{name}: stage {s}: empty stage")
    stages.append(tuple(_parse_block(block_text, f"{name}: stage {s}, block {b}")
                        for b, block_text in enumerate(stage_text.split(","))))
  return ArchSpec(name=name, input_size=int(m.group(2)),
                  width_divisor=int(m.group(3) or 8),
                  padding=m.group(4) or SYMMETRIC, stages=tuple(stages))


def _parse_block(text: str, where: str) -> BlockSpec:
  op, *options = text.split("-")
  if not op:
    raise SpecError(f"{where}: missing op in {text!r}")
  fields: dict = {"op": op}
  seen = set()
  for option in options:
    m = _OPTION_RE.match(option)
    if not m:
      raise SpecError(f"{where}: bad option {option!r} in {text!r}; options "
                      "are c<out>, s<stride>, e<expansion>, r<repeat>, "
                      "p<pwl_groups>, b")
    key = option[0]
    if key in seen:
      raise SpecError(f"{where}: option '{key}' given twice in {text!r}")
    seen.add(key)
    if option == "b":
      fields["bias"] = True
      continue
    field = _OPTION_FIELDS[m.group(1)]
    value = m.group(2)
    if field != "expansion" and "." in value:
      raise SpecError(f"{where}: field '{field}': must be an integer, got {value}")
    fields[field] = float(value) if field == "expansion" else int(value)
  if "out" not in fields:
    raise SpecError(f"{where}: missing field 'out' (c<channels>) in {text!r}")
  return BlockSpec(**fields)


def to_arch_string(arch: ArchSpec) -> str:
  """The arch string of ``arch``; ``parse_arch_string`` inverts it exactly."""
  if not _NAME_RE.match(arch.name):
    raise SpecError(f"{arch.name}: the name cannot be written in an arch "
                    "string; use letters, digits, '_', '.' and '-'")
  header = f"{arch.name}@{arch.input_size}/{arch.width_divisor}"
  if arch.padding != SYMMETRIC:
    header += f"+{arch.padding}"
  stages = [", ".join(_block_string(b) for b in stage) for stage in arch.stages]
  return f"{header}: " + " | ".join(stages)


def _block_string(block: BlockSpec) -> str:
  parts = [block.op, f"c{block.out}"]
  if block.stride != 1:
    parts.append(f"s{block.stride}")
  if block.expansion is not None:
    e = block.expansion
    # Positional notation: an exponent's '-' would clash with the separator.
    parts.append(f"e{int(e)}" if float(e).is_integer()
                 else f"e{decimal.Decimal(repr(e)):f}")
  if block.repeat != 1:
    parts.append(f"r{block.repeat}")
  if block.pwl_groups != 1:
    parts.append(f"p{block.pwl_groups}")
  if block.bias:
    parts.append("b")
  return "-".join(parts)
