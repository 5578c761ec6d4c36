"""Install a chart with the real Helm engine (helm-python-sdk, Helm v4) and wait for its workloads.

Usage: helm_wait.py KUBECONFIG CHART_DIR RELEASE NAMESPACE WAIT TIMEOUT
Prints one JSON line: {"status": ..., "revision": ..., "seconds": ...} or {"error": ...}.
"""
import json
import sys
import time

from helm_python import Chart, Config

kubeconfig, chart_dir, release, namespace, wait, timeout = sys.argv[1:7]

with Config(kubeconfig_path=kubeconfig, namespace=namespace) as cfg:
    cfg.check_reachable()
    with Chart.load(chart_dir) as chart:
        start = time.monotonic()
        try:
            r = cfg.install(chart, release, None, namespace=namespace, create_namespace=True,
                            timeout=int(timeout), wait=wait)
            print(json.dumps({"status": r["status"], "revision": r["revision"],
                              "seconds": time.monotonic() - start}), flush=True)
        except Exception as e:  # the Rust test reports it
            print(json.dumps({"error": str(e), "seconds": time.monotonic() - start}), flush=True)
