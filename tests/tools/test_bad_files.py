"""Every kind of file a binary reads, broken every way a user breaks one:
one line naming the file or the fault, exit 1, never a traceback."""

import random
import zipfile

import pytest

from tests.testing.cli import assert_one_line_error, run_tool


def _garbage():
  return random.Random(0).randbytes(3000)


def _write(directory, name, content):
  path = directory / name
  if isinstance(content, bytes):
    path.write_bytes(content)
  else:
    path.write_text(content, encoding="utf-8")
  return path


# name -> contents; bytes are written as they are.
FILES = {
    "garbage.tflite": _garbage(),
    "damaged.tflite": _garbage()[:4] + b"TFL3" + _garbage()[8:],
    "garbage.json": _garbage(),
    "truncated.json": '{"a": [1, 2',
    "list.json": "[]",
    "wrong_fields.json": '{"not": "what you expect"}',
    "bad_entry.json": '{"entries": [{"op": "ir_k3", "input_size": "x"}]}',
    "bad_space.json": '{"name": "s", "input_sizes": [32], '
                      '"stages": [[{"ops": ["ir_k3"]}]]}',
    "garbage.flags": b"--target_mflops=\x00\xff\n",
}

# (binary, flags with {name} for a file above, fragment of the one line)
CASES = [
    ("benchmark", ("--model={garbage.tflite}",), "is not a TFLite model"),
    ("benchmark", ("--model={damaged.tflite}",), "LiteRT cannot load"),
    ("export", ("--model={garbage.json}", "--output_dir={out}"),
     "is not a .keras file"),
    ("export", ("--model={broken.keras}", "--output_dir={out}"),
     "could not be loaded"),
    ("export", ("--arch={truncated.json}", "--output_dir={out}"),
     "invalid JSON at line 1"),
    ("profile", ("--arch={garbage.json}",), "not UTF-8 text"),
    ("train", ("--arch={list.json}", "--output_dir={out}"),
     "expected a JSON object"),
    ("search", ("--space={bad_space.json}", "--target_mflops=1",
                "--output_dir={out}"), "missing field 'out'"),
    ("search", ("--lut={list.json}", "--target_ms=1", "--output_dir={out}"),
     "a latency table must be a JSON object"),
    ("search", ("--lut={bad_entry.json}", "--target_ms=1",
                "--output_dir={out}"), "entry 0: bad or missing field"),
    ("search", ("--flagfile={garbage.flags}", "--output_dir={out}"),
     "not UTF-8 text (byte 17)"),
    ("build_lut", ("--space={wrong_fields.json}", "--output={out}/t.json"),
     "missing field 'input_sizes'"),
    ("validate_lut", ("--lut={wrong_fields.json}",),
     "without a measurement header"),
]


@pytest.mark.parametrize("binary, args, fragment", CASES,
                         ids=[f"{c[0]}-{c[1][0].split('=')[0][2:]}-{i}"
                              for i, c in enumerate(CASES)])
def test_a_bad_file_is_a_one_line_error(tmp_path, binary, args, fragment):
  paths = {name: str(_write(tmp_path, name, content))
           for name, content in FILES.items()}
  with zipfile.ZipFile(tmp_path / "broken.keras", "w") as archive:
    archive.writestr("config.json", "{not json")
  paths["broken.keras"] = str(tmp_path / "broken.keras")
  paths["out"] = str(tmp_path / "out")
  def filled(arg):
    for name, path in paths.items():
      arg = arg.replace("{" + name + "}", path)
    return arg
  result = run_tool(binary, *map(filled, args))
  assert_one_line_error(result, fragment)
