"""The package's import graph: no cycles, and layers that keep to themselves.

Every import of one package module by another counts, at module level or
inside a function: a function-level import hides a cycle from Python's
import machinery but not from a reader. Imports of other packages
(TensorFlow, keras, absl) are not edges here.
"""

import ast
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "fbnetv2_tf"


def _module_files(root=ROOT, package=PACKAGE):
  """``{dotted module name: path}`` of every module of the package."""
  modules = {}
  for folder, _, names in os.walk(os.path.join(root, package)):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(folder, name)
        dotted = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
        modules[dotted.removesuffix(".__init__")] = path
  return modules


def _imported(tree, module, modules):
  """The package modules that ``module``'s code imports."""
  names = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names.update(a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      base = node.module
      if node.level:  # relative: resolve against this module's package
        parts = module.split(".")
        is_package = modules[module].endswith("__init__.py")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + [node.module])
      for alias in node.names:
        sub = f"{base}.{alias.name}"
        names.add(sub if sub in modules else base)
  return {n for n in names if n in modules and n != module}


def import_graph(root=ROOT, package=PACKAGE):
  modules = _module_files(root, package)
  graph = {}
  for module, path in modules.items():
    with open(path, encoding="utf-8") as f:
      graph[module] = _imported(ast.parse(f.read()), module, modules)
  return graph


def cycles(graph):
  """Strongly connected components of more than one module (Tarjan)."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(graph[v]):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        found.append(sorted(component))

  for v in sorted(graph):
    if v not in index:
      visit(v)
  return found


def test_the_package_has_no_import_cycle():
  assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle(tmp_path):
  package = tmp_path / "pkg"
  (package / "sub").mkdir(parents=True)
  (package / "__init__.py").write_text("")
  (package / "sub" / "__init__.py").write_text("")
  (package / "a.py").write_text("from pkg.sub import b\n")
  (package / "sub" / "b.py").write_text(
      "def f():\n  from pkg import a  # hidden in a function\n")
  (package / "c.py").write_text("import pkg.a\n")
  assert cycles(import_graph(str(tmp_path), "pkg")) == [["pkg.a",
                                                          "pkg.sub.b"]]


def test_models_import_nothing_from_the_search():
  graph = import_graph()
  offenders = {m: sorted(n for n in graph[m] if n.startswith(f"{PACKAGE}.search"))
               for m in graph if m.startswith(f"{PACKAGE}.models")}
  assert {m: v for m, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", [f"{PACKAGE}.errors", f"{PACKAGE}.specs"])
def test_the_error_and_spec_modules_import_no_other_layer(module):
  graph = import_graph()
  reached, todo = set(), [module]
  while todo:
    for n in graph[todo.pop()] - reached:
      reached.add(n)
      todo.append(n)
  assert f"{PACKAGE}.cli" not in reached
  assert all(n.startswith((f"{PACKAGE}.specs", f"{PACKAGE}.errors"))
             for n in reached), sorted(reached)


def test_only_the_binaries_layer_imports_absl():
  importers = []
  for module, path in _module_files().items():
    with open(path, encoding="utf-8") as f:
      if re.search(r"^\s*(from|import) absl", f.read(), re.M):
        importers.append(module)
  assert importers == [f"{PACKAGE}.cli"]


_FLAG_IN_MESSAGE = re.compile(r"Error\(\s*f?[\"'][^\"']*--[a-z]")


def test_library_error_messages_name_no_flag():
  """Library errors name the argument or file; a binary's flags are its own."""
  offenders = []
  for module, path in _module_files().items():
    if module == f"{PACKAGE}.cli":
      continue
    with open(path, encoding="utf-8") as f:
      source = f.read()
    offenders += [f"{module}: {m.group(0)}"
                  for m in _FLAG_IN_MESSAGE.finditer(source)]
  assert offenders == []


def test_binaries_never_write_into_their_flags():
  """flags.json records what the user passed; a derived value written back
  into FLAGS would be recorded as if it had been passed."""
  offenders = []
  for path in sorted(glob.glob(os.path.join(ROOT, "tools", "*.py"))):
    with open(path, encoding="utf-8") as f:
      offenders += [f"{os.path.basename(path)}: {m.group(0)}" for m in
                    re.finditer(r"FLAGS\.\w+\s*=(?!=)|setattr\(FLAGS",
                                f.read())]
  assert offenders == []
