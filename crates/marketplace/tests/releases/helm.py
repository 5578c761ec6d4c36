"""Run one action of the real Helm engine (helm-python-sdk, Helm v4) against a cluster and print
its result as one JSON line: {"ok": RESULT} or {"error": "<Helm's message>", "type": "<exception>"}.

Usage: helm.py KUBECONFIG NAMESPACE ACTION [ARGS_JSON]
  install  {"chart": DIR, "name": N, "values": {...}, "timeout": S, "atomic": bool}
  upgrade  {"chart": DIR, "name": N, "values": {...}, "timeout": S}
  rollback {"name": N, "version": V}
  uninstall {"name": N}
  list     {}            (all states)
  status   {"name": N}
  history  {"name": N}
  values   {"name": N}
"""
import json
import sys

from helm_python import Chart, Config

kubeconfig, namespace, action = sys.argv[1:4]
args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}


def run(cfg):
    if action in ("install", "upgrade"):
        with Chart.load(args["chart"]) as chart:
            kw = dict(namespace=namespace, timeout=args.get("timeout", 120))
            if args.get("atomic"):
                kw["rollback_on_failure"] = True
            if action == "install":
                return cfg.install(chart, args["name"], args.get("values"), create_namespace=True, **kw)
            return cfg.upgrade(chart, args["name"], args.get("values"), **kw)
    if action == "rollback":
        cfg.rollback(args["name"], version=args.get("version"), timeout=120)
        return None
    if action == "uninstall":
        return cfg.uninstall(args["name"], timeout=120)
    if action == "list":
        return cfg.list(all_states=True)
    if action == "status":
        return cfg.status(args["name"])
    if action == "history":
        return cfg.history(args["name"])
    if action == "values":
        return cfg.get_values(args["name"])
    raise SystemExit(f"unknown action {action}")


with Config(kubeconfig_path=kubeconfig, namespace=namespace, qps=200, burst_limit=400) as cfg:
    try:
        print(json.dumps({"ok": run(cfg)}), flush=True)
    except Exception as e:  # the test compares Helm's message
        print(json.dumps({"error": str(e), "type": type(e).__name__}), flush=True)
