#!/usr/bin/env python3
"""Add Kubernetes' list and patch markers to `data/builtin-schemas.json`.

k8s-openapi's schemars output (see `src/openapi/regenerate.rs`) leaves out the vendor extensions
kube-apiserver's OpenAPI carries for lists: `x-kubernetes-patch-strategy`,
`x-kubernetes-patch-merge-key` (from the Go struct tags `patchStrategy`/`patchMergeKey`) and
`x-kubernetes-list-type`, `x-kubernetes-list-map-keys` (from the `+listType`/`+listMapKey`
comment markers). kubectl's client-side apply needs them to compare lists such as `containers` by
name (otherwise re-applying an unchanged Deployment says "configured"). This script reads the Go
API types and writes the markers into the committed schemas, in place.

Usage (from the repository root, after regenerate_builtin_schemas):
    python3 crates/apiresources/codegen/patch_markers.py \
        --go-api <checkout of k8s.io/api> --go-apimachinery <checkout of k8s.io/apimachinery> \
        --go-apiextensions <checkout of k8s.io/apiextensions-apiserver> (optional)
"""
import argparse
import json
import os
import re

FIELD_RE = re.compile(r"^\t(\w+)\s+([\w\.\*\[\]]+)\s+`([^`]*)`", re.M)
STRUCT_RE = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.S | re.M)


def markers_of(body):
    """(json name -> {extension -> value}) for the fields of one Go struct body."""
    out = {}
    comments = []
    for line in body.split("\n"):
        stripped = line.strip()
        if stripped.startswith("//"):
            comments.append(stripped[2:].strip())
            continue
        m = FIELD_RE.match(line)
        if not m:
            comments = []
            continue
        tags = m.group(3)
        j = re.search(r'json:"([^",]*)', tags)
        if not j or not j.group(1) or j.group(1) == "-":
            comments = []
            continue
        ext = {}
        ps = re.search(r'patchStrategy:"([^"]*)"', tags)
        pk = re.search(r'patchMergeKey:"([^"]*)"', tags)
        if ps:
            ext["x-kubernetes-patch-strategy"] = ps.group(1)
        if pk:
            ext["x-kubernetes-patch-merge-key"] = pk.group(1)
        keys = []
        for c in comments:
            lt = re.match(r"\+listType=(\w+)", c)
            lk = re.match(r"\+listMapKey=(\w+)", c)
            if lt:
                ext["x-kubernetes-list-type"] = lt.group(1)
            if lk:
                keys.append(lk.group(1))
        if keys:
            ext["x-kubernetes-list-map-keys"] = keys
        if ext:
            out[j.group(1)] = ext
        comments = []
    return out


def walk(root, prefix):
    """schema name -> field markers, for every Go package under root (types*.go files)."""
    out = {}
    for d, _, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.startswith(".") or "/internal" in rel or "testdata" in rel:
            continue
        pkg = prefix + "." + rel.replace(os.sep, ".")
        for fn in files:
            if not fn.startswith("types") or not fn.endswith(".go"):
                continue
            text = open(os.path.join(d, fn)).read()
            for m in STRUCT_RE.finditer(text):
                fields = markers_of(m.group(2))
                if fields:
                    out.setdefault(f"{pkg}.{m.group(1)}", {}).update(fields)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go-api", required=True)
    ap.add_argument("--go-apimachinery", required=True)
    ap.add_argument("--schemas", default="crates/apiresources/data/builtin-schemas.json")
    a = ap.parse_args()
    markers = walk(a.go_api, "io.k8s.api")
    markers.update(walk(os.path.join(a.go_apimachinery, "pkg"), "io.k8s.apimachinery.pkg"))
    text = open(a.schemas).read()
    schemas = json.loads(text)
    added = 0
    for name, schema in schemas.items():
        for field, ext in markers.get(name, {}).items():
            prop = schema.get("properties", {}).get(field)
            if prop is None:
                continue
            for k, v in ext.items():
                if prop.get(k) != v:
                    prop[k] = v
                    added += 1
    # one schema per line, as regenerate.rs writes it
    names = sorted(schemas)
    with open(a.schemas, "w") as f:
        f.write("{\n")
        for i, n in enumerate(names):
            f.write(json.dumps(n) + ":" + json.dumps(schemas[n], separators=(",", ":"), ensure_ascii=False))
            f.write(",\n" if i + 1 < len(names) else "\n")
        f.write("}\n")
    print(f"{added} markers written", file=__import__("sys").stderr)


if __name__ == "__main__":
    main()
