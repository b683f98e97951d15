"""mldeck_worker: runs one user's score.py on behalf of the mldeck runtime.

Started by runtime/engines/python.c as `python -u -c <this file> CODE_DIR SCRIPT [MODULE...]`
(or `python -u mldeck_worker.py ...` when MLDECK_WORKER names this file). Frames travel on
fd 3 (requests in) and fd 4 (replies out); fd 1 and fd 2 belong to the user's code and end up
in the deployment log. The protocol is described in docs/worker-protocol.md.
"""

import importlib
import importlib.util
import inspect
import json
import os
import struct
import sys
import traceback

REQ_FD = 3
REP_FD = 4
MAX_FRAME = 64 << 20
MAX_MESSAGE = 1000

T_REQUEST = b"Q"
T_READY = b"Y"
T_INIT_FAILED = b"I"
T_OK = b"O"
T_RUN_FAILED = b"E"
T_NOT_JSON = b"N"
T_BAD_INPUT = b"B"


def send(kind, payload):
    frame = struct.pack(">I", len(payload) + 1) + kind + payload
    view = memoryview(frame)
    while view:
        n = os.write(REP_FD, view)
        view = view[n:]


def send_text(kind, text):
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "..."
    send(kind, text.encode("utf-8", "replace"))


def print_user_traceback(ex):
    """The traceback without this module's own frame on top."""
    tb = ex.__traceback__.tb_next if ex.__traceback__ is not None else None
    traceback.print_exception(type(ex), ex, tb)


def describe(ex):
    text = str(ex)
    return type(ex).__name__ + (": " + text if text else "")


def recv(inp):
    """One request frame as (headers dict, body bytes), or None at end of input."""
    head = inp.read(5)
    if len(head) < 5:
        return None
    (length,) = struct.unpack(">I", head[:4])
    if length < 1 or length > MAX_FRAME or head[4:5] != T_REQUEST:
        raise RuntimeError("bad frame from runtime (type %r, length %d)" % (head[4:5], length))
    payload = inp.read(length - 1)
    if len(payload) != length - 1 or len(payload) < 4:
        return None
    (hlen,) = struct.unpack(">I", payload[:4])
    headers = json.loads(payload[4 : 4 + hlen].decode("utf-8")) if hlen else {}
    # Names as werkzeug's dict(request.headers) spells them in Azure's server: Content-Type.
    headers = {str(k).title(): v for k, v in headers.items()}
    return headers, payload[4 + hlen :]


def load(code_dir, script, modules):
    """Imports the user's module, or returns the failure message."""
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as ex:
            return "module %s is not importable in environment: %s" % (name, describe(ex))
    path = os.path.join(code_dir, script)
    try:
        spec = importlib.util.spec_from_file_location("entry_module", path)
        if spec is None:
            return "scoring script %s cannot be loaded" % script
        module = importlib.util.module_from_spec(spec)
        sys.modules["entry_module"] = module
        spec.loader.exec_module(module)
    except BaseException as ex:
        traceback.print_exc()
        return "scoring script %s failed to import: %s" % (script, describe(ex))
    for fn in ("init", "run"):
        if not callable(getattr(module, fn, None)):
            return "scoring script %s does not define %s()" % (script, fn)
    return module


def wants_headers(run):
    try:
        return "request_headers" in inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False


def encode(result):
    """The JSON text of run()'s answer, as Azure's server does: json.dumps of the value."""
    return json.dumps(result, allow_nan=False).encode("utf-8")


def serve_one(run, with_headers, headers, body):
    try:
        raw = str(body, "utf-8")
    except UnicodeDecodeError as ex:
        send_text(T_BAD_INPUT, "Input cannot be decoded as UTF-8: %s" % ex)
        return
    try:
        result = run(raw, request_headers=headers) if with_headers else run(raw)
    except Exception as ex:
        print_user_traceback(ex)
        send_text(T_RUN_FAILED, "run() raised " + describe(ex))
        return
    try:
        text = encode(result)
    except Exception as ex:
        send_text(T_NOT_JSON, "run() returned a value that is not JSON-encodable: " + describe(ex))
        return
    if len(text) + 1 > MAX_FRAME:
        send_text(T_RUN_FAILED, "run() result too large: %d bytes (max %d)" % (len(text), MAX_FRAME - 1))
        return
    send(T_OK, text)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: mldeck_worker CODE_DIR SCRIPT [MODULE...]\n")
        return 2
    code_dir, script, modules = argv[1], argv[2], argv[3:]
    for fd in (REQ_FD, REP_FD):
        os.set_inheritable(fd, False)
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    module = load(code_dir, script, modules)
    if isinstance(module, str):
        send_text(T_INIT_FAILED, module)
        return 1
    try:
        module.init()
    except BaseException as ex:
        print_user_traceback(ex)
        send_text(T_INIT_FAILED, "init() raised " + describe(ex))
        return 1
    run = module.run
    with_headers = wants_headers(run)
    send(T_READY, json.dumps({"pid": os.getpid(), "headers": with_headers}).encode())
    inp = os.fdopen(REQ_FD, "rb", buffering=1 << 16)
    while True:
        req = recv(inp)
        if req is None:
            return 0
        serve_one(run, with_headers, req[0], req[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
