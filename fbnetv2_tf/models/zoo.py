"""The published FBNetV2 and FBNet models, by name.

The package ships its own copy of the reference data (``data/``): layer-by-
layer definitions from the FBNetV2 authors' released model definitions
(mobile-vision ``fbnet_modeldef_cls_fbnetv2.py`` and
``fbnet_modeldef_cls_fbnet.py``) and their published FLOPs, parameters and
ImageNet accuracy (``model_info_fbnet_v2.json``, ``model_info_fbnet.json``;
arXiv 2004.05565, 1812.03443). To add a model, add it to
``data/fbnet_archs.json`` and its figures to ``data/published_numbers.json``.
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

from fbnetv2_tf.specs.arch_spec import ArchSpec, load_archs

DATA_DIR = pathlib.Path(__file__).parent / "data"
ARCHS_FILE = DATA_DIR / "fbnet_archs.json"
NUMBERS_FILE = DATA_DIR / "published_numbers.json"


@functools.cache
def _archs() -> dict[str, ArchSpec]:
  return load_archs(ARCHS_FILE)


@functools.cache
def _numbers() -> dict[str, dict[str, Any]]:
  return json.loads(NUMBERS_FILE.read_text(encoding="utf-8"))


def _key(name: str) -> str:
  return name.lower().replace("-", "_")


def names() -> list[str]:
  """Canonical zoo names, e.g. ``FBNetV2_F1`` and ``fbnet_a``."""
  return list(_archs())


def canonical_name(name: str) -> str | None:
  """The zoo name matching ``name`` (case and ``-``/``_`` ignored), or None."""
  return {_key(n): n for n in names()}.get(_key(name))


def get_arch(name: str) -> ArchSpec:
  """The ArchSpec of a zoo model; ``FBNetV2-F1`` and ``fbnetv2_f1`` both work."""
  canonical = canonical_name(name)
  if canonical is None:
    raise KeyError(f"unknown zoo model {name!r}; known: {', '.join(names())}. "
                   f"To add one, edit {ARCHS_FILE.name} in {DATA_DIR}")
  return _archs()[canonical]


def published(name: str) -> dict[str, Any]:
  """Published figures: flops_m, params_m, resolution, top_1_accuracy, ..."""
  return dict(_numbers()[get_arch(name).name])
