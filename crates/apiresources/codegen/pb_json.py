#!/usr/bin/env python3
"""Generate `src/protobuf/generated.rs`: `ToJson` impls for the k8s-pb messages of built-in kinds.

The JSON a protobuf body must turn into is what Go's encoding/json would print for the same Go
object. k8s-pb's prost structs say the protobuf field numbers and Rust field names; the Go API types
(`types.go` of k8s.io/api and k8s.io/apimachinery) say, per protobuf field number, the JSON name,
whether it is a pointer and whether it has `omitempty`. This script joins the two by struct name
(case-insensitively: k8s-pb spells `HTTPGetAction` as `HttpGetAction`) and protobuf field number.

Usage (from the repository root):
    python3 crates/apiresources/codegen/pb_json.py \
        --k8s-pb ~/.cargo/registry/src/*/k8s-pb-0.9.0/src \
        --go-api <checkout of k8s.io/api> --go-apimachinery <checkout of k8s.io/apimachinery> \
        > crates/apiresources/src/protobuf/generated.rs && cargo fmt -p apiresources

Only messages reachable from the root kinds below are generated. Special messages (Time,
MicroTime, Quantity, IntOrString, FieldsV1, RawExtension, Duration) have hand-written impls in
`src/protobuf/json.rs`.
"""
import argparse
import os
import re
import sys

# (k8s-pb module, Go package dir relative to its repo, which repo)
PACKAGES = [
    ("api::core::v1", "core/v1", "api"),
    ("api::apps::v1", "apps/v1", "api"),
    ("api::rbac::v1", "rbac/v1", "api"),
    ("api::events::v1", "events/v1", "api"),
    ("api::coordination::v1", "coordination/v1", "api"),
    ("api::admissionregistration::v1", "admissionregistration/v1", "api"),
    ("api::authentication::v1", "authentication/v1", "api"),
    ("api::authorization::v1", "authorization/v1", "api"),
    ("api::autoscaling::v1", "autoscaling/v1", "api"),
    ("api::autoscaling::v2", "autoscaling/v2", "api"),
    ("api::batch::v1", "batch/v1", "api"),
    ("api::certificates::v1", "certificates/v1", "api"),
    ("api::discovery::v1", "discovery/v1", "api"),
    ("api::flowcontrol::v1", "flowcontrol/v1", "api"),
    ("api::networking::v1", "networking/v1", "api"),
    ("api::node::v1", "node/v1", "api"),
    ("api::policy::v1", "policy/v1", "api"),
    ("api::scheduling::v1", "scheduling/v1", "api"),
    ("api::storage::v1", "storage/v1", "api"),
    ("apimachinery::pkg::apis::meta::v1", "pkg/apis/meta/v1", "apimachinery"),
]

# Every built-in kind kube-apiserver accepts as a protobuf body (the catalogue's kinds, less the
# CRD and APIService kinds, which k8s-pb does not carry), plus the subresource kinds.
ROOTS = [
    "api::core::v1::" + k for k in [
        "Binding", "ComponentStatus", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace",
        "Node", "PersistentVolumeClaim", "PersistentVolume", "Pod", "PodTemplate",
        "ReplicationController", "ResourceQuota", "Secret", "ServiceAccount", "Service",
    ]
] + [
    "api::apps::v1::" + k for k in [
        "ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet",
    ]
] + [
    "api::events::v1::Event",
    "api::authentication::v1::SelfSubjectReview", "api::authentication::v1::TokenReview",
    "api::authorization::v1::LocalSubjectAccessReview",
    "api::authorization::v1::SelfSubjectAccessReview",
    "api::authorization::v1::SelfSubjectRulesReview",
    "api::authorization::v1::SubjectAccessReview",
    "api::autoscaling::v2::HorizontalPodAutoscaler", "api::autoscaling::v1::HorizontalPodAutoscaler",
    "api::autoscaling::v1::Scale",
    "api::batch::v1::CronJob", "api::batch::v1::Job",
    "api::certificates::v1::CertificateSigningRequest",
    "api::networking::v1::IngressClass", "api::networking::v1::Ingress",
    "api::networking::v1::IPAddress", "api::networking::v1::NetworkPolicy",
    "api::networking::v1::ServiceCIDR",
    "api::policy::v1::PodDisruptionBudget", "api::policy::v1::Eviction",
    "api::rbac::v1::ClusterRoleBinding", "api::rbac::v1::ClusterRole",
    "api::rbac::v1::RoleBinding", "api::rbac::v1::Role",
    "api::storage::v1::CSIDriver", "api::storage::v1::CSINode",
    "api::storage::v1::CSIStorageCapacity", "api::storage::v1::StorageClass",
    "api::storage::v1::VolumeAttachment",
    "api::admissionregistration::v1::MutatingWebhookConfiguration",
    "api::admissionregistration::v1::ValidatingAdmissionPolicy",
    "api::admissionregistration::v1::ValidatingAdmissionPolicyBinding",
    "api::admissionregistration::v1::ValidatingWebhookConfiguration",
    "api::scheduling::v1::PriorityClass",
    "api::coordination::v1::Lease",
    "api::node::v1::RuntimeClass",
    "api::discovery::v1::EndpointSlice",
    "api::flowcontrol::v1::FlowSchema", "api::flowcontrol::v1::PriorityLevelConfiguration",
]

SPECIAL = {
    # Go `type ExtraValue []string`: a protobuf message wrapping the list, a JSON array.
    "api::authentication::v1::ExtraValue",
    "api::authorization::v1::ExtraValue",
    "api::certificates::v1::ExtraValue",
    "apimachinery::pkg::apis::meta::v1::Time",
    "apimachinery::pkg::apis::meta::v1::MicroTime",
    "apimachinery::pkg::apis::meta::v1::Duration",
    "apimachinery::pkg::apis::meta::v1::FieldsV1",
    "apimachinery::pkg::api::resource::Quantity",
    "apimachinery::pkg::util::intstr::IntOrString",
    "apimachinery::pkg::runtime::RawExtension",
}

STRUCT_RE = re.compile(r"pub struct (\w+) \{(.*?)\n\}", re.S)
FIELD_RE = re.compile(
    r"#\[prost\(([^\]]*?)tag = \"(\d+)\"\)\]\s*pub (r#)?(\w+):\s*([^;]*?),\n", re.S
)


def parse_pb(src_dir):
    """module path -> {struct name -> [(kind, tag, rust field, rust type)]}"""
    out = {}
    for mod, _, _ in PACKAGES:
        path = os.path.join(src_dir, *mod.split("::"), "mod.rs")
        text = open(path).read()
        structs = {}
        for m in STRUCT_RE.finditer(text):
            fields = []
            for f in FIELD_RE.finditer(m.group(2) + "\n"):
                attrs, tag, _, name, ty = f.groups()
                fields.append((attrs.strip().rstrip(","), int(tag), name, " ".join(ty.split())))
            structs[m.group(1)] = fields
        out[mod] = structs
    return out


# `Name Type `tags`` or an embedded `pkg.Type `tags`` (inline when the JSON name is empty).
GO_FIELD_RE = re.compile(r"^\s+(?:(\w+)\s+)?([\w\.\*\[\]]+)\s+`([^`]*)`", re.M)


def parse_go(dirs):
    """(package dir) -> {lowercase struct name -> {proto tag -> (json, omitempty, pointer)}}"""
    out = {}
    for key, d in dirs.items():
        structs = {}
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".go") or fn.endswith("_test.go") or fn.startswith("zz_") or fn.startswith("generated"):
                continue
            text = open(os.path.join(d, fn)).read()
            for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", text, re.S | re.M):
                fields = {}
                for f in GO_FIELD_RE.finditer(m.group(2)):
                    _, gotype, tags = f.groups()
                    j = re.search(r'json:"([^"]*)"', tags)
                    p = re.search(r'protobuf:"\w+,(\d+),', tags)
                    if not j or not p:
                        continue
                    parts = j.group(1).split(",")
                    fields[int(p.group(1))] = (parts[0], "omitempty" in parts[1:], gotype.startswith("*"))
                structs[m.group(1).lower()] = fields
        out[key] = structs
    return out


def resolve(mod, ty):
    """Resolve a prost type path relative to module `mod` into an absolute `a::b::Name`."""
    ty = ty.replace("::core::option::Option<", "").replace("::prost::alloc::vec::Vec<", "")
    ty = ty.rstrip(">").strip()
    if ty.startswith("::prost::alloc::collections::BTreeMap<"):
        ty = ty.split(",")[-1].strip()
    parts = ty.split("::")
    base = mod.split("::")
    while parts and parts[0] == "super":
        parts.pop(0)
        base.pop()
    if len(parts) == 1:
        return "::".join(mod.split("::") + parts)
    return "::".join(base + parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k8s-pb", required=True)
    ap.add_argument("--go-api", required=True)
    ap.add_argument("--go-apimachinery", required=True)
    a = ap.parse_args()
    pb = parse_pb(a.k8s_pb)
    go_dirs = {}
    for mod, d, repo in PACKAGES:
        root = a.go_api if repo == "api" else a.go_apimachinery
        go_dirs[mod] = os.path.join(root, d)
    go = parse_go(go_dirs)

    todo = list(ROOTS)
    seen = set()
    order = []
    while todo:
        full = todo.pop(0)
        if full in seen or full in SPECIAL:
            continue
        seen.add(full)
        mod, name = full.rsplit("::", 1)
        if mod not in pb or name not in pb[mod]:
            sys.exit(f"message {full} not found in k8s-pb (add its package to PACKAGES or SPECIAL)")
        order.append(full)
        for attrs, _, _, ty in pb[mod][name]:
            if attrs.startswith("message") or "message" in attrs.split(",")[0]:
                todo.append(resolve(mod, ty))

    unmatched = []
    w = sys.stdout.write
    w("// @generated by crates/apiresources/codegen/pb_json.py — do not edit by hand.\n")
    w("// Protobuf messages of built-in kinds → the JSON Go's encoding/json prints for them.\n\n")
    w("use super::json::{Rule, ToJson, bytes, bytes_map, inline, map, message, repeated, repeated_or_null, scalar};\n")
    w("use k8s_pb as pb;\nuse serde_json::{Map, Value};\n\n")
    for full in order:
        mod, name = full.rsplit("::", 1)
        gofields = go[mod].get(name.lower(), None)
        if gofields is None:
            unmatched.append(f"struct {full}")
            gofields = {}
        w(f"impl ToJson for pb::{full} {{\n    fn to_json(&self) -> Value {{\n")
        fields = pb[mod][name]
        w(f"        let mut m = Map::{'new()' if fields else 'new()'};\n")
        for attrs, tag, rname, ty in fields:
            info = gofields.get(tag)
            if info is None:
                unmatched.append(f"{full}.{rname} (tag {tag})")
                jname = re.sub(r"_(\w)", lambda x: x.group(1).upper(), rname)
                omitempty, pointer = True, False
            else:
                jname, omitempty, pointer = info
            kind = attrs.split(",")[0].strip()
            field = f"self.{'r#' if rname in ('type', 'ref') else ''}{rname}"
            if jname == "" and kind == "message":
                w(f'        inline(&mut m, &{field});\n')
            elif kind.startswith("btree_map"):
                if '"string, bytes"' in attrs:
                    w(f'        bytes_map(&mut m, "{jname}", &{field});\n')
                else:
                    w(f'        map(&mut m, "{jname}", &{field});\n')
            elif "repeated" in attrs:
                # Go prints a nil slice as null unless the field has omitempty.
                fn = "repeated" if omitempty else "repeated_or_null"
                w(f'        {fn}(&mut m, "{jname}", &{field});\n')
            elif kind == "message":
                w(f'        message(&mut m, "{jname}", &{field});\n')
            elif kind.startswith("bytes"):
                w(f'        bytes(&mut m, "{jname}", &{field});\n')
            else:
                rule = "Rule::Pointer" if pointer else ("Rule::OmitEmpty" if omitempty else "Rule::Always")
                w(f'        scalar(&mut m, "{jname}", &{field}, {rule});\n')
        w("        Value::Object(m)\n    }\n}\n\n")
    for u in unmatched:
        print(f"warning: no Go field info for {u}; using omitempty", file=sys.stderr)
    print(f"{len(order)} messages generated, {len(unmatched)} fields without Go info", file=sys.stderr)


if __name__ == "__main__":
    main()
