"""The parent's side of the benchmark's child processes: start one, ask it something and wait
for its answer (with a timeout, and watching for a cancel), end it."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from engine.child_process import child_cwd, relaunch_command


class ChildFailed(Exception):
    """The child crashed, hung, or answered with an error: the reason, one line."""


class Cancelled(Exception):
    """cancelled() said stop while waiting for a child."""


def child_command(kind: str, *args: str) -> list[str]:
    """``python -m engine.deploy.child KIND ...`` (the frozen app: ``--twintrain-deploy``)."""
    return [*relaunch_command("engine.deploy.child", ["--twintrain-deploy"]), kind, *args]


def child_env(threads: int) -> dict[str, str]:
    """The environment every child starts with: thread counts for the libraries that read them
    at import, and quiet TensorFlow."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


_EOF: dict[str, Any] = {"event": "eof"}


class Child:
    """One child process and the answers it writes, one JSON line each."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=child_cwd(),
            env=env,
        )
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.started = time.monotonic()
        threading.Thread(target=self._read, daemon=True, name="deploy-child").start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.answers.put(json.loads(raw))
            except ValueError:
                continue
        self.answers.put(_EOF)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise ChildFailed(self._died()) from exc

    def wait(self, timeout: float, cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:
        """The next answer; ChildFailed when it ends or stays silent ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while True:
            if cancelled is not None and cancelled():
                raise Cancelled()
            left = end - time.monotonic()
            if left <= 0:
                self.kill()
                raise ChildFailed(f"no answer in {timeout:.0f} s (hung); stopped")
            try:
                answer = self.answers.get(timeout=min(0.1, left))
            except queue.Empty:
                continue
            return self._checked(answer)

    def poll(self) -> dict[str, Any] | None:
        """The next answer if one came, else None; ChildFailed as for wait()."""
        try:
            return self._checked(self.answers.get_nowait())
        except queue.Empty:
            return None

    def _checked(self, answer: dict[str, Any]) -> dict[str, Any]:
        if answer is _EOF:
            raise ChildFailed(self._died())
        if answer.get("event") == "error":
            self.kill()
            raise ChildFailed(str(answer.get("reason")))
        return answer

    def ask(
        self, message: dict[str, Any], timeout: float, cancelled: Callable[[], bool] | None = None
    ) -> dict[str, Any]:
        self.send(message)
        return self.wait(timeout, cancelled)

    def _died(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return f"the process ended (exit code {code}){self._last_error()}"

    def _last_error(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self.stderr.seek(0)
            lines = [ln.strip() for ln in self.stderr.read().decode(errors="replace").splitlines()]
            last = next((ln for ln in reversed(lines) if ln), "")
            if last:
                return f": {last[:300]}"
        return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            self.stderr.close()
