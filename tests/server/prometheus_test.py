"""A real Prometheus (Debian package prometheus) scrapes a real `plinth serve` on loopback: the text
passes `promtool check metrics` with no complaint, Prometheus reports the target up, and the request
counts and the time-to-first-token histogram read back through Prometheus's HTTP API equal what the
test sent.

Usage: prometheus_test.py PLINTH_BINARY  (exit 77: skipped without Prometheus or the default decoder,
unless PLINTH_REQUIRE_MODELS=1)"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_fixture import DECODER, Server  # noqa: E402

CHATS = 3


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(1 if os.environ.get("PLINTH_REQUIRE_MODELS") == "1" else 77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, promql):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def main():
    plinth = sys.argv[1]
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        skip("prometheus and promtool are not installed (Debian package prometheus)")
    listed = json.loads(subprocess.run([plinth, "models", "--json"], capture_output=True, text=True, check=True).stdout)
    if not any(m["name"] == DECODER and m["status"] == "verified" for m in listed["models"]):
        skip("the default decoder is not installed (tools/bootstrap.sh models)")

    with Server(plinth, ["--no-embeddings"]) as server, tempfile.TemporaryDirectory() as tmp:
        server.wait_ready()
        for i in range(CHATS):
            status, _, body = server.post("/v1/chat/completions", {
                "model": DECODER, "messages": [{"role": "user", "content": f"Say {i}."}], "max_tokens": 4})
            assert status == 200, body

        _, text = server.get("/metrics")
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        if lint.returncode != 0 or lint.stdout.strip() or lint.stderr.strip():
            print(f"FAIL: promtool check metrics exited {lint.returncode}:\n{lint.stdout}{lint.stderr}")
            sys.exit(1)

        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: plinth\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{server.port}']\n")
        prom_port = free_port()
        prom = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            want = f'sum(plinth_requests_total{{job="plinth",endpoint="chat_completions",status="200"}})'
            give_up = time.monotonic() + 90
            got = None
            while time.monotonic() < give_up:
                if prom.poll() is not None:
                    print("FAIL: prometheus exited:\n" + prom.stderr.read())
                    sys.exit(1)
                try:
                    up = query(prom_port, 'up{job="plinth"}')
                    result = query(prom_port, want)
                    if up and up[0]["value"][1] == "1" and result:
                        got = float(result[0]["value"][1])
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            if got != CHATS:
                print(f"FAIL: Prometheus read {got} chat completions back, the test sent {CHATS}")
                sys.exit(1)
            ttft = query(prom_port, 'sum(plinth_time_to_first_token_seconds_count{job="plinth"})')
            if not ttft or float(ttft[0]["value"][1]) != CHATS:
                print(f"FAIL: time-to-first-token count through Prometheus: {ttft}")
                sys.exit(1)
            ready = query(prom_port, 'plinth_server_ready{job="plinth"}')
            if not ready or ready[0]["value"][1] != "1":
                print(f"FAIL: plinth_server_ready through Prometheus: {ready}")
                sys.exit(1)
        finally:
            prom.terminate()
            prom.wait(30)
            prom.stderr.close()
        code = server.stop()
        if code != 0:
            print(f"FAIL: plinth serve exited {code}")
            sys.exit(1)
    print(f"PASS: Prometheus scraped {CHATS} chat completions, their time-to-first-token count and readiness")


if __name__ == "__main__":
    main()
