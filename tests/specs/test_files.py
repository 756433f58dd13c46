"""specs.files.atomic_path: whole files or none, with ordinary permissions."""

import os
import stat

import pytest

from fbnetv2_tf.specs.files import atomic_path, write_atomically


def test_a_write_lands_whole_with_the_umask_mode(tmp_path):
  path = tmp_path / "a.json"
  write_atomically(path, "{}\n")
  umask = os.umask(0)
  os.umask(umask)
  assert path.read_text() == "{}\n"
  assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
  assert os.listdir(tmp_path) == ["a.json"]


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path):
  path = tmp_path / "m.keras"
  path.write_text("old")
  with pytest.raises(RuntimeError, match="writer failed"):
    with atomic_path(path) as tmp:
      assert tmp.endswith(".keras") and os.path.dirname(tmp) == str(tmp_path)
      os.remove(tmp)
      os.mkdir(tmp)  # a writer that leaves a directory behind
      raise RuntimeError("writer failed")
  assert path.read_text() == "old"
  assert os.listdir(tmp_path) == ["m.keras"]
