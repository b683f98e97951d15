"""A fake of Azure ML for mldeck's tests (see server.py)."""

from .server import Fake  # noqa: F401
