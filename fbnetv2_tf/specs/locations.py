"""Where in a spec an error is: the prefix of a ``SpecError`` message."""


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
