//! Differential tests against the real Helm v4 engine, through the test-only oracle
//! `oracle/render.py` (PyPI `helm-python-sdk`, installed by `scripts/setup`).
//!
//! - every chart under `tests/charts/` is rendered with several value sets by both engines: the raw
//!   engine output, the release manifest, the hooks and refusals must agree;
//! - a bounded, seeded fuzz renders a few hundred small generated templates with both engines and
//!   requires the same output (or both to refuse).
//!
//! If python3 or the package is missing these tests fail and say to run `scripts/setup`.

#[path = "support/oracle.rs"]
mod oracle;

use std::collections::BTreeMap;
use std::path::Path;

use oracle::{Oracle, as_go_json};
use serde_json::{Value, json};

fn ours(
    chart: &Path,
    values: &Value,
    name: &str,
    kube: Option<&str>,
    api: &[String],
) -> Result<helm::TemplateOutput, String> {
    let c = helm::chart::load(chart).map_err(|e| e.to_string())?;
    let user = as_go_json(values).as_object().cloned().unwrap_or_default();
    let opts = helm::TemplateOptions {
        render: helm::RenderOptions {
            release: helm::ReleaseOptions {
                name: name.into(),
                ..Default::default()
            },
            capabilities: helm::Capabilities::with(kube, api)?,
            skip_schema_validation: false,
            lookup: None,
        },
        ..Default::default()
    };
    helm::template(&c, &user, &opts).map_err(|e| e.to_string())
}

#[test]
fn charts_in_tests_dir_render_like_real_helm() {
    let mut oracle = Oracle::start();
    let dir = std::path::PathBuf::from("tests/charts");
    let variants: Vec<(Value, &str, Option<&str>, Vec<String>)> = vec![
        (Value::Null, "release-name", Some("v1.31.0"), vec![]),
        (
            json!({"replica": {"enabled": true}, "tags": {"extras": true}, "db": {"user": "app"}}),
            "umbrella-prod",
            Some("v1.31.0"),
            vec![],
        ),
        (
            json!({"removeMe": null, "db": {"port": 6000, "password": "s3cret"}, "global": {"region": "ap"}}),
            "rel",
            Some("v1.25.0"),
            vec!["monitoring.coreos.com/v1".into()],
        ),
        (
            json!({"image": {"tag": null}, "list": [], "cache": {"size": 128}, "tags": {"extras": true}}),
            "release-name",
            None,
            vec![],
        ),
        // Refusals: a subchart schema violation, and a kubeVersion the chart excludes.
        (
            json!({"db": {"port": "not-a-number"}}),
            "release-name",
            Some("v1.31.0"),
            vec![],
        ),
        (Value::Null, "release-name", Some("v1.19.0"), vec![]),
    ];
    let mut failures = Vec::new();
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/charts exists") {
        let chart = entry.unwrap().path();
        for (values, name, kube, api) in &variants {
            compared += 1;
            let label = format!("{} {values} {name} {kube:?} {api:?}", chart.display());
            let helm = oracle.call(&json!({
                "chart": chart, "values": values, "name": name, "kube_version": kube,
                "api_versions": api, "mode": "install",
            }));
            let mine = ours(&chart, values, name, *kube, api);
            match (helm["ok"].as_bool() == Some(true), mine) {
                (true, Ok(m)) => {
                    let theirs: BTreeMap<String, String> =
                        serde_json::from_value(helm["render"].clone()).unwrap_or_default();
                    if theirs != m.rendered {
                        let diff: Vec<String> = theirs
                            .iter()
                            .filter(|(k, v)| m.rendered.get(*k) != Some(v))
                            .map(|(k, v)| {
                                let o = m.rendered.get(k).map(String::as_str).unwrap_or("");
                                format!("{k}:\n{}", line_diff(v, o))
                            })
                            .collect();
                        failures.push(format!(
                            "{label}: engine output differs in\n{}",
                            diff.join("\n")
                        ));
                    }
                    if helm["manifest"].as_str() != Some(m.manifest.as_str()) {
                        failures.push(format!(
                            "{label}: manifest differs\n--- helm\n{}\n--- ours\n{}",
                            helm["manifest"].as_str().unwrap_or(""),
                            m.manifest
                        ));
                    }
                    if helm["notes"].as_str() != m.notes.as_deref() {
                        failures.push(format!(
                            "{label}: NOTES differ: {:?} vs {:?}",
                            helm["notes"], m.notes
                        ));
                    }
                }
                (false, Err(e)) => {
                    let msg = helm["message"].as_str().unwrap_or("");
                    if msg != e {
                        failures.push(format!(
                            "{label}: both refuse, messages differ:\n helm: {msg}\n ours: {e}"
                        ));
                    }
                }
                (true, Err(e)) => failures.push(format!("{label}: we refuse, Helm renders: {e}")),
                (false, Ok(_)) => failures.push(format!(
                    "{label}: we render, Helm refuses: {}",
                    helm["message"].as_str().unwrap_or("")
                )),
            }
        }
    }
    assert!(compared >= 6, "no charts compared");
    assert!(
        failures.is_empty(),
        "{} differences with real Helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The lines that differ (Helm's `-`, ours `+`), for readable failures.
fn line_diff(helm: &str, ours: &str) -> String {
    let (h, o): (Vec<&str>, Vec<&str>) = (helm.lines().collect(), ours.lines().collect());
    let mut out = Vec::new();
    for i in 0..h.len().max(o.len()) {
        let (a, b) = (h.get(i).copied(), o.get(i).copied());
        if a != b {
            out.push(format!(
                "  - {}\n  + {}",
                a.unwrap_or("<none>"),
                b.unwrap_or("<none>")
            ));
        }
    }
    out.join("\n")
}

/// xorshift64*: a small deterministic generator so the fuzz corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const ATOMS: &[&str] = &[
    ".Values.s",
    ".Values.n",
    ".Values.f",
    ".Values.b",
    ".Values.z",
    ".Values.e",
    ".Values.l",
    ".Values.m",
    ".Values.missing",
    ".Values.m.k1",
    ".Values.m.nested",
    ".Values.big",
    ".Values.neg",
    "\"lit eral\"",
    "3",
    "2.5",
    "true",
    ".Release.Name",
    ".Chart.Name",
    ".Chart.Version",
    "(list 1 \"two\" 3.5)",
    "(dict \"b\" 2 \"a\" \"x\")",
];

const FILTERS: &[&str] = &[
    "upper",
    "lower",
    "title",
    "quote",
    "squote",
    "trim",
    "trunc 5",
    "trimSuffix \"d\"",
    "replace \"l\" \"L\"",
    "default \"dflt\"",
    "b64enc",
    "sha256sum",
    "toString",
    "len",
    "toYaml",
    "toJson",
    "kindOf",
    "typeOf",
    "empty",
    "not",
    "nindent 2",
    "indent 4",
    "repeat 2",
    "contains \"l\"",
    "hasPrefix \"H\"",
    "int",
    "float64",
    "add1",
    "first",
    "join \"-\"",
    "splitList \" \"",
    "camelcase",
    "snakecase",
    "kebabcase",
    "toPrettyJson",
    "print",
    "printf \"%v\"",
    "printf \"%q\"",
    "printf \"%d\"",
    "printf \"%s\"",
    "printf \"%05.1f\"",
    "printf \"%T\"",
    "keys",
    "sortAlpha",
    "uniq",
    "fromYaml",
    "b64dec",
    "abbrev 6",
    "nospace",
    "initials",
    "semver",
    "toStrings",
    "atoi",
    "ceil",
    "round 1",
];

fn gen_expr(r: &mut Rng) -> String {
    let mut e = r.pick(ATOMS).to_string();
    let n = r.next() % 3;
    for _ in 0..n {
        e = format!("{e} | {}", r.pick(FILTERS));
    }
    e
}

fn gen_template(r: &mut Rng) -> String {
    match r.next() % 10 {
        0 => format!(
            "{{{{ if {} }}}}A{{{{ else if {} }}}}B{{{{ else }}}}C{{{{ end }}}}",
            gen_expr(r),
            gen_expr(r)
        ),
        1 => format!(
            "{{{{- range $i, $v := {} }}}}\n{{{{ $i }}}}: {{{{ $v | {} }}}}{{{{ end }}}}",
            r.pick(&[
                ".Values.l",
                ".Values.m",
                ".Values.m.nested",
                "(until 3)",
                ".Values.e"
            ]),
            r.pick(FILTERS)
        ),
        2 => format!(
            "{{{{ with {} }}}}[{{{{ . }}}}]{{{{ else }}}}none{{{{ end }}}}",
            gen_expr(r)
        ),
        3 => format!(
            "{{{{ {} {} {} }}}}",
            r.pick(&[
                "add",
                "sub",
                "mul",
                "div",
                "mod",
                "max",
                "min",
                "addf",
                "mulf",
                "eq",
                "ne",
                "lt",
                "gt",
                "and",
                "or",
                "coalesce",
                "ternary \"y\""
            ]),
            r.pick(ATOMS),
            r.pick(ATOMS)
        ),
        4 => format!(
            "data:\n{{{{- {} | toYaml | nindent 2 }}}}",
            r.pick(&[
                "(dict \"k\" .Values.m \"l\" .Values.l)",
                ".Values",
                ".Values.m",
                "(list .Values.f .Values.big .Values.neg)"
            ])
        ),
        5 => format!(
            "{{{{ printf \"{}\" {} }}}}",
            r.pick(&[
                "%v",
                "%s",
                "%d",
                "%q",
                "%t",
                "%f",
                "%.2f",
                "%x",
                "%5s|%-5s|",
                "%05d",
                "%%"
            ]),
            gen_expr(r)
        ),
        6 => format!(
            "{{{{ $x := {} }}}}{{{{ $x = {} }}}}{{{{ $x }}}}",
            gen_expr(r),
            gen_expr(r)
        ),
        7 => format!(
            "{{{{ tpl \"{{{{ .Values.s }}}}-{{{{ .Release.Name }}}}\" . }}}} {{{{ {} }}}}",
            gen_expr(r)
        ),
        8 => format!(
            "{{{{ include \"t\" {} }}}}\n{{{{- define \"t\" }}}}<{{{{ . }}}}>{{{{ end }}}}",
            gen_expr(r)
        ),
        _ => format!("v: {{{{ {} }}}}", gen_expr(r)),
    }
}

#[test]
fn fuzzed_small_templates_render_like_real_helm() {
    let cases = 300;
    let mut oracle = Oracle::start();
    let tmp = tempfile::tempdir().unwrap();
    let values = json!({
        "s": "Hello World", "n": 42, "f": 3.75, "b": true, "z": 0, "e": "", "l": ["x", "y", "z"],
        "m": {"k1": "v1", "k2": 2, "nested": {"a": [1, 2]}}, "big": 1000000, "neg": -7
    });
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let known = known_fuzz_differences();
    let mut unexpected = Vec::new();
    let (mut same, mut both_refuse, mut refusal_text_same) = (0, 0, 0);
    for i in 0..cases {
        let tpl = gen_template(&mut rng);
        let chart = tmp.path().join(format!("f{i}"));
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: fuzz\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            chart.join("values.yaml"),
            serde_json::to_string(&values).unwrap(),
        )
        .unwrap();
        std::fs::write(chart.join("templates/t.yaml"), &tpl).unwrap();
        let helm = oracle.call(&json!({"chart": chart, "values": null, "mode": "render"}));
        let c = helm::chart::load(&chart).unwrap();
        let mine = helm::render(
            &c,
            &helm::values::Values::new(),
            &helm::RenderOptions::default(),
        );
        let agree = match (helm["ok"].as_bool() == Some(true), &mine) {
            (true, Ok(m)) => {
                let theirs = helm["render"]["fuzz/templates/t.yaml"]
                    .as_str()
                    .unwrap_or("");
                let o = m
                    .get("fuzz/templates/t.yaml")
                    .map(String::as_str)
                    .unwrap_or("");
                if theirs == o {
                    same += 1;
                    true
                } else {
                    if !known.contains(&i) {
                        unexpected.push(format!("#{i} {tpl:?}\n  helm: {theirs:?}\n  ours: {o:?}"));
                    }
                    false
                }
            }
            (false, Err(e)) => {
                both_refuse += 1;
                if helm["message"].as_str() == Some(e.to_string().as_str()) {
                    refusal_text_same += 1;
                }
                true
            }
            (true, Err(e)) => {
                if !known.contains(&i) {
                    unexpected.push(format!(
                        "#{i} {tpl:?}\n  helm renders {:?}\n  ours refuses: {e}",
                        helm["render"]["fuzz/templates/t.yaml"]
                    ));
                }
                false
            }
            (false, Ok(m)) => {
                if !known.contains(&i) {
                    unexpected.push(format!(
                        "#{i} {tpl:?}\n  helm refuses: {}\n  ours renders {:?}",
                        helm["message"],
                        m.get("fuzz/templates/t.yaml")
                    ));
                }
                false
            }
        };
        if agree && known.contains(&i) {
            println!(
                "fuzz case #{i} now agrees with Helm: remove it from tests/fuzz-known-differences.txt"
            );
        }
    }
    println!(
        "fuzz: {cases} templates, {same} identical outputs, {both_refuse} refused by both ({refusal_text_same} with identical text), {} known differences",
        known.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} fuzz cases differ from real Helm (seeded; add engine bugs to tests/fuzz-known-differences.txt only with a request filed):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

fn known_fuzz_differences() -> Vec<usize> {
    let p = std::path::PathBuf::from("tests/fuzz-known-differences.txt");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            l.split_whitespace()
                .next()?
                .trim_start_matches('#')
                .parse()
                .ok()
        })
        .collect()
}

/// Numbers compared as Go's float64 (Python's JSON says `1` for both 1 and 1.0).
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `--set`, `--set-string`, `--set-json`, `--set-literal` and `--set-file` expressions parse to the
/// same values as Helm's `strvals` (through helm-python-sdk), and refuse the same input with the
/// same message (`--set-json` errors are replaced by one fixed message in the CLI, so only the
/// refusal itself is compared there).
#[test]
fn command_line_value_syntaxes_parse_like_real_helm() {
    use helm::strvals::{Mode, parse_into, parse_literal_into};
    let mut oracle = Oracle::start();
    let tmp = tempfile::tempdir().unwrap();
    let f1 = tmp.path().join("one.txt");
    let f2 = tmp.path().join("two, with comma.txt");
    std::fs::write(&f1, "first file\nline 2\n").unwrap();
    std::fs::write(&f2, "second").unwrap();
    let (p1, p2) = (f1.display().to_string(), f2.display().to_string());
    let missing = tmp.path().join("missing.txt").display().to_string();
    let cases: Vec<(&str, String)> = vec![
        (
            "set",
            "a=1,b.c=x,d={1,two,true},e[1]=null,f=007,g=1e3".into(),
        ),
        ("set", "name=a\\,b,path\\.dotted=v,x[0].y=1,x[0].z=2".into()),
        ("set", "a=".into()),
        ("set", "a".into()),
        ("set", "a=1,".into()),
        ("set", "a[x]=1".into()),
        ("set", "a[-1]=1".into()),
        ("set", "a[99999]=1".into()),
        ("set", "a={x,y".into()),
        ("set", "a[0]b=1".into()),
        (
            "set",
            "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E=1".into(),
        ),
        ("set", "a=9223372036854775808,b=-12,c=+3".into()),
        ("string", "a=true,b=1,c=null,d={1,x},e[2]=0".into()),
        ("string", "a".into()),
        (
            "json",
            r#"a=[1,{"b":2}],c={"d":"e"}, f="x,y",g=,h[1]=true"#.into(),
        ),
        ("json", "a=12x=3".into()),
        ("json", "a=notjson".into()),
        ("json", r#"a.b={"c":[1.5,null]},list[0]="s""#.into()),
        ("json", r#"a="unterminated"#.into()),
        ("literal", "a=b,c={d},e=f\\g".into()),
        ("literal", "x.y[1]=v w".into()),
        ("literal", "a".into()),
        ("file", format!("a={p1},b={{{p1}}}")),
        ("file", format!("c={}", p2.replace(',', "\\,"))),
        ("file", format!("d={missing}")),
    ];
    let mut failures = Vec::new();
    for (kind, expr) in &cases {
        let helm = oracle.call(&json!({"mode": "strvals", "kind": kind, "expr": expr}));
        let mut m = serde_json::Map::new();
        let mut read = |p: &str| helm::read_file_text(Path::new(p));
        let ours = match *kind {
            "set" => parse_into(expr, &mut m, &mut Mode::Typed),
            "string" => parse_into(expr, &mut m, &mut Mode::String),
            "json" => parse_into(expr, &mut m, &mut Mode::Json),
            "file" => parse_into(expr, &mut m, &mut Mode::File(&mut read)),
            _ => parse_literal_into(expr, &mut m),
        };
        match (helm["ok"].as_bool() == Some(true), ours) {
            (true, Ok(())) => {
                let (h, o) = (
                    numbers_as_f64(&helm["values"]),
                    numbers_as_f64(&Value::Object(m)),
                );
                if h != o {
                    failures.push(format!("{kind} {expr:?}: helm {h} ours {o}"));
                }
            }
            (false, Err(e)) => {
                let msg = helm["message"].as_str().unwrap_or("");
                if *kind != "json" && msg != e {
                    failures.push(format!("{kind} {expr:?}: helm {msg:?} ours {e:?}"));
                }
            }
            (true, Err(e)) => failures.push(format!(
                "{kind} {expr:?}: Helm parses {} but we refuse: {e}",
                helm["values"]
            )),
            (false, Ok(())) => failures.push(format!(
                "{kind} {expr:?}: we parse {} but Helm refuses: {}",
                Value::Object(m),
                helm["message"]
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions differ from Helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `--is-upgrade`: `.Release.IsUpgrade`/`.IsInstall` as real Helm renders them with `is_upgrade`.
#[test]
fn is_upgrade_renders_like_real_helm() {
    let mut oracle = Oracle::start();
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("upg");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: upg\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  upgrade: {{ .Release.IsUpgrade | quote }}\n  install: {{ .Release.IsInstall | quote }}\n  rev: {{ .Release.Revision | quote }}\n",
    )
    .unwrap();
    for upgrade in [false, true] {
        let helm = oracle.call(&json!({
            "chart": chart, "values": null, "name": "up", "mode": "render", "is_upgrade": upgrade,
        }));
        assert_eq!(helm["ok"], true, "{helm}");
        let c = helm::chart::load(&chart).unwrap();
        let opts = helm::TemplateOptions {
            render: helm::RenderOptions {
                release: helm::ReleaseOptions {
                    name: "up".into(),
                    is_install: !upgrade,
                    is_upgrade: upgrade,
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        };
        let ours = helm::template(&c, &helm::values::Values::new(), &opts).unwrap();
        let theirs = helm["render"]["upg/templates/cm.yaml"].as_str();
        let mine = ours
            .rendered
            .get("upg/templates/cm.yaml")
            .map(String::as_str);
        assert_eq!(theirs, mine, "is_upgrade={upgrade}");
        assert!(ours.manifest.contains(&format!("upgrade: \"{upgrade}\"")));
    }
}
