"""The docs stay true: their Python snippets run and their commands' flags
exist.

Every ```python block of README.md and docs/ runs on its own in a fresh
interpreter, unless the line before it is ``<!-- docs-test: import-only -->``
(a snippet that needs external data, a phone or a long run): then only its
imports are checked. In every ```sh block, each ``fbnetv2-*`` command may
use only flags that binary's ``--helpshort`` lists.
"""

import ast
import functools
import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT_ONLY = "<!-- docs-test: import-only -->"
BINARIES = ("search", "train", "profile", "export", "build-lut",
            "validate-lut", "benchmark", "derive")
# absl's own flags, which every binary takes without listing them.
ABSL_FLAGS = {"flagfile", "help", "helpshort", "helpfull", "helpxml",
              "verbosity", "v", "logtostderr", "alsologtostderr"}


def doc_files(root=ROOT):
  return [os.path.join(root, "README.md"),
          *sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"),
                            recursive=True))]


def code_blocks(text, language):
  """``(line number, code, import_only)`` of each fenced block."""
  blocks, lines = [], text.splitlines()
  i = 0
  while i < len(lines):
    if lines[i].strip() == f"```{language}":
      start = i
      i += 1
      body = []
      while i < len(lines) and lines[i].strip() != "```":
        body.append(lines[i])
        i += 1
      marked = start > 0 and lines[start - 1].strip() == IMPORT_ONLY
      blocks.append((start + 1, "\n".join(body), marked))
    i += 1
  return blocks


def _snippets(kind):
  found = []
  for path in doc_files():
    with open(path, encoding="utf-8") as f:
      for line, code, marked in code_blocks(f.read(), "python"):
        if marked == (kind == "import-only"):
          found.append(pytest.param(code, id=f"{os.path.relpath(path, ROOT)}:"
                                    f"{line}"))
  return found


def imports_of(code):
  """The snippet's import statements alone, as source."""
  tree = ast.parse(code)
  return "\n".join(ast.unparse(n) for n in ast.walk(tree)
                   if isinstance(n, (ast.Import, ast.ImportFrom)))


def _run_python(code, cwd, timeout=600):
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT}
  return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=timeout,
                        check=False)


@pytest.mark.parametrize("code", _snippets("import-only"))
def test_import_only_snippets_import(code, tmp_path):
  result = _run_python(imports_of(code), tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("code", _snippets("run"))
def test_snippets_run(code, tmp_path):
  result = _run_python(code, tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]


def commands(text):
  """``(binary, [flag names])`` of each ``fbnetv2-*`` command in ```sh
  blocks (continuation lines joined; one command per ``&&`` part)."""
  found = []
  for _, code, _ in code_blocks(text, "sh"):
    for line in code.replace("\\\n", " ").splitlines():
      line = line.split("#", 1)[0]
      for part in re.split(r"&&|\|\||;|\|", line):
        words = part.split()
        for i, word in enumerate(words):
          match = re.fullmatch(r"(?:\S*/)?fbnetv2-([a-z-]+)", word)
          if match:
            flags = [w[2:].split("=", 1)[0] for w in words[i + 1:]
                     if w.startswith("--")]
            found.append((match.group(1), flags))
            break
  return found


@functools.lru_cache(maxsize=None)
def binary_flags(binary):
  """The flag names ``fbnetv2-BINARY --helpshort`` lists."""
  module = f"tools.{binary.replace('-', '_')}"
  result = subprocess.run([sys.executable, "-m", module, "--helpshort"],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
  names = set(re.findall(r"^\s+--(?:\[no\])?([a-z0-9_]+)",
                         result.stdout + result.stderr, re.M))
  assert names, f"fbnetv2-{binary} --helpshort listed no flags"
  return frozenset(names)


def unknown_flags(binary, flags):
  known = binary_flags(binary) | ABSL_FLAGS
  return [f for f in flags
          if f not in known and not (f.startswith("no") and f[2:] in known)]


def _documented_commands():
  found = []
  for path in doc_files():
    with open(path, encoding="utf-8") as f:
      found += [(os.path.relpath(path, ROOT), b, fl)
                for b, fl in commands(f.read())]
  return found


def test_every_documented_command_uses_flags_its_binary_has():
  documented = _documented_commands()
  assert {b for _, b, _ in documented} >= set(BINARIES)
  wrong = [f"{path}: fbnetv2-{binary} --{flag}"
           for path, binary, flags in documented
           for flag in unknown_flags(binary, flags)]
  assert wrong == []


def test_the_flag_check_finds_a_wrong_flag():
  text = ("```sh\n.venv/bin/fbnetv2-search --output_dir=out \\\n"
          "    --target_mflopz=0.3 && fbnetv2-train --arch=a.json\n```\n")
  found = commands(text)
  assert found == [("search", ["output_dir", "target_mflopz"]),
                   ("train", ["arch"])]
  assert unknown_flags("search", found[0][1]) == ["target_mflopz"]
  assert unknown_flags("train", found[1][1]) == []


def test_marked_snippets_are_found_and_reduced_to_their_imports():
  text = ("intro\n" + IMPORT_ONLY + "\n```python\nimport os\n"
          "from fbnetv2_tf import data\nos.listdir('/nonexistent')\n```\n")
  [(line, code, marked)] = code_blocks(text, "python")
  assert (line, marked) == (3, True)
  assert imports_of(code) == "import os\nfrom fbnetv2_tf import data"
