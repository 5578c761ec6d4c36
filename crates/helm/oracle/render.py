#!/usr/bin/env python3
"""Test-only oracle: renders charts with the real Helm v4 engine (PyPI helm-python-sdk).

Used by the helm crate's differential tests, fuzz test and benchmark; never by the product.

Protocol: one JSON request per stdin line, one JSON answer per stdout line (so a test keeps one
process for many renders). A request:
  {"chart": PATH, "values": {...} | null, "name": "release-name", "namespace": "default",
   "kube_version": "v1.31.0" | null, "api_versions": [...], "mode": "render" | "install"}
An answer: {"ok": true, "render": {path: text}, "manifest": str, "notes": str, "seconds": float}
        or {"ok": false, "stage": "render" | "install", "type": ErrorClass, "message": str}
"render" runs the bare engine (helm_render); "install" additionally runs a client-only install dry run,
which is what `helm template` prints (manifest sorted in install order, hooks apart); "template" runs
only that install dry run (what the benchmark times against our `helm::template`).
Optional request field: "is_upgrade" (bool, `.Release.IsUpgrade`; the bare render only).
A strvals request {"mode": "strvals", "kind": "set" | "string" | "json" | "literal" | "file",
"expr": "a=b"} parses one command-line value expression as Helm's strvals does:
{"ok": true, "values": {...}} or {"ok": false, "message": str}.
"""
import json
import sys
import time

try:
    from helm_python import Chart, _native
    from helm_python.config import Config
except Exception as exc:  # pragma: no cover - environment problem
    print(json.dumps({"ok": False, "stage": "import", "type": "ImportError",
                      "message": "helm-python-sdk is not installed (run scripts/setup): %s" % exc}))
    sys.exit(3)

# A kubeconfig pointing at a port nothing listens on: the client-only install never contacts it.
OFFLINE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users: [{name: u, user: {token: x}}]
"""

_config = None


def config():
    global _config
    if _config is None:
        _config = Config(kubeconfig_content=OFFLINE_KUBECONFIG, namespace="default", storage_driver="memory")
    return _config


STRVALS = {
    "set": "helm_strvals_parse",
    "string": "helm_strvals_parse_string",
    "json": "helm_strvals_parse_json",
    "literal": "helm_strvals_parse_literal",
    "file": "helm_strvals_parse_file",
}


def handle_strvals(req):
    try:
        values = json.loads(_native.call_string(STRVALS[req["kind"]], req["expr"]))
    except Exception as exc:
        return {"ok": False, "stage": "strvals", "type": type(exc).__name__, "message": str(exc)}
    return {"ok": True, "values": values}


def handle(req):
    if req.get("mode") == "strvals":
        return handle_strvals(req)
    opts = {"name": req.get("name") or "release-name", "namespace": req.get("namespace") or "default"}
    if req.get("kube_version"):
        opts["kube_version"] = req["kube_version"]
    if req.get("api_versions"):
        opts["api_versions"] = req["api_versions"]
    if req.get("is_upgrade"):
        opts["is_upgrade"] = True
    values = req.get("values")
    vals = None if values is None else json.dumps(values)
    out = {"ok": True}
    start = time.perf_counter()
    stage = "load"
    try:
        with Chart.load(req["chart"]) as c:
            stage = "render"
            if req.get("mode") != "template":
                out["render"] = json.loads(
                    _native.call_string("helm_render", c._raw(), vals, json.dumps(opts)))
            if req.get("mode") in ("install", "template"):
                stage = "install"
                iopts = {"namespace": opts["namespace"], "dry_run": "client"}
                for k in ("kube_version", "api_versions"):
                    if k in opts:
                        iopts[k] = opts[k]
                rel = json.loads(_native.call_string(
                    "helm_install", config()._raw(), _native.HANDLE(0), c._raw(), None, opts["name"], vals,
                    json.dumps(iopts)))
                out["manifest"] = rel.get("manifest") or ""
                # The SDK's release JSON carries no hooks; hooks are checked against Helm's goldens.
                out["notes"] = rel.get("notes")
    except Exception as exc:
        return {"ok": False, "stage": stage, "type": type(exc).__name__, "message": str(exc)}
    out["seconds"] = time.perf_counter() - start
    return out


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            ans = handle(req)
        except Exception as exc:
            ans = {"ok": False, "stage": "protocol", "type": type(exc).__name__, "message": str(exc)}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
