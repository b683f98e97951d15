# Prints to stdout and stderr: the lines must reach the deployment log.
import sys


def init():
    print("init says hello")


def run(raw_data):
    print("run got " + raw_data)
    print("warning on stderr", file=sys.stderr)
    return "printed"
