"""Finding a running daemon and calling its API: how the CLI works while a daemon owns a library."""

from __future__ import annotations

import fcntl
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from ..errors import NotFound, UserError

if TYPE_CHECKING:  # a command the daemon serves needs neither pydantic nor the declarations' module
    from ..config import Settings
    from ..core.operations import Operation

STATE_FILE = "daemon.json"
LOCK_FILE = "daemon.lock"  # held (flock) while the daemon lives: the OS lets go when it dies
TOKEN_FILE = "api.token"
CONNECT_SECONDS = 10.0  # then no limit: an index run or a recluster may take long


def take_lock(library: Path) -> int | None:
    """Hold the library's daemon lock for the life of this process: its file descriptor, or
    None when another process holds it. A pid in a file can be reused after a reboot; a lock
    cannot outlive its holder."""
    fd = os.open(library / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def lock_held(library: Path) -> bool:
    try:
        fd = os.open(library / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we took just to look
    return False


def read_state(library: Path) -> dict[str, Any] | None:
    """The running daemon's pid and port, or None when no daemon runs on this library."""
    try:
        state = json.loads((library / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not lock_held(library):
        return None  # a daemon.json left by a daemon that died: nobody holds the lock
    return state


def new_token(library: Path) -> str:
    """A fresh random token in a file only the owner can read."""
    import secrets

    token = secrets.token_urlsafe(32)
    path = library / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return token


def read_token(library: Path) -> str:
    try:
        return (library / TOKEN_FILE).read_text().strip()
    except OSError as exc:
        raise UserError(f"cannot read the daemon's token ({library / TOKEN_FILE}): {exc.strerror}",
                        "run the command as the user who runs the daemon") from exc


@dataclass
class Remote:
    """The daemon's API on the loopback interface. The standard library's HTTP client is
    enough here, and it starts in a few milliseconds: a command the daemon serves should."""

    base_url: str
    token: str
    pid: int = 0
    started: bool = False  # ensure_daemon started it now (it was not running)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, body: Any = None, timeout: float | None = None,
                hint: str = "stop it, or wait until it has started") -> tuple[int, bytes]:
        """(status, body) of one request; a daemon that does not answer is one UserError."""
        import http.client  # here: finding that no daemon runs costs a command nothing

        try:
            return self._exchange(method, path, body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            raise UserError(f"the daemon at {self.base_url} does not answer ({exc})", hint) from exc

    def _exchange(self, method: str, path: str, body: Any, timeout: float | None) -> tuple[int, bytes]:
        import http.client

        url = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=CONNECT_SECONDS)
        try:
            conn.connect()
            assert conn.sock is not None
            conn.sock.settimeout(timeout)
            headers = dict(self.headers)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def call(self, op: Operation, kwargs: dict[str, Any]) -> Any:
        """One operation through the API, its result decoded into the operation's declared type."""
        content = self.call_plain(op.name, op.flags.reads_only, kwargs)
        from pydantic import TypeAdapter  # only a typed result needs it

        return TypeAdapter(op.result_type).validate_json(content)

    def call_plain(self, name: str, reads_only: bool, kwargs: dict[str, Any]) -> bytes:
        """The JSON the API answers operation ``name`` ("people.persons") with: a read is a GET."""
        path = "/api/v1/" + name.replace(".", "/", 1)
        if reads_only:
            query = urlencode({k: v for k, v in kwargs.items() if v is not None}, doseq=True)
            status, content = self.request("GET", f"{path}?{query}" if query else path)
        else:
            status, content = self.request("POST", path, kwargs)
        if status != 200:
            try:
                body = json.loads(content)
            except ValueError:
                body = {"error": content.decode(errors="replace")}
            error_type = NotFound if status == 404 else UserError
            raise error_type(str(body.get("error", status)), str(body.get("hint", "")))
        return content

    def login_code(self) -> str:
        status, content = self.request("POST", "/api/v1/login-code", timeout=CONNECT_SECONDS, hint="try again")
        if status != 200:
            raise UserError(f"the daemon refused a login link ({status})", "run the command as the daemon's user")
        return str(json.loads(content)["code"])

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/api/v1/health", timeout=2.0)[0] == 200
        except UserError:
            return False


def find_daemon(settings: Settings) -> Remote | None:
    return find_daemon_at(settings.library)


def find_daemon_at(library: Path) -> Remote | None:
    """The daemon that owns the library folder ``library``, None when none runs."""
    state = read_state(library)
    if state is None:
        return None
    return Remote(f"http://{state['host']}:{state['port']}", read_token(library), int(state.get("pid", 0)))


def stop_daemon(settings: Settings, wait: float = 120.0) -> dict[str, Any] | None:
    """Stop the library's daemon cleanly: SIGTERM, then wait until it has let go of the library
    (its lock). Returns what daemon.json said of it, None when none ran."""
    import signal
    import time

    state = read_state(settings.library)
    if state is None:
        return None
    pid = int(state.get("pid", 0))
    if pid <= 0:
        raise UserError(f"the daemon's state file names no process ({settings.library / STATE_FILE})",
                        "stop it where it runs (Ctrl-C), or with 'systemctl --user stop clusterids'")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # gone meanwhile: the lock tells
    except PermissionError as exc:
        raise UserError(f"the daemon (pid {pid}) belongs to another user", "run 'clusterids stop' as that user") \
            from exc
    deadline = time.monotonic() + wait
    while lock_held(settings.library):
        if time.monotonic() >= deadline:
            raise UserError(f"the daemon (pid {pid}) did not stop within {wait:g} s; it may be finishing a "
                            "long piece of work", f"wait and run the command again, or 'kill -9 {pid}' "
                            "(nothing is lost: the next start catches up)")
        time.sleep(0.1)
    return state


def ensure_daemon(settings: Settings, wait: float = 60.0) -> Remote:
    """The running daemon, or a new one started in the background (its log: daemon.log);
    ``Remote.started`` says which."""
    import dataclasses
    import subprocess
    import sys
    import time

    remote = find_daemon(settings)
    started = remote is None
    if started:
        settings.library.mkdir(parents=True, exist_ok=True)
        log = (settings.library / "daemon.log").open("ab")
        subprocess.Popen([sys.executable, "-m", "clusterids.cli", "--library", str(settings.library), "watch",
                          "--started-by", "ui"],
                         stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        remote = find_daemon(settings)
        if remote is not None and remote.healthy():
            return dataclasses.replace(remote, started=started)
        time.sleep(0.2)
    raise UserError(f"the daemon did not start ({settings.library / 'daemon.log'})", "read its log")
