//! Property: whatever `toYaml` writes, `fromYaml` reads back as the same value
//! (after the JSON round trip Helm applies: numbers become float64).
//! Strings are drawn from an alphabet full of YAML indicators, so quoting,
//! literal blocks and line folding are all exercised.

use gotemplate::{Value, from_yaml, to_yaml};

const PIECES: &[&str] = &[
    "a",
    "Z",
    " ",
    "  ",
    "-",
    ":",
    ": ",
    "#",
    " #",
    "'",
    "\"",
    "\\",
    "\n",
    "\t",
    "yes",
    "no",
    "on",
    "null",
    "~",
    "true",
    "1",
    "0x1F",
    "1e3",
    ".5",
    "012",
    "2024-01-01",
    "12:30",
    "*",
    "&",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    "[",
    "]",
    "{",
    "}",
    ",",
    "?",
    "é",
    "🙂",
    "word word word word word word word word word word word word word word word word word word",
];

fn random_string(rng: &mut fastrand::Rng) -> String {
    let n = rng.usize(0..6);
    (0..n).map(|_| PIECES[rng.usize(..PIECES.len())]).collect()
}

fn random_value(rng: &mut fastrand::Rng, depth: usize) -> Value {
    match if depth > 3 {
        rng.u8(0..4)
    } else {
        rng.u8(0..6)
    } {
        0 => Value::str(random_string(rng)),
        1 => Value::Float((rng.i32(-100000..100000) as f64) / [1.0, 4.0, 1000.0][rng.usize(0..3)]),
        2 => Value::Bool(rng.bool()),
        3 => Value::Nil,
        4 => Value::list(
            (0..rng.usize(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::map(
            (0..rng.usize(0..4))
                .map(|_| (random_string(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

#[test]
fn to_yaml_then_from_yaml_returns_the_value() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for i in 0..3000 {
        let v = Value::map_from([("k", random_value(&mut rng, 0))]);
        let y = to_yaml(&v);
        let back = from_yaml(&y)
            .unwrap_or_else(|e| panic!("case {i}: {e}\n--- yaml ---\n{y}\n--- value ---\n{v:?}"));
        let (a, b) = (v.to_json(), back.to_json());
        assert_eq!(
            a, b,
            "case {i}: round trip changed the value\n--- yaml ---\n{y}"
        );
    }
}
