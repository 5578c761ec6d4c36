"""The real Helm engine's half of the release benchmark: install then upgrade a chart with
helm-python-sdk (Helm v4) and print the two durations (seconds) as one JSON line. The chart is
loaded before the clock starts, as the Rust half loads it before timing.

Usage: kps_helm.py KUBECONFIG CHART_DIR RELEASE NAMESPACE VALUES_JSON UPGRADE_VALUES_JSON
"""
import json
import sys
import time

from helm_python import Chart, Config

kubeconfig, chart_dir, release, namespace, values, upgrade_values = sys.argv[1:7]
with Config(kubeconfig_path=kubeconfig, namespace=namespace, qps=1000, burst_limit=2000) as cfg:
    cfg.check_reachable()
    with Chart.load(chart_dir) as chart:
        t0 = time.perf_counter()
        r = cfg.install(chart, release, json.loads(values), namespace=namespace, create_namespace=True, timeout=600)
        t1 = time.perf_counter()
        assert r["status"] == "deployed", r
        r = cfg.upgrade(chart, release, json.loads(upgrade_values), namespace=namespace, timeout=600)
        t2 = time.perf_counter()
        assert r["status"] == "deployed" and r["revision"] == 2, r
print(json.dumps({"install": t1 - t0, "upgrade": t2 - t1}), flush=True)
