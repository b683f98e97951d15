"""Unchanged answers are not sent again: every GET answer of the runtime has an
ETag (a hash of its body); If-None-Match naming it gets 304 and no body, and
the client (api/client.c) keeps the last answers and asks that way. An idle
console polling a thousand endpoints over ssh:// moved the whole list every
2 s (600 KB)."""

from test_console import deck_factory, put, rt_env  # noqa: F401 (a fixture)


def test_get_answers_carry_an_etag_and_304_when_unchanged(runtime):
    s, h, _ = runtime.http("GET", "ws:/onlineEndpoints")
    assert s == 200 and h["etag"].startswith('"')
    s, h2, body = runtime.http("GET", "ws:/onlineEndpoints", headers={"If-None-Match": h["etag"]})
    assert s == 304 and body is None and h2["etag"] == h["etag"]
    put(runtime, "/onlineEndpoints/cond-ep", {"location": "local", "properties": {}})
    s, h3, body = runtime.http("GET", "ws:/onlineEndpoints", headers={"If-None-Match": h["etag"]})
    assert s == 200 and h3["etag"] != h["etag"]
    assert [e["name"] for e in body["value"]] == ["cond-ep"]
    # a stale tag is only a miss; an error is never turned into a 304
    s, _, _ = runtime.http("GET", "ws:/onlineEndpoints/nope", headers={"If-None-Match": "*"})
    assert s == 404


def test_an_idle_console_polls_with_if_none_match(runtime, deck_factory):
    for ep in ("cond-a", "cond-b"):
        put(runtime, "/onlineEndpoints/" + ep, {"location": "local", "properties": {}})
    d = deck_factory(rt_env(runtime))
    d.wait("cond-a", "cond-b")
    # the list is polled again: unchanged, it comes back as a 304 ...
    runtime.wait_log("/onlineEndpoints 304", timeout=30)
    # ... and the screen still shows it (the kept answer)
    d.wait("cond-a", "cond-b")
    put(runtime, "/onlineEndpoints/cond-c", {"location": "local", "properties": {}})
    d.wait("cond-a", "cond-b", "cond-c", timeout=30)
