"""Reading and writing the project's JSON files: one-line errors, atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from typing import Any, Callable, Iterable, Iterator, Mapping

from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.locations import location


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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
  """A fresh temporary path beside ``path`` for a writer to fill; renamed
  over ``path`` when the block ends, removed if it raises.

  A crash never leaves half a file at ``path``, and readers see the old or
  the new content. The temporary name is unique (two processes writing the
  same file do not share it) and keeps ``path``'s extension, by which
  writers such as ``keras.Model.save`` and matplotlib's ``savefig`` choose
  the format.
  """
  path = os.fspath(path)
  folder, name = os.path.split(path)
  _, extension = os.path.splitext(name)
  descriptor, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=extension,
                                     dir=folder or ".")
  os.close(descriptor)
  # mkstemp makes the file owner-only; give it what open() would have.
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o666 & ~umask)
  try:
    yield tmp
    os.replace(tmp, path)
  finally:
    with contextlib.suppress(OSError):  # never hide the writer's own error
      if os.path.isdir(tmp):
        shutil.rmtree(tmp)
      elif os.path.exists(tmp):
        os.remove(tmp)


def write_atomically(path: str | os.PathLike, data: str | bytes) -> None:
  """Writes ``data`` (bytes, or text as UTF-8) whole or not at all."""
  with atomic_path(path) as tmp:
    if isinstance(data, bytes):
      with open(tmp, "wb") as f:
        f.write(data)
    else:
      with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)


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
