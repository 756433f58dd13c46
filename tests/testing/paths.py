"""Where the tests find the repository."""

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
