"""Checks what importing a module pulls in, in a fresh interpreter."""

import os
import subprocess
import sys

from tests.testing.paths import REPO_ROOT

HEAVY = ("tensorflow", "keras")


def heavy_modules_imported_by(*modules: str) -> list[str]:
  """Which of TensorFlow and Keras importing ``modules`` loads."""
  code = (f"import sys, {', '.join(modules)}; "
          f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
  out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True,
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}).stdout
  return out.split()
