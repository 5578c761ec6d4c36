//! Engine throughput on a chart-like template: parse time and render time.
//! Run with `cargo bench -p gotemplate --bench engine`; prints its figures.

use std::time::Instant;

use gotemplate::{Options, TemplateSet, Value};

const HELPERS: &str = r#"
{{- define "app.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name (include "app.name" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
"#;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        {{- range $i, $c := .Values.containers }}
        - name: {{ $c.name | quote }}
          image: "{{ $c.image }}:{{ $c.tag | default "latest" }}"
          {{- if $c.env }}
          env:
            {{- range $k, $v := $c.env }}
            - name: {{ $k }}
              value: {{ tpl (toString $v) $ | quote }}
            {{- end }}
          {{- end }}
          resources: {{- toYaml $c.resources | nindent 12 }}
        {{- end }}
"#;

fn main() {
    let containers: Vec<serde_json::Value> = (0..20)
        .map(|i| serde_json::json!({"name": format!("c{i}"), "image": "nginx", "env": {"A": "x", "B": "{{ .Release.Name }}"}, "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}))
        .collect();
    let data = Value::from(serde_json::json!({
        "Values": {"replicas": 3, "labels": {"tier": "web"}, "containers": containers},
        "Chart": {"Name": "app"},
        "Release": {"Name": "rel"}
    }));
    let n = 200;
    let t = Instant::now();
    let mut set = TemplateSet::new(Options::default());
    for _ in 0..n {
        set = TemplateSet::new(Options::default());
        set.parse("app/templates/_helpers.tpl", HELPERS)
            .expect("parse helpers");
        set.parse("app/templates/deployment.yaml", DEPLOYMENT)
            .expect("parse deployment");
    }
    let parse = t.elapsed() / n;
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes = set
            .execute("app/templates/deployment.yaml", &data)
            .expect("render")
            .len();
    }
    let render = t.elapsed() / n;
    println!("parse (helpers + deployment): {parse:?} per set");
    println!("render deployment with 20 containers ({bytes} bytes): {render:?} per render");
}
