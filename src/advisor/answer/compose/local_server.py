"""A GGUF model served by xllamacpp in a child process, on a loopback OpenAI-compatible endpoint.

`ADVISOR_LLM=local:<name or file.gguf>` starts one of these on first use and talks to it through
LangChain's `ChatOpenAI`, the very client of `openai:`. Why a child process rather than calling
xllamacpp in-process: timeouts stay real (an HTTP read can time out; a blocking C++ call cannot be
interrupted from Python), a crash or out-of-memory in llama.cpp ends the child, not the advisor or
the UI, the model's threads never contend with the UI for the GIL, and `local:` and `openai:` share
one code path. Costs: loading once per advisor process, one loopback HTTP hop per question
(measured in `advisor bench --only llm`).

The child listens on 127.0.0.1 only, requires a random API key, and exits when its parent does
(it reads the key, then waits on stdin, which closes with the parent).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


class LocalServerError(RuntimeError):
    """The local model server could not start or has stopped; the message is one line for users."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """Starts and stops one xllamacpp server child; `start()` returns its OpenAI base URL."""

    def __init__(self, model: Path, n_ctx: int = 4096, threads: int = 2, load_timeout: float = 120.0) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.threads = threads
        self.load_timeout = load_timeout
        self.api_key = secrets.token_urlsafe(24)
        self.url: str | None = None
        self._proc: subprocess.Popen | None = None
        self._log = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> str:
        """Start the child unless it runs; wait until the model is loaded and listening."""
        with self._lock:
            if self.running and self.url:
                return self.url
            self._stop_locked()
            if not self.model.is_file():
                raise LocalServerError(f"model file not found: {self.model}")
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child; closed in stop)
            cmd = [sys.executable, "-m", "advisor.answer.compose.local_server", str(self.model)]
            cmd += ["--port", str(_free_port()), "--ctx", str(self.n_ctx), "--threads", str(self.threads)]
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
            )
            try:
                self._proc.stdin.write(self.api_key + "\n")  # the key goes by pipe, never on the command line
                self._proc.stdin.flush()
            except OSError:  # the child died at once (BrokenPipe): say why, as for any failed start
                self._proc.wait(timeout=10)
                tail = self._stderr_tail()
                self._stop_locked()
                raise LocalServerError(f"the local model server exited at start: {tail}") from None
            deadline = time.monotonic() + self.load_timeout
            while time.monotonic() < deadline:
                ready, _, _ = select.select([self._proc.stdout], [], [], 0.2)
                if ready:
                    line = self._proc.stdout.readline()
                    if line.startswith("{"):
                        self.url = json.loads(line)["url"].rstrip("/") + "/v1"
                        return self.url
                if self._proc.poll() is not None:
                    tail = self._stderr_tail()
                    self._stop_locked()
                    raise LocalServerError(f"the local model server exited while loading {self.model.name}: {tail}")
            self._stop_locked()
            raise LocalServerError(f"the local model did not load within {self.load_timeout:.0f} s")

    def _stderr_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = [ln.strip() for ln in self._log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1][:200] if lines else "no output"

    def stop(self) -> None:
        """Stop the child (if any) and wait for it."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc, self.url = self._proc, None, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream:
                    stream.close()
        if self._log is not None:
            self._log.close()
            self._log = None


def serve(model: str, port: int, n_ctx: int, threads: int, api_key: str | None) -> object:
    """An xllamacpp server on 127.0.0.1:`port` (returns once the model is loaded)."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = port
    if api_key:
        params.api_keys = [api_key]
    return xllamacpp.Server(params)


def main(argv: list[str] | None = None) -> int:
    """Child entry point: load, print {"url": ...}, serve until stdin closes."""
    p = argparse.ArgumentParser(prog="advisor-local-llm")
    p.add_argument("model")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ctx", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    api_key = sys.stdin.readline().strip()
    server = serve(args.model, args.port, args.ctx, args.threads, api_key or None)
    print(json.dumps({"url": server.listening_address}), flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or exits
    os._exit(0)  # at once: a normal exit would wait for an in-flight generation nobody reads any more


if __name__ == "__main__":
    sys.exit(main())
