"""A stand-in for pydash (not packaged by Debian), with only what azure-ai-ml 1.4.0 calls:
get, omit and objects.set_. See tests/shims/README.md."""

from . import objects
from .objects import get, omit

__all__ = ["get", "omit", "objects"]
