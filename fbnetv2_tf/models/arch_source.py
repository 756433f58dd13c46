"""Turns a user's ``--arch`` value into ArchSpecs: zoo name, file or string."""

from __future__ import annotations

import os

from fbnetv2_tf.models import zoo
from fbnetv2_tf.specs.arch_spec import ArchSpec, load_archs
from fbnetv2_tf.specs.arch_string import looks_like_arch_string, parse_arch_string
from fbnetv2_tf.errors import SpecError


def archs_from_argument(value: str, input_size: int | None = None
                        ) -> dict[str, ArchSpec]:
  """Every architecture named by ``value``, keyed by model name.

  A zoo name wins over a file of the same name; a path must exist; anything
  else must parse as an arch string. ``input_size`` overrides every model's.
  """
  archs = _archs(value.strip())
  if input_size is None:
    return archs
  return {n: a.replace(input_size=input_size) for n, a in archs.items()}


def _archs(value: str) -> dict[str, ArchSpec]:
  if zoo.canonical_name(value):
    arch = zoo.get_arch(value)
    return {arch.name: arch}
  if os.path.exists(value):
    return load_archs(value)
  if looks_like_arch_string(value):
    arch = parse_arch_string(value)
    return {arch.name: arch}
  raise SpecError(f"arch {value!r} is not a zoo model ({', '.join(zoo.names())}),"
                  " an existing file, or an arch string")
