"""The repository @pypi: the checkout's virtual environment as Bazel's Python.

Third-party packages are whatever `.venv` holds (installed from setup.py's
pins by the README's command); Bazel runs every py_binary and py_test with
that interpreter through a registered toolchain (otherwise it picks the first
`python3` on PATH). `requirement(name)` returns a label per package, so
BUILD files still say which target depends on what.
"""

_BUILD = """
load("@bazel_tools//tools/python:toolchain.bzl", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "python3",
    interpreter_path = "{python}",
    python_version = "PY3",
)

py_runtime_pair(name = "runtime_pair", py3_runtime = ":python3")

toolchain(
    name = "python_toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
"""

_REQUIREMENTS = '''"""requirement(name): the @pypi label of a package of the virtual environment."""

def requirement(name):
    return "@pypi//:" + name.lower().replace("-", "_").replace(".", "_")
'''

def _normalized(name):
    return name.lower().replace("-", "_").replace(".", "_")

def _venv_packages_impl(rctx):
    root = rctx.path(Label("//:WORKSPACE")).dirname
    python = root.get_child(rctx.attr.venv).get_child("bin").get_child("python")
    if not python.exists:
        fail("%s does not exist: create the virtual environment first " % python +
             "(README: python3 -m venv .venv && .venv/bin/pip install -e \".[test]\")")
    build = _BUILD.format(python = str(python))
    for name in rctx.attr.packages:
        # The interpreter imports the package itself; the target names it.
        build += 'py_library(name = "%s")\n' % _normalized(name)
    rctx.file("BUILD", build)
    rctx.file("requirements.bzl", _REQUIREMENTS)
    rctx.file("WORKSPACE", "")

venv_packages = repository_rule(
    implementation = _venv_packages_impl,
    attrs = {
        "venv": attr.string(default = ".venv"),
        "packages": attr.string_list(mandatory = True),
    },
    local = True,
)
