"""Starts a real `plinth serve` on a free loopback port for the server's Python tests, and stops it
with SIGTERM. Standard library only, so every test script can import it."""

import hashlib
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

DECODER = "SmolLM2-135M-Instruct"
ENCODER = "all-MiniLM-L6-v2"


def key_hash(key):
    """The config file's form of an API key: never the key itself."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class Server:
    """`plinth serve` with `args`; its stderr is kept in `log` (a list of lines)."""

    def __init__(self, plinth, args=(), config=None, env=None, ready_timeout=120):
        self.config_file = None
        # A small KV cache: the default takes half the free memory, and tests run side by side.
        cmd = [plinth, "serve", "--host", "127.0.0.1", "--port", "0", "--kv-blocks", "2048", *args]
        # The expected-wait admission bound (1 s by default) follows the measured step time: on a
        # machine loaded by other tests it refuses the tests' own requests with 429. Tests that are
        # not about that bound run without it; the load test sets it explicitly.
        if "--max-queue-wait" not in args:
            cmd += ["--max-queue-wait", "0"]
        if config is not None:
            self.config_file = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            self.config_file.write(config)
            self.config_file.close()
            cmd += ["--config", self.config_file.name]
        full_env = dict(os.environ)
        full_env.setdefault("OMP_NUM_THREADS", "1")
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=full_env, text=True)
        self.log = []
        self._port_found = threading.Event()
        self.port = None
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._port_found.wait(ready_timeout):
            self.kill()
            raise RuntimeError("plinth serve did not start listening:\n" + "\n".join(self.log))
        self.base = f"http://127.0.0.1:{self.port}"

    def _read_log(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            self.log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._port_found.set()

    def get(self, path, headers=None):
        """(status, body text) of a GET."""
        req = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path, body, headers=None):
        """(status, headers, body text) of a POST of `body` (JSON-encoded unless bytes)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def wait_ready(self, timeout=120):
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.proc.poll() is not None:
                raise RuntimeError("plinth serve exited:\n" + "\n".join(self.log))
            status, _ = self.get("/ready")
            if status == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("plinth serve never became ready:\n" + "\n".join(self.log))

    def stop(self, timeout=60):
        """SIGTERM, then the exit code (the server drains first)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._reader.join(5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def metric(self, name, **labels):
        """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            m = re.match(r"([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                total += float(m.group(4))
        return total

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self._reader.join(5)
        self.proc.stderr.close()
        if self.config_file:
            os.unlink(self.config_file.name)
