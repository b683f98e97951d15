# Imports a module that does not exist: loading must fail naming it.
import mldeck_no_such_module  # noqa: F401


def init():
    pass


def run(raw_data):
    return raw_data
