"""pydash.objects: get, set_ and omit over dicts, lists and attributes, with "a.b.0.c" paths."""

_MISSING = object()


def _keys(path):
    if isinstance(path, (list, tuple)):
        return list(path)
    return [] if path is None or path == "" else str(path).split(".")


def _step(obj, key):
    if isinstance(obj, dict):
        return obj.get(key, _MISSING)
    if isinstance(obj, (list, tuple)):
        try:
            return obj[int(key)]
        except (ValueError, IndexError):
            return _MISSING
    return getattr(obj, str(key), _MISSING)


def get(obj, path, default=None):
    """The value at path, or default when any step is missing."""
    for key in _keys(path):
        obj = _step(obj, key)
        if obj is _MISSING:
            return default
    return obj


def set_(obj, path, value):
    """Sets the value at path, creating dicts along the way; returns obj."""
    keys = _keys(path)
    if not keys:
        return obj
    cur = obj
    for key in keys[:-1]:
        nxt = _step(cur, key)
        if nxt is _MISSING or nxt is None:
            nxt = {}
            if isinstance(cur, dict):
                cur[key] = nxt
            else:
                setattr(cur, key, nxt)
        cur = nxt
    if isinstance(cur, dict):
        cur[keys[-1]] = value
    elif isinstance(cur, list):
        cur[int(keys[-1])] = value
    else:
        setattr(cur, keys[-1], value)
    return obj


def omit(obj, *paths):
    """A copy of a dict without the given top-level keys (lists of keys accepted)."""
    drop = set()
    for p in paths:
        drop.update(p if isinstance(p, (list, tuple, set)) else [p])
    return {k: v for k, v in (obj or {}).items() if k not in drop}
