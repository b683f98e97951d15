"""python3 -m azurefake --dir DIR (from tests/): the fake, until Ctrl-C."""

from .server import main

main()
