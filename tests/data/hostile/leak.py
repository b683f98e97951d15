# A leaking score.py: every request keeps another 32 MiB for ever. bytes(n) is
# calloc'd, so without a limit the pages are never touched (cheap to run), but
# they count against RLIMIT_DATA all the same.
import os

kept = []


def init():
    pass


def run(raw_data):
    kept.append(bytes(32 << 20))
    return {"kept_mb": 32 * len(kept), "pid": os.getpid()}
