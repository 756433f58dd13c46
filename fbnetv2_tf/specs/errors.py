"""The one exception type for malformed architecture and search-space descriptions."""


class SpecError(ValueError):
  """A spec is invalid. The message is one line and names the location.

  Locations read like ``FBNetV2_F1: stage 3, block 1: field 'stride': must be
  1 or 2, got 3`` so a user can find the offending entry in a JSON file.
  """


def location(model: str, stage: int | None = None, block: int | None = None,
             field: str | None = None) -> str:
  """Formats a location prefix such as ``m: stage 2, block 0: field 'out'``."""
  parts = [model]
  where = []
  if stage is not None:
    where.append(f"stage {stage}")
  if block is not None:
    where.append(f"block {block}")
  if where:
    parts.append(", ".join(where))
  if field is not None:
    parts.append(f"field '{field}'")
  return ": ".join(parts)
