"""The conference node (with its practitioner bot) running in the fault lab's far namespace,
and a kiosk configuration that reaches it over the lab's link with TLS verification on."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.config import KioskConfig
from tests.support.far_node import make_certificate
from tests.support.netns import NetLab

ROOM_ALIAS = "314159"
HOST_PIN = "27182"
PORT = 8443
ROOT = Path(__file__).resolve().parents[2]


class FarEnd:
    """Start, command, kill and restart the far node process."""

    def __init__(
        self,
        lab: NetLab,
        *,
        admit_after_s: float = 0.3,
        waiting_timeout_s: float = 900.0,
        token_lifetime_s: float = 120.0,
        rooms: tuple[str, ...] = (f"{ROOM_ALIAS}:{HOST_PIN}",),
    ) -> None:
        self._lab = lab
        self._rooms = rooms
        self._token_lifetime = token_lifetime_s
        self._admit_after = admit_after_s
        self._waiting_timeout = waiting_timeout_s
        self._dir = Path(tempfile.mkdtemp(prefix="kiosk-far-"))
        self.ca, self.cert, self.key = make_certificate(lab.far_ip, self._dir)
        self._process: subprocess.Popen[bytes] | None = None
        self.base_url = f"https://{lab.far_ip}:{PORT}"

    def config(self, **changes: object) -> KioskConfig:
        values: dict[str, object] = {
            "node_url": self.base_url,
            "allowed_hosts": (self._lab.far_ip,),
            "ca_file": str(self.ca),
            "camera": "synthetic",
            "clinic_phone": "22 22 22 22",
            **changes,
        }
        return KioskConfig(**values)  # type: ignore[arg-type]

    def share_certificate(self, other: FarEnd) -> None:
        """Serve with `other`'s certificate, so a kiosk set up for one trusts both."""
        self.ca, self.cert, self.key = other.ca, other.cert, other.key

    def start(self, timeout_s: float = 20.0) -> None:
        env = {
            "SSL_CERT_FILE": str(self.ca),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        self._process = self._lab.spawn(
            [
                sys.executable,
                "-m",
                "tests.support.far_node",
                "--host",
                self._lab.far_ip,
                "--port",
                str(PORT),
                "--cert",
                str(self.cert),
                "--key",
                str(self.key),
                *(arg for room in self._rooms for arg in ("--room", room)),
                "--admit-after",
                str(self._admit_after),
                "--waiting-timeout",
                str(self._waiting_timeout),
                "--token-lifetime",
                str(self._token_lifetime),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(ROOT),
        )
        self._expect("READY", timeout_s)

    def command(self, line: str, timeout_s: float = 5.0) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"{line}\n".encode())
        self._process.stdin.flush()
        self._expect(f"DONE {line}", timeout_s)

    def kill(self) -> None:
        """The node dies at once (no goodbyes), as on a crash or a power cut."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            try:
                self.command("quit", timeout_s=5.0)
                self._process.wait(5)
            except (AssertionError, OSError, subprocess.TimeoutExpired, TimeoutError):
                self._process.kill()
        self._process = None

    def _expect(self, prefix: str, timeout_s: float) -> None:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + timeout_s
        fd = self._process.stdout.fileno()
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if self._process.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if any(line.startswith(prefix.encode()) for line in seen.splitlines()):
                return
        raise TimeoutError(f"expected {prefix!r} from the far node within {timeout_s} s")
