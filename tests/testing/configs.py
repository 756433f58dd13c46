"""Checks that a layer's get_config holds exactly its __init__ arguments."""

import inspect

_SIMPLE = (int, float, str, bool, type(None))


def _plain(value):
  if isinstance(value, (list, tuple)):
    return [_plain(v) for v in value]
  return value


def _is_simple(value) -> bool:
  if isinstance(value, (list, tuple)):
    return all(_is_simple(v) for v in value)
  return isinstance(value, _SIMPLE)


def assert_config_holds_init_arguments(layer):
  """Every named ``__init__`` argument is in ``get_config()`` with the value
  the layer holds (the convention: one attribute per argument), so a dropped
  or stale argument fails; then the config round-trips through
  ``from_config``."""
  config = layer.get_config()
  params = [p.name for p in
            inspect.signature(type(layer).__init__).parameters.values()
            if p.name != "self"
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
  missing = sorted(set(params) - set(config))
  assert not missing, f"get_config of {type(layer).__name__} lacks {missing}"
  for name in params:
    held = getattr(layer, name)
    if _is_simple(held):
      assert _plain(config[name]) == _plain(held), name
  clone = type(layer).from_config(config)
  assert clone.get_config() == config
  for name in params:
    if _is_simple(getattr(layer, name)):
      assert _plain(getattr(clone, name)) == _plain(getattr(layer, name)), name
