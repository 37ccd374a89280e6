"""deploy/ checked against what `plinth serve` really takes and exports (there is no cluster here):
  - every flag in the Deployment's command and the Dockerfile's ENTRYPOINT is an option of
    `plinth serve --help`;
  - the container port is the one --port names, the probes ask /ready and /health on it, the Service
    and the InferencePool target it, the Prometheus annotations name it and /metrics;
  - the metric names the InferencePool's endpoint picker reads by default are in the server's
    /metrics text when the Deployment's --vllm-metric-names is given;
  - the tenants Secret is a valid access file (`plinth keys check`);
  - the Dockerfile's runtime packages cover every shared library bin/plinth and the CPU and Vulkan
    plugins link (dpkg -S of each), so the slim image starts.
YAML comes from Debian's python3-yaml: run with /usr/bin/python3.

Usage: deploy_test.py SOURCE_DIR PLINTH_BINARY METRICS_DUMP_BINARY PLUGIN...
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

PICKER_DEFAULTS = ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"]
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)


def serve_options(plinth):
    text = subprocess.run([plinth, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", text))


def flags_of(args):
    return [a.split("=", 1)[0] for a in args if a.startswith("--")]


def arg_value(args, name):
    for i, a in enumerate(args):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None


def main():
    source, plinth, dump, plugins = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    kube = os.path.join(source, "deploy", "kubernetes")
    docs = {}
    for name in sorted(os.listdir(kube)):
        with open(os.path.join(kube, name)) as f:
            for doc in yaml.safe_load_all(f):
                docs[doc["kind"]] = doc
    options = serve_options(plinth)

    dep = docs["Deployment"]
    pod = dep["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    command, args = container["command"], container["args"]
    check(command[-1] == "serve", f"the container runs {command}, not plinth serve")
    for flag in flags_of(args):
        check(flag in options, f"deployment.yaml passes {flag}, which plinth serve does not take")
    port = int(arg_value(args, "--port") or 8000)
    (cport,) = container["ports"]
    check(cport["containerPort"] == port, f"containerPort {cport['containerPort']} but --port {port}")

    def probe_port(p):
        v = p["httpGet"]["port"]
        return port if v == cport["name"] else v

    check(container["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness must be /ready")
    check(container["livenessProbe"]["httpGet"]["path"] == "/health", "liveness must be /health")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if probe in container:
            check(probe_port(container[probe]) == port, f"{probe} is not on the API port")
    ann = pod["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(port), "the Prometheus annotation names another port")
    check(ann.get("prometheus.io/path") == "/metrics", "the Prometheus annotation names another path")
    drain = float(arg_value(args, "--drain-timeout") or 30)
    check(pod["spec"]["terminationGracePeriodSeconds"] > drain,
          "terminationGracePeriodSeconds must exceed --drain-timeout, or Kubernetes kills a draining server")
    labels = pod["metadata"]["labels"]

    svc = docs["Service"]
    check(svc["spec"]["selector"].items() <= labels.items(), "the Service does not select the pods")
    (sport,) = svc["spec"]["ports"]
    check(sport["targetPort"] in (cport["name"], port), "the Service targets another port")

    pool = docs["InferencePool"]
    check(pool["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the InferencePool does not select the pods")
    check([p["number"] for p in pool["spec"]["targetPorts"]] == [port], "the InferencePool targets another port")
    text = subprocess.run([dump, "--vllm-aliases" if "--vllm-metric-names" in args else "--no-vllm-aliases"],
                          capture_output=True, text=True, check=True).stdout
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    for name in PICKER_DEFAULTS:
        check(name in exported, f"the endpoint picker reads {name}, which the Deployment's server does not export")

    secret = docs["Secret"]
    config = secret["stringData"]["tenants.toml"]
    check(arg_value(args, "--config").endswith("/" + "tenants.toml"), "--config does not name the Secret's file")
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(config)
        f.flush()
        r = subprocess.run([plinth, "keys", "check", "--config", f.name], capture_output=True, text=True)
        check(r.returncode == 0, f"the tenants Secret is not a valid access file: {r.stderr.strip()}")

    dockerfile = open(os.path.join(source, "deploy", "Dockerfile")).read()
    entry = re.search(r'^ENTRYPOINT \[(.*)\]', dockerfile, re.M).group(1)
    entry_args = [a.strip().strip('"') for a in entry.split(",")]
    check(entry_args[:2] == ["plinth", "serve"], "the image's entrypoint is not plinth serve")
    for flag in flags_of(entry_args):
        check(flag in options, f"the Dockerfile's ENTRYPOINT passes {flag}, which plinth serve does not take")
    check(re.search(rf"^EXPOSE {arg_value(entry_args, '--port')}$", dockerfile, re.M) is not None,
          "EXPOSE differs from the ENTRYPOINT's --port")
    runtime = set(re.search(r'ARG RUNTIME_PACKAGES="(.*?)"', dockerfile, re.S).group(1).replace("\\", " ").split())
    needed = {}
    for binary in [plinth, *plugins]:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
        for lib in re.findall(r"=> (/\S+)", out):
            real = os.path.realpath(lib)
            if not real.startswith(("/usr/", "/lib")):
                continue  # Plinth's own libraries, installed with it
            owner = None
            for path in (lib, real, "/usr" + lib if not lib.startswith("/usr") else lib):
                r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
                if r.returncode == 0:
                    owner = r.stdout.split(":")[0]
                    break
            check(owner is not None, f"{binary} links {lib}, which no Debian package owns")
            if owner:
                needed.setdefault(owner, os.path.basename(binary))
    essential = {"libc6", "libgcc-s1", "zlib1g", "libstdc++6"}  # in debian:12-slim already
    for pkg, who in sorted(needed.items()):
        check(pkg in runtime or pkg in essential, f"{who} needs {pkg}, missing from the Dockerfile's RUNTIME_PACKAGES")

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"PASS: {len(flags_of(args))} flags, port {port}, {len(needed)} runtime packages, "
          f"{len(PICKER_DEFAULTS)} picker metrics checked")


if __name__ == "__main__":
    main()
