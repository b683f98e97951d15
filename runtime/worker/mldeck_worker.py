"""mldeck_worker: runs one user's score.py on behalf of the mldeck runtime.

Started by runtime/engines/python.c as `python -u - CODE_DIR SCRIPT [MODULE...]` (this
file on stdin; or `python -u mldeck_worker.py ...` when MLDECK_WORKER names this file).
Frames arrive on fd 3 (requests in) and leave on fd 4 (replies out); before any user code is
imported, both move to private descriptor numbers and 3 and 4 are closed, and the first
frame (hello) gives the nonce every reply must carry. Each reply echoes its request's id.
fd 1 and fd 2 belong to the user's code and end up in the deployment log. The protocol is
described in docs/worker-protocol.md.
"""

import importlib
import importlib.util
import inspect
import fcntl
import json
import os
import random
import resource
import struct
import sys
import threading
import traceback
import types
import uuid

REQ_FD = 3
REP_FD = 4
MAX_FRAME = 64 << 20
MAX_MESSAGE = 1000
NONCE_LEN = 16

T_HELLO = b"H"
T_REQUEST = b"Q"
T_BATCH = b"R"
T_READY = b"Y"
T_INIT_FAILED = b"I"
T_OK = b"O"
T_RUN_FAILED = b"E"
T_NOT_JSON = b"N"
T_BAD_INPUT = b"B"
T_OUT_OF_MEMORY = b"M"
T_COLLECT = b"C"


def memory_limit():
    """The worker's memory limit, as the runtime set it (RLIMIT_DATA), for messages."""
    soft = resource.getrlimit(resource.RLIMIT_DATA)[0]
    if soft == resource.RLIM_INFINITY:
        return "no limit"
    return "limit %d MB per worker process, MLDECK_WORKER_MEMORY_MB" % (soft >> 20)


class Channel:
    """The protocol's two pipes, on private descriptors, and this worker's nonce."""

    def __init__(self):
        # Numbers no script would guess; the well-known 3 and 4 are closed.
        base = random.SystemRandom().randrange(200, 900)
        try:
            self.rep = fcntl.fcntl(REP_FD, fcntl.F_DUPFD_CLOEXEC, base)
        except OSError:  # a descriptor limit below base
            self.rep = fcntl.fcntl(REP_FD, fcntl.F_DUPFD_CLOEXEC, 10)
        req = fcntl.fcntl(REQ_FD, fcntl.F_DUPFD_CLOEXEC, self.rep)
        os.close(REQ_FD)
        os.close(REP_FD)
        self.inp = os.fdopen(req, "rb", buffering=1 << 16)
        head = self.inp.read(5)
        nonce = self.inp.read(NONCE_LEN)
        if head != struct.pack(">I", NONCE_LEN + 1) + T_HELLO or len(nonce) != NONCE_LEN:
            raise RuntimeError("no hello frame from the runtime")
        self.nonce = nonce
        self.lock = threading.Lock()  # a Collector may send from the script's threads

    def send(self, kind, rid, payload):
        head = struct.pack(">I", len(payload) + 1 + NONCE_LEN + 8) + kind + self.nonce
        view = memoryview(head + struct.pack(">Q", rid) + payload)
        with self.lock:
            while view:
                n = os.write(self.rep, view)
                view = view[n:]

    def send_text(self, kind, rid, text):
        if len(text) > MAX_MESSAGE:
            text = text[:MAX_MESSAGE] + "..."
        self.send(kind, rid, text.encode("utf-8", "replace"))

    def recv(self):
        """One request as (kind, id, headers dict, body bytes), or None at end of input."""
        head = self.inp.read(5)
        if len(head) < 5:
            return None
        (length,) = struct.unpack(">I", head[:4])
        kind = head[4:5]
        if length < 13 or length > MAX_FRAME or kind not in (T_REQUEST, T_BATCH):
            raise RuntimeError("bad frame from runtime (type %r, length %d)" % (kind, length))
        payload = self.inp.read(length - 1)
        if len(payload) != length - 1:
            return None
        rid, hlen = struct.unpack(">QI", payload[:12])
        headers = json.loads(payload[12 : 12 + hlen].decode("utf-8")) if hlen else {}
        # Names as werkzeug's dict(request.headers) spells them in Azure's server: Content-Type.
        headers = {str(k).title(): v for k, v in headers.items()}
        return kind, rid, headers, payload[12 + hlen :]


class Current:
    """The request run() is serving: its id and x-request-id (for collected rows)."""

    rid = 0
    xrid = ""


def collected_rows(data):
    """The rows of what Collector.collect() was given, as a JSON array of objects."""
    if hasattr(data, "to_json") and hasattr(data, "columns"):  # a pandas DataFrame
        return data.to_json(orient="records", date_format="iso")
    if isinstance(data, dict):
        if data and all(isinstance(v, (list, tuple)) for v in data.values()):
            n = max(len(v) for v in data.values())
            data = [{k: (v[i] if i < len(v) else None) for k, v in data.items()}
                    for i in range(n)]
        else:
            data = [data]
    if not isinstance(data, (list, tuple)):
        raise TypeError("collect() takes a pandas DataFrame (or rows: a list of dicts)")
    return json.dumps(list(data), default=str)


def install_collector(ch):
    """Azure's azureml-ai-monitoring API (Collector, BasicCorrelationContext), writing
    through the runtime's data collector instead of Azure's sidecar."""

    class BasicCorrelationContext:
        def __init__(self, id=None, timestamp=None, headers=None):
            self.id = str(id) if id is not None else str(uuid.uuid4())
            self.timestamp = timestamp
            self.headers = headers or {}

        def get_id(self):
            return self.id

        def get_timestamp(self):
            return self.timestamp

        def get_headers(self):
            return self.headers

    class Collector:
        def __init__(self, *, name, on_error=None, **kwargs):
            self.name = str(name)
            self.on_error = on_error

        def collect(self, data, correlation_context=None):
            ctx = correlation_context or BasicCorrelationContext()
            try:
                head = "\0".join([self.name, ctx.get_id(), Current.xrid]) + "\0"
                ch.send(T_COLLECT, Current.rid,
                        head.encode("utf-8") + collected_rows(data).encode("utf-8"))
            except Exception as ex:
                if self.on_error is None:
                    raise
                self.on_error(ex)
            return ctx

    mods = {}
    for name in ("azureml", "azureml.ai", "azureml.ai.monitoring",
                 "azureml.ai.monitoring.context"):
        mods[name] = None
        if name == "azureml" and importlib.util.find_spec("azureml") is not None:
            mods[name] = importlib.import_module("azureml")  # azureml.core and friends stay
        if mods[name] is None:
            mods[name] = types.ModuleType(name)
            mods[name].__path__ = []
            sys.modules[name] = mods[name]
    mods["azureml"].ai = mods["azureml.ai"]
    mods["azureml.ai"].monitoring = mods["azureml.ai.monitoring"]
    mods["azureml.ai.monitoring"].context = mods["azureml.ai.monitoring.context"]
    mods["azureml.ai.monitoring"].Collector = Collector
    mods["azureml.ai.monitoring.context"].BasicCorrelationContext = BasicCorrelationContext


def print_user_traceback(ex):
    """The traceback without this module's own frames on top."""
    tb = ex.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == print_user_traceback.__code__.co_filename:
        tb = tb.tb_next
    traceback.print_exception(type(ex), ex, tb)


def describe(ex):
    text = str(ex)
    return type(ex).__name__ + (": " + text if text else "")


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


FAILED = object()


def call_run(ch, rid, call):
    """run() through call(); its value, or FAILED once the failure is answered."""
    try:
        return call()
    except MemoryError:
        # Like a container killed for memory: say so, and let a fresh worker take over.
        ch.send_text(T_OUT_OF_MEMORY, rid, "run() ran out of memory (%s)" % memory_limit())
        os._exit(3)
    except Exception as ex:
        print_user_traceback(ex)
        ch.send_text(T_RUN_FAILED, rid, "run() raised " + describe(ex))
        return FAILED


def send_ok(ch, rid, text):
    limit = MAX_FRAME - 1 - NONCE_LEN - 8
    if len(text) > limit:
        ch.send_text(T_RUN_FAILED, rid, "run() result too large: %d bytes (max %d)" % (len(text), limit))
        return
    ch.send(T_OK, rid, text)


def serve_one(ch, run, with_headers, rid, headers, body):
    try:
        raw = str(body, "utf-8")
    except UnicodeDecodeError as ex:
        ch.send_text(T_BAD_INPUT, rid, "Input cannot be decoded as UTF-8: %s" % ex)
        return
    Current.rid, Current.xrid = rid, headers.get("X-Request-Id", "")
    try:
        result = call_run(ch, rid, lambda: run(raw, request_headers=headers) if with_headers
                          else run(raw))
    finally:
        Current.rid, Current.xrid = 0, ""
    if result is FAILED:
        return
    try:
        text = encode(result)
    except Exception as ex:
        ch.send_text(T_NOT_JSON, rid,
                     "run() returned a value that is not JSON-encodable: " + describe(ex))
        return
    send_ok(ch, rid, text)


def batch_lines(result):
    """(items, text) of what run(mini_batch) returned, as Azure's AppendRow writes it:
    a DataFrame's rows space-separated without header or index, else one str() per
    element of the list. None when it is neither."""
    if hasattr(result, "to_csv") and hasattr(result, "shape"):
        return len(result), result.to_csv(sep=" ", header=False, index=False)
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__iter__"):
        return None
    lines = [str(x).replace("\n", " ") + "\n" for x in result]
    return len(lines), "".join(lines)


def serve_batch(ch, run, rid, body):
    """A batch job's mini-batch: run(list of file paths), Azure's batch contract."""
    try:
        mini_batch = json.loads(body.decode("utf-8"))
    except ValueError as ex:
        ch.send_text(T_BAD_INPUT, rid, "mini-batch is not a JSON list: %s" % ex)
        return
    result = call_run(ch, rid, lambda: run(mini_batch))
    if result is FAILED:
        return
    try:
        out = batch_lines(result)
    except Exception as ex:
        print_user_traceback(ex)
        ch.send_text(T_NOT_JSON, rid, "run() returned rows that cannot be written: " + describe(ex))
        return
    if out is None:
        ch.send_text(T_NOT_JSON, rid, "run(mini_batch) must return a list or a pandas DataFrame, "
                     "not %s" % type(result).__name__)
        return
    # the count on a line of its own, then the lines as they go to the output file: no JSON
    # escaping of megabytes of text on either side
    send_ok(ch, rid, b"%d\n" % out[0] + out[1].encode("utf-8"))


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: mldeck_worker CODE_DIR SCRIPT [MODULE...]\n")
        return 2
    code_dir, script, modules = argv[1], argv[2], argv[3:]
    ch = Channel()
    install_collector(ch)
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    module = load(code_dir, script, modules)
    if isinstance(module, str):
        ch.send_text(T_INIT_FAILED, 0, module)
        return 1
    try:
        module.init()
    except MemoryError:
        ch.send_text(T_INIT_FAILED, 0, "init() ran out of memory (%s)" % memory_limit())
        return 1
    except BaseException as ex:
        print_user_traceback(ex)
        ch.send_text(T_INIT_FAILED, 0, "init() raised " + describe(ex))
        return 1
    run = module.run
    with_headers = wants_headers(run)
    ch.send(T_READY, 0, json.dumps({"pid": os.getpid(), "headers": with_headers}).encode())
    while True:
        req = ch.recv()
        if req is None:
            return 0
        kind, rid, headers, body = req
        if kind == T_BATCH:
            serve_batch(ch, run, rid, body)
        else:
            serve_one(ch, run, with_headers, rid, headers, body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
