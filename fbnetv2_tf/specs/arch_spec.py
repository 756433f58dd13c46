"""ArchSpec and BlockSpec: a fixed network as pure data, and its JSON format.

JSON format (the format of the published-model file)::

  {model_name: {"input_size": int, "width_divisor": int,
                "padding"?: "symmetric" | "same",
                "stages": [[block, ...], ...]}, ...}

  block = {"op": str, "out": int, "stride": 1 | 2, "repeat"?: int >= 1,
           "expansion"?: float > 0, "bias"?: bool, "pwl_groups"?: int >= 1}

``op`` follows the grammar of :mod:`fbnetv2_tf.specs.ops`. ``expansion`` is
required by ``ir_*`` and ``ir_pool*`` blocks and not allowed elsewhere.
``repeat`` copies a block; only the first copy uses ``stride``. ``bias`` gives
the block's convs a bias; ``pwl_groups`` is the group count of an inverted
residual's 1x1 projection conv. ``padding`` is how strided convs pad:
``symmetric`` (the default, the reference models') pads ``k // 2`` on every
side; ``same`` pads as TensorFlow's ``"same"`` does (inside the conv, one
pixel less at the top and left of an even input), which needs no separate
pad op in a TFLite file. Output sizes, and so costs, are the same; the
function is not. It is written only when it is not the default. A file holds
one or several named models.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any, Iterator, Mapping

from fbnetv2_tf.specs import files
from fbnetv2_tf.specs import ops
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.locations import location

_BLOCK_REQUIRED = ("op", "out", "stride")
_BLOCK_OPTIONAL = ("repeat", "expansion", "bias", "pwl_groups")
_ARCH_KEYS = ("input_size", "width_divisor", "padding", "stages")

# How strided convs pad (module docstring); the reference models' first.
SYMMETRIC = "symmetric"
SAME = "same"
PADDINGS = (SYMMETRIC, SAME)


@dataclasses.dataclass(frozen=True)
class BlockSpec:
  """One entry of a stage: an op, its output channels and its options."""
  op: str
  out: int
  stride: int = 1
  repeat: int = 1
  expansion: float | None = None
  bias: bool = False
  pwl_groups: int = 1

  @property
  def info(self) -> ops.OpInfo:
    return ops.parse_op(self.op)

  @classmethod
  def searched(cls, op: str, out: int, stride: int = 1,
               expansion: float | None = None, bias: bool = False
               ) -> "BlockSpec":
    """The block that a search-space option ``op`` becomes in a child.

    A ``_g2`` op groups both of its 1x1 convs (FBNet), so the projection
    takes the expand conv's groups. Derivation and the latency table's
    candidates both build blocks here, so they cannot disagree.
    """
    return cls(op=op, out=out, stride=stride, expansion=expansion, bias=bias,
               pwl_groups=ops.parse_op(op).expand_groups)

  def to_dict(self) -> dict[str, Any]:
    d: dict[str, Any] = {"op": self.op, "out": self.out, "stride": self.stride,
                         "repeat": self.repeat}
    if self.expansion is not None:
      e = self.expansion
      d["expansion"] = int(e) if float(e).is_integer() else e
    if self.bias:
      d["bias"] = True
    if self.pwl_groups != 1:
      d["pwl_groups"] = self.pwl_groups
    return d


@dataclasses.dataclass(frozen=True)
class ArchSpec:
  """A whole network: input size, channel rounding, how strided convs pad
  (``PADDINGS``) and stages of blocks.

  The classifier (global pool and a fully-connected layer) is implied after
  the last stage, as in the published models; its class count is a build
  option, not part of the architecture.
  """
  name: str
  input_size: int
  stages: tuple[tuple[BlockSpec, ...], ...]
  width_divisor: int = 8
  padding: str = SYMMETRIC

  def __post_init__(self):
    object.__setattr__(self, "stages",
                       tuple(tuple(stage) for stage in self.stages))
    _validate(self)

  def blocks(self) -> Iterator[tuple[int, int, BlockSpec]]:
    """Yields ``(stage_index, block_index, block)`` in network order."""
    for s, stage in enumerate(self.stages):
      for b, block in enumerate(stage):
        yield s, b, block

  @property
  def total_stride(self) -> int:
    return math.prod(b.stride for _, _, b in self.blocks())

  def replace(self, **changes) -> "ArchSpec":
    """A validated copy with fields changed, e.g. ``input_size=160``."""
    return dataclasses.replace(self, **changes)

  def to_dict(self) -> dict[str, Any]:
    d: dict[str, Any] = {"input_size": self.input_size,
                         "width_divisor": self.width_divisor}
    # Only when not the default: files written before the field existed, and
    # the zoo's, stay byte for byte what they were.
    if self.padding != SYMMETRIC:
      d["padding"] = self.padding
    d["stages"] = [[b.to_dict() for b in stage] for stage in self.stages]
    return d

  @classmethod
  def from_dict(cls, name: str, d: Mapping[str, Any]) -> "ArchSpec":
    """Parses one model of the JSON format; SpecError names the location."""
    if not isinstance(d, Mapping):
      raise SpecError(f"{name}: a model must be a JSON object, got "
                      f"{type(d).__name__}")
    files.check_keys(d, _ARCH_KEYS, ("input_size", "stages"), name)
    parsed = files.parse_stages(d["stages"], name, _block_from_dict)
    return cls(name=name,
               input_size=files.require_int(
                   d["input_size"], location(name, field="input_size")),
               width_divisor=files.require_int(
                   d.get("width_divisor", 8),
                   location(name, field="width_divisor")),
               padding=d.get("padding", SYMMETRIC),
               stages=parsed)


def archs_from_json(data: Mapping[str, Any], source: str = "") -> dict[str, ArchSpec]:
  """Parses a ``{name: model}`` mapping into ArchSpecs, keeping file order."""
  if not isinstance(data, Mapping) or not data:
    where = f"{source}: " if source else ""
    raise SpecError(f"{where}expected a JSON object mapping model names to "
                    "models")
  return {name: ArchSpec.from_dict(name, model) for name, model in data.items()}


def load_archs(path: str | os.PathLike) -> dict[str, ArchSpec]:
  """Reads every model of an arch JSON file."""
  return archs_from_json(files.read_json(path), str(path))


def archs_to_json(archs: Mapping[str, ArchSpec] | list[ArchSpec]) -> str:
  """Serializes ArchSpecs to the JSON format, one model per top-level key."""
  if not isinstance(archs, Mapping):
    archs = {a.name: a for a in archs}
  return json.dumps({n: a.to_dict() for n, a in archs.items()}, indent=1) + "\n"


def save_archs(path: str | os.PathLike,
               archs: Mapping[str, ArchSpec] | list[ArchSpec]) -> None:
  """Writes ArchSpecs atomically (a crash never leaves half a file)."""
  files.write_atomically(path, archs_to_json(archs))


def _block_from_dict(d: Any, where: str) -> BlockSpec:
  if not isinstance(d, Mapping):
    raise SpecError(f"{where}: a block must be a JSON object, got "
                    f"{type(d).__name__}")
  files.check_keys(d, _BLOCK_REQUIRED + _BLOCK_OPTIONAL, _BLOCK_REQUIRED, where)
  expansion = d.get("expansion")
  if expansion is not None:
    if isinstance(expansion, bool) or not isinstance(expansion, (int, float)):
      raise SpecError(f"{where}: field 'expansion': must be a number, got "
                      f"{expansion!r}")
    expansion = float(expansion)
  bias = d.get("bias", False)
  if not isinstance(bias, bool):
    raise SpecError(f"{where}: field 'bias': must be true or false, got {bias!r}")
  if not isinstance(d["op"], str):
    raise SpecError(f"{where}: field 'op': must be a string, got {d['op']!r}")
  return BlockSpec(op=d["op"],
                   out=_field_int(d, "out", None, where),
                   stride=_field_int(d, "stride", None, where),
                   repeat=_field_int(d, "repeat", 1, where),
                   expansion=expansion, bias=bias,
                   pwl_groups=_field_int(d, "pwl_groups", 1, where))


def check_padding(padding: Any, where: str) -> None:
  """SpecError unless ``padding`` is one of ``PADDINGS``."""
  if padding not in PADDINGS:
    raise SpecError(f"{where}: must be one of "
                    f"{', '.join(repr(p) for p in PADDINGS)}, got {padding!r}")


def _field_int(d: Mapping[str, Any], key: str, default, where: str) -> int:
  value = d[key] if default is None else d.get(key, default)
  return files.require_int(value, f"{where}: field '{key}'")


def _validate(arch: ArchSpec) -> None:
  """Semantic checks; each error names model, stage, block and field."""
  name = arch.name
  if not arch.stages:
    raise SpecError(f"{name}: an architecture needs at least one stage")
  if arch.width_divisor < 1:
    raise SpecError(f"{location(name, field='width_divisor')}: must be >= 1, "
                    f"got {arch.width_divisor}")
  if arch.input_size < 1:
    raise SpecError(f"{location(name, field='input_size')}: must be positive, "
                    f"got {arch.input_size}")
  check_padding(arch.padding, location(name, field="padding"))
  for s, b, block in arch.blocks():
    _validate_block(block, lambda f, s=s, b=b: location(name, s, b, f))
  if arch.input_size < arch.total_stride:
    raise SpecError(f"{location(name, field='input_size')}: {arch.input_size} "
                    f"is too small for the network's total stride "
                    f"{arch.total_stride}")


def _validate_block(block: BlockSpec, where) -> None:
  try:
    info = ops.parse_op(block.op)
  except ValueError as e:
    raise SpecError(f"{where('op')}: {e}") from None
  if block.out < 1:
    raise SpecError(f"{where('out')}: channels must be positive, got {block.out}")
  if block.stride not in (1, 2):
    raise SpecError(f"{where('stride')}: must be 1 or 2, got {block.stride}")
  if block.repeat < 1:
    raise SpecError(f"{where('repeat')}: must be >= 1, got {block.repeat}")
  if block.pwl_groups < 1:
    raise SpecError(f"{where('pwl_groups')}: must be >= 1, got "
                    f"{block.pwl_groups}")
  if info.needs_expansion:
    if block.expansion is None:
      raise SpecError(f"{where('expansion')}: missing; op {block.op!r} needs "
                      "an expansion ratio")
    if not (block.expansion > 0 and math.isfinite(block.expansion)):
      raise SpecError(f"{where('expansion')}: must be positive and finite, got "
                      f"{block.expansion}")
  elif block.expansion is not None:
    raise SpecError(f"{where('expansion')}: op {block.op!r} takes no expansion")
  if block.pwl_groups != 1 and info.kind != ops.INVERTED_RESIDUAL:
    raise SpecError(f"{where('pwl_groups')}: only ir_* blocks have a grouped "
                    "projection conv")
  if block.pwl_groups > 1 and block.out % block.pwl_groups:
    raise SpecError(f"{where('pwl_groups')}: {block.pwl_groups} groups do not "
                    f"divide {block.out} output channels")
