/*
 * python.h: the custom_model engine, the user's Azure-style score.py run in
 * Python worker processes (protocol: docs/worker-protocol.md).
 *
 * load: spawns cfg->workers processes of `cfg->python -u` running
 *   runtime/worker/mldeck_worker.py (embedded in the binary at build time; the
 *   environment variable MLDECK_WORKER, when set, names a .py file to run
 *   instead), each with AZUREML_MODEL_DIR set (the model artifact's directory,
 *   or its parent directory when it is a file), cfg->env added, cwd = code_dir.
 *   Each worker imports cfg->modules, imports the script and calls init().
 *   Blocks until every worker is ready; on any failure it stops them all and
 *   fails with err: status 500, code "DeploymentFailed", message naming the
 *   reason ("init() raised ValueError: ...", "module X is not importable in
 *   environment: ...", "worker exited with status N during init").
 * submit: thread-safe, never blocks: the request joins the engine's queue
 *   and goes to the first idle worker; done is called once with the answer,
 *   from the engine's I/O thread (or at once, for refusals): 200 with run()'s
 *   JSON-encoded value; 400 body not UTF-8; 408 no worker free within
 *   timeout_ms, or no answer within timeout_ms of reaching a worker (the
 *   worker is killed and replaced); 424 run() raised, returned something not
 *   JSON-encodable, or the worker died (it is replaced); 500 engine fault (a
 *   worker broke the protocol, or none can be started); 503 the engine is
 *   stopping or was cancelled. Error bodies are {"error":{"code":C,"message":M}}.
 * score: the same, waiting for the answer (for tests and tools).
 * cancel: answers everything queued or running 503 (killing busy workers)
 *   and refuses every later request.
 * resize: changes the worker count live (1..PYTHON_MAX_WORKERS). Growing blocks
 *   until the new workers ran init() (-1, code "ScalingFailed", when one fails:
 *   the engine keeps retrying in the background with backoff); shrinking
 *   returns at once and surplus workers stop as soon as they are idle.
 * free: answers what is left 503, stops and reaps every worker (request pipe
 *   closed, SIGKILL after a short grace), joins its threads. Must not be
 *   called from a done callback.
 *
 * Threads per engine: one I/O thread (replies, deadlines, dispatch), one
 * supervisor (reaping and replacing workers), one log reader per worker:
 * worker stdout/stderr reach cfg->log line by line as "[worker N stdout] ...";
 * engine events as "[engine] ...".
 * The caller should ignore SIGPIPE process-wide (writes handle EPIPE anyway)
 * and must not set SIGCHLD to SIG_IGN: workers are reaped with waitpid.
 * Workers run in their own process group; a killed worker takes its children.
 */
#ifndef RUNTIME_ENGINES_PYTHON_H
#define RUNTIME_ENGINES_PYTHON_H

#include "runtime/engines/engine.h"

#define PYTHON_MAX_WORKERS 256

extern const struct engine_ops python_engine_ops;

#endif
