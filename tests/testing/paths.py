"""Where the tests find the repository and the shared reference data."""

import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# The reference data lives beside the checkout (../shared/reference).
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
