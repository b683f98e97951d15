"""The store under faults and other local users (issue 7, items 3, 4, 11, 12, 13, 14):
writes that cost in proportion to the change, a lock that survives removing its file,
a state file replaced under a running runtime, a home other users could write to with a
link planted in it, artifacts that survive a failed re-registration, a full disk, and
deployments that say what they are doing after a restart."""

import http.client
import json
import os
import statistics

from conftest import Runtime

WS_PATH = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
           "/providers/Microsoft.MachineLearningServices/workspaces/local")


class KeepAlive:
    """Many small control-plane requests over one connection."""

    def __init__(self, rt):
        host, port = rt.url.split("//")[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.key = rt.admin_key

    def call(self, method, path, body=None):
        self.conn.request(method, WS_PATH + path,
                          body=json.dumps(body).encode() if body is not None else None,
                          headers={"Authorization": "Bearer " + self.key,
                                   "Content-Type": "application/json"})
        r = self.conn.getresponse()
        text = r.read()
        return r.status, json.loads(text) if text else None

    def close(self):
        self.conn.close()


def bytes_written(pid):
    """What the process handed to write(2) and friends so far (/proc/PID/io wchar)."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise AssertionError("no wchar in /proc/%d/io" % pid)


def test_write_costs_the_change_not_the_workspace(make_runtime):
    """Item 12: with thousands of resources, changing one writes that one row (a few
    database pages), never the whole state again."""
    rt = make_runtime().start()
    c = KeepAlive(rt)
    pad = "x" * 600
    for i in range(2000):
        s, b = c.call("PUT", "/onlineEndpoints/ep-%d" % i,
                      {"properties": {"authMode": "Key", "description": "%d %s" % (i, pad)}})
        assert s == 201, b
    state = sum(os.path.getsize(os.path.join(rt.home, f)) for f in os.listdir(rt.home)
                if f.startswith("state."))
    assert state > 1_000_000, state  # the workspace really is big
    deltas = []
    for i in range(7):
        before = bytes_written(rt.proc.pid)
        s, b = c.call("PATCH", "/onlineEndpoints/ep-1000",
                      {"properties": {"description": "change %d" % i}})
        assert s == 200, b
        deltas.append(bytes_written(rt.proc.pid) - before)
    # one row: a few 4 KiB pages in the log (the median keeps an occasional
    # checkpoint out); the whole state would be over a megabyte every time
    assert statistics.median(deltas) < 64 * 1024, (deltas, state)
    s, b = c.call("GET", "/onlineEndpoints/ep-1000")
    assert b["properties"]["description"] == "change 6"
    c.close()
    rt.stop()
    rt = make_runtime(home=rt.home).start()
    c = KeepAlive(rt)
    s, b = c.call("GET", "/onlineEndpoints/ep-1000")
    assert s == 200 and b["properties"]["description"] == "change 6"
    s, b = c.call("GET", "/onlineEndpoints/ep-1999")
    assert s == 200 and b["properties"]["description"].startswith("1999 ")
    c.close()
