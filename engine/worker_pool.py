"""Pre-started ("warm") workers, so that pressing Train does not wait for a framework import.

A warm worker is the ordinary worker process started with ``--warm CORES THREADS``: it pins
itself exactly as a fresh one would, imports its framework (and what a first step pulls in
lazily, such as torch._dynamo) and then waits for its job on stdin. A session takes one only if
it was started for the same framework, cores, threads and environment, so its run is measured
exactly like a cold one; otherwise the session starts a fresh worker. An idle warm worker
exits by itself when its parent goes away (its stdin closes).

When its imports are done a warm worker writes one ``warm`` event; a short thread per worker
reads that line, so the pool can tell importing from ready, and the session's reader joins that
thread before reading the rest (one reader at a time on the pipe).

Costs: memory while idle (an imported framework, a few hundred MB each) and CPU while
importing, so the app refills the pool only when no run is going.

A pool that *serves* (``WorkerPool(serves=True)``) also takes workers back: a session whose job
finished hands its worker back instead of ending it, and the worker waits for the next job
(engine.worker). The test suite turns that on for the sessions it starts
(``$TWINTRAIN_SERVE_WORKERS``, ``shared_pool``), so that hundreds of short runs import each
framework once per test process; the app and the CLI never do, so every figure they show comes
from a fresh process.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import subprocess
import threading
import weakref

from engine.child_process import child_cwd, is_frozen, relaunch_command
from engine.events import Warm, parse_line

NICE_ENV = "TWINTRAIN_WORKER_NICE"  # lowers a worker's priority (the app sets it; the CLI does not)
SERVE_ENV = "TWINTRAIN_SERVE_WORKERS"  # "1": sessions without a pool share one that serves (tests)
MAX_IDLE = 8  # idle workers a serving pool keeps (a few hundred MB each); the oldest go first
Plan = dict[str, tuple[list[int] | None, int]]  # framework -> (cores, threads)


def worker_command(framework: str) -> list[str]:
    """How to start a worker: the frozen app re-launches itself, otherwise ``-m engine.worker``."""
    return [*relaunch_command("engine.worker", ["--twintrain-worker"]), framework]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    if "LD_LIBRARY_PATH_ORIG" in env and not is_frozen():
        env["LD_LIBRARY_PATH"] = env["LD_LIBRARY_PATH_ORIG"]
    return env


def spawn_worker(
    framework: str,
    warm: tuple[list[int] | None, int] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """Start a worker process (never forked) in TwinTrain's own folder, never the user's (see
    engine.child_process); ``warm=(cores, threads)`` preloads its framework."""
    cmd = worker_command(framework)
    if warm is not None:
        cores, threads = warm
        cmd += ["--warm", ",".join(map(str, cores)) if cores else "-", str(threads)]
    return subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=worker_env() if env is None else env,
        bufsize=0,
        close_fds=True,
        cwd=child_cwd(),
    )


class LogPump:
    """Reads a worker's stderr to its end into ``sink`` (the session's log of its run), so that a
    worker handed from one session to the next keeps one reader: the sink changes, not the
    thread."""

    def __init__(self, process: subprocess.Popen, name: str, sink: collections.deque) -> None:
        self.process = process
        self.sink = sink
        self.thread = threading.Thread(target=self._pump, daemon=True, name=f"{name}-log")
        self.thread.start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        with contextlib.suppress(OSError, ValueError):
            for raw in self.process.stderr:
                self.sink.append(raw.decode("utf-8", "replace").rstrip("\n"))
        # at EOF: a finished session holds no descriptors while it is kept
        with contextlib.suppress(OSError):
            self.process.stderr.close()


class WarmWorker:
    """A pre-started worker process and the thread that waits for its ``warm`` line; or, in a
    pool that serves, a worker handed back after a job (``reader`` None, ``pump`` its stderr)."""

    def __init__(
        self,
        framework: str,
        cores: list[int] | None,
        threads: int,
        env: dict[str, str],
        served: tuple[subprocess.Popen, LogPump] | None = None,
    ) -> None:
        self.framework = framework
        self.pump: LogPump | None = None
        self.reader: threading.Thread | None = None
        if served is not None:
            self.process, self.pump = served
            self.warm: Warm | None = Warm(framework=framework, pid=self.process.pid, preload_s=0.0)
            return
        self.process = spawn_worker(framework, (cores, threads), env)
        self.warm = None  # the warm event, once the imports are done
        self.reader = threading.Thread(
            target=self._read_warm, daemon=True, name=f"{framework}-warm"
        )
        self.reader.start()

    def _read_warm(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(OSError, ValueError):  # a closed pipe; ProtocolError
            line = self.process.stdout.readline()
            event = parse_line(line) if line else None
            if isinstance(event, Warm):
                self.warm = event

    @property
    def ready(self) -> bool:
        return self.warm is not None and self.process.poll() is None

    def stop(self) -> None:
        """End the process and close its pipes (a worker taken but not handed to a session)."""
        _stop(self.process)


# Variables that change while a worker waits and mean nothing to it: pytest names the test
# running now in PYTEST_CURRENT_TEST, which would otherwise make every test's key a new one.
_NOT_IN_KEY = frozenset({"PYTEST_CURRENT_TEST"})


def _key(framework: str, cores: list[int] | None, threads: int, env: dict[str, str]) -> tuple:
    variables = frozenset((k, v) for k, v in env.items() if k not in _NOT_IN_KEY)
    return framework, tuple(cores) if cores else None, int(threads), variables


_POOLS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()


class WorkerPool:
    """Idle warm workers by (framework, cores, threads, environment); thread-safe. ``serves``:
    sessions hand their workers back after a finished job (see the module's docstring)."""

    def __init__(self, serves: bool = False) -> None:
        self.serves = serves
        self._idle: dict[tuple, WarmWorker] = {}
        self._lock = threading.Lock()
        _POOLS.add(self)

    def prestart(self, plan: Plan) -> int:
        """Have exactly one warm worker per entry of ``plan``; idle workers for other plans are
        stopped (they would hold memory for nothing). Returns how many were started."""
        env = worker_env()
        wanted = {
            _key(fw, cores, threads, env): (fw, cores, threads)
            for fw, (cores, threads) in plan.items()
        }
        started = 0
        with self._lock:
            for key in list(self._idle):
                if key not in wanted or self._idle[key].process.poll() is not None:
                    _stop(self._idle.pop(key).process)
            for key, (fw, cores, threads) in wanted.items():
                if key not in self._idle:
                    self._idle[key] = WarmWorker(fw, cores, threads, env)
                    started += 1
        return started

    def take(self, framework: str, cores: list[int] | None, threads: int) -> WarmWorker | None:
        """A live warm worker (ready or still importing) for exactly this framework, pinning and
        environment, or None; it leaves the pool."""
        with self._lock:
            worker = self._idle.pop(_key(framework, cores, threads, worker_env()), None)
        if worker is not None and worker.process.poll() is not None:
            _stop(worker.process)
            return None
        return worker

    def give_back(
        self,
        framework: str,
        cores: list[int] | None,
        threads: int,
        env: dict[str, str],
        process: subprocess.Popen,
        pump: LogPump,
    ) -> bool:
        """Keep a worker whose job finished for the next session with the same key; False (and
        nothing kept) unless this pool serves and the process runs. The oldest idle worker goes
        when more than MAX_IDLE would be kept, as does one kept before under the same key."""
        if not self.serves or process.poll() is not None:
            return False
        key = _key(framework, cores, threads, env)
        pump.sink = collections.deque(maxlen=50)  # between sessions: nobody's log
        with self._lock:
            old = self._idle.pop(key, None)
            self._idle[key] = WarmWorker(framework, cores, threads, env, (process, pump))
            extra = list(self._idle)[: max(0, len(self._idle) - MAX_IDLE)]
            stale = [self._idle.pop(k) for k in extra] + ([old] if old else [])
        for worker in stale:
            worker.stop()
        return True

    def state(self) -> dict[str, str]:
        """framework -> "ready" or "importing", for the idle workers that are alive."""
        with self._lock:
            workers = list(self._idle.values())
        return {
            w.framework: "ready" if w.ready else "importing"
            for w in workers
            if w.process.poll() is None
        }

    def idle_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._idle.values() if w.process.poll() is None]

    def close(self) -> None:
        with self._lock:
            workers, self._idle = list(self._idle.values()), {}
        for worker in workers:
            worker.stop()
        _POOLS.discard(self)


_SHARED: WorkerPool | None = None


def shared_pool() -> WorkerPool | None:
    """The serving pool of this process when ``$TWINTRAIN_SERVE_WORKERS`` is 1 (the test suite
    sets it), for sessions started without a pool of their own; otherwise None."""
    global _SHARED
    if os.environ.get(SERVE_ENV) != "1":
        return None
    if _SHARED is None:
        _SHARED = WorkerPool(serves=True)
    return _SHARED


def shared_idle_pids() -> list[int]:
    """The serving pool's idle workers: the test suite's, not any session's (a test that counts
    the processes a run leaves behind leaves these out)."""
    return _SHARED.idle_pids() if _SHARED is not None else []


def close_shared_pool() -> None:
    """End the serving pool's idle workers (the suite's end; between tests they wait idle)."""
    global _SHARED
    if _SHARED is not None:
        _SHARED.close()
        _SHARED = None


def _stop(proc: subprocess.Popen) -> None:
    """Closing stdin ends an idle warm worker; kill it too in case it is still importing."""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if stream:
                stream.close()
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
