"""Drive the real Helm engine (helm-python-sdk, Helm v4) against a cluster: install, upgrade,
list, status and uninstall one chart, printing one JSON line per step for the Rust test to check.

Usage: install_cycle.py KUBECONFIG CHART_DIR RELEASE NAMESPACE [VALUES_JSON]
"""
import json
import subprocess
import sys

from helm_python import Chart, Config

kubeconfig, chart_dir, release, namespace = sys.argv[1:5]
values = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None


def step(name, **fields):
    print(json.dumps({"step": name, **fields}), flush=True)


with Config(kubeconfig_path=kubeconfig, namespace=namespace, qps=200, burst_limit=400) as cfg:
    cfg.check_reachable()
    with Chart.load(chart_dir) as chart:
        r = cfg.install(chart, release, values, namespace=namespace, create_namespace=True, timeout=300)
        created = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "get", "deploy,sts,ds,svc", "-n", namespace, "-o", "name"],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        step("install", revision=r["revision"], status=r["status"], created=created)
        r = cfg.upgrade(chart, release, {**(values or {}), "commonLabels": {"upgraded": "yes"}}, namespace=namespace, timeout=300)
        step("upgrade", revision=r["revision"], status=r["status"])
    releases = cfg.list()
    step("list", releases=[[x["name"], x["namespace"], x["revision"], x["status"]] for x in releases])
    history = cfg.history(release)
    step("history", revisions=[x["revision"] for x in history])
    cfg.uninstall(release, timeout=300)
    step("uninstall", remaining=[x["name"] for x in cfg.list()])
