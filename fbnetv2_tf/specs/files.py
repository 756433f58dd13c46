"""Reading and writing the project's JSON files: one-line errors, atomic writes."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable, Mapping

from fbnetv2_tf.specs.errors import SpecError, location


def read_json(path: str | os.PathLike) -> Any:
  """Parses a JSON file; every failure is a SpecError naming the path."""
  try:
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  except OSError as e:
    raise SpecError(f"{path}: cannot read: {e.strerror}") from e
  except json.JSONDecodeError as e:
    raise SpecError(f"{path}: invalid JSON at line {e.lineno}, column "
                    f"{e.colno}: {e.msg}") from e
  except UnicodeDecodeError as e:
    raise SpecError(f"{path}: not UTF-8 text (byte {e.start})") from e


def write_atomically(path: str | os.PathLike, data: str | bytes) -> None:
  """Writes via a temporary file and a rename: a crash never leaves half a
  file behind, and readers see the old or the new content."""
  tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
  with open(tmp, "wb" if isinstance(data, bytes) else "w",
            **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
    f.write(data)
  os.replace(tmp, path)


def check_keys(d: Mapping[str, Any], allowed: Iterable[str],
               required: Iterable[str], where: str) -> None:
  """Missing required keys and unknown keys are one-line SpecErrors."""
  for key in required:
    if key not in d:
      raise SpecError(f"{where}: missing field '{key}'")
  allowed = tuple(allowed)
  for key in d:
    if key not in allowed:
      raise SpecError(f"{where}: unknown field '{key}'; allowed: "
                      f"{', '.join(allowed)}")


def require_int(v: Any, where: str) -> int:
  """``v`` if it is an integer (not a bool), else a SpecError."""
  if isinstance(v, bool) or not isinstance(v, int):
    raise SpecError(f"{where}: must be an integer, got {v!r}")
  return v


def parse_stages(stages: Any, name: str,
                 parse_block: Callable[[Any, str], Any]) -> tuple:
  """A non-empty list of non-empty stages, each block parsed by
  ``parse_block(value, location)``; errors name stage and block."""
  if not isinstance(stages, list) or not stages:
    raise SpecError(f"{location(name, field='stages')}: must be a non-empty "
                    "list of stages")
  parsed = []
  for s, stage in enumerate(stages):
    if not isinstance(stage, list) or not stage:
      raise SpecError(f"{location(name, s)}: a stage must be a non-empty "
                      "list of blocks")
    parsed.append(tuple(parse_block(blk, location(name, s, b))
                        for b, blk in enumerate(stage)))
  return tuple(parsed)
