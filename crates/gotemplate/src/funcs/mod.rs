//! The function map: Go's builtins, Sprig v3's `TxtFuncMap` (minus `env` and
//! `expandenv`) and Helm's additions, each with Go's parameter types so that
//! argument errors read as Go's do.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::exec::Host;
use crate::value::Value;

mod builtin;
pub(crate) mod conv;
mod crypto;
mod dates;
mod dicts;
mod encoding;
mod lists;
mod math;
mod secrets;
pub mod semver;
mod strings;
mod toml;
pub(crate) mod yaml;

pub(crate) use conv::*;

/// Random bytes from the operating system (Sprig uses crypto/rand for passwords and UUIDs).
pub(crate) fn secure_bytes(n: usize) -> Vec<u8> {
    use rand_core::RngCore;
    let mut b = vec![0u8; n];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

/// A uniform index below `n` from the operating system's generator (rejection sampling).
pub(crate) fn secure_index(n: usize) -> usize {
    use rand_core::RngCore;
    let n64 = n.max(1) as u64;
    let zone = u64::MAX - (u64::MAX % n64);
    loop {
        let r = rand_core::OsRng.next_u64();
        if r < zone {
            return (r % n64) as usize;
        }
    }
}

/// A parameter type, as the Go function declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum Ty {
    /// `interface{}`
    Any,
    /// `reflect.Value` (builtins): anything, nil included.
    Reflect,
    Str,
    Int,
    Float,
    Bool,
    List,
    Map,
}

impl Ty {
    pub fn nillable(self) -> bool {
        matches!(self, Ty::Any | Ty::Reflect | Ty::List | Ty::Map)
    }
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Reflect => "reflect.Value",
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::List => "[]interface {}",
            Ty::Map => "map[string]interface {}",
        }
    }
    /// The word Go uses in "expected X; found <literal>".
    pub fn expect_word(self) -> &'static str {
        match self {
            Ty::Int => "integer",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Str => "string",
            _ => self.go_name(),
        }
    }
}

/// Checks a value against a parameter type (Go's `validateType`).
pub(crate) fn check_type(ty: Ty, v: Value) -> Result<Value, String> {
    let ok = match (&ty, &v) {
        (Ty::Any | Ty::Reflect, _) => true,
        (_, Value::Nil) => {
            if ty.nillable() {
                return Ok(Value::Nil);
            }
            return Err(format!("invalid value; expected {}", ty.go_name()));
        }
        (Ty::Str, Value::String(_)) => true,
        (Ty::Str, Value::Object(o)) if o.bytes().is_some() => true,
        (Ty::Int, Value::Int(_)) => true,
        (Ty::Float, Value::Float(_)) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::List, Value::List(_)) => true,
        (Ty::Map, Value::Map(_)) => true,
        _ => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(format!(
            "wrong type for value; expected {}; got {}",
            ty.go_name(),
            v.type_name()
        ))
    }
}

pub(crate) type NativeFn = fn(&dyn Host, &[Value]) -> Result<Value, String>;

#[derive(Clone, Copy)]
pub(crate) struct FuncDef {
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
    pub f: NativeFn,
}

type Reg = HashMap<&'static str, FuncDef>;

pub(crate) fn reg(
    m: &mut Reg,
    name: &'static str,
    params: &'static [Ty],
    variadic: Option<Ty>,
    f: NativeFn,
) {
    m.insert(
        name,
        FuncDef {
            params,
            variadic,
            f,
        },
    );
}

static FUNCS: OnceLock<Reg> = OnceLock::new();

/// Looks a function up by name.
pub(crate) fn lookup(name: &str) -> Option<&'static FuncDef> {
    FUNCS
        .get_or_init(|| {
            let mut m = HashMap::new();
            builtin::register(&mut m);
            strings::register(&mut m);
            lists::register(&mut m);
            dicts::register(&mut m);
            math::register(&mut m);
            conv::register(&mut m);
            crypto::register(&mut m);
            secrets::register(&mut m);
            encoding::register(&mut m);
            yaml::register(&mut m);
            semver::register(&mut m);
            dates::register(&mut m);
            toml::register(&mut m);
            m
        })
        .get(name)
}

/// Functions that see the raw bytes of byte-string objects; others get lossy UTF-8.
pub(crate) const BYTE_AWARE: &[&str] = &[
    "b64enc",
    "b32enc",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "adler32sum",
    "len",
];

/// Functions that see host objects as they are (their Go type); others see list objects as lists.
const TYPE_AWARE: &[&str] = &[
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "printf",
    // Encoders see Go's JSON of the object (a `[]byte` is base64, a struct keeps field order).
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "toYaml",
    "toYamlPretty",
    "mustToYaml",
];

/// Functions that read their argument through Sprig's `strval` (a `[]byte` is its text).
const STRVAL: &[&str] = &["toString", "quote", "squote"];

/// Turns byte-string objects into (lossy) strings for functions that are not byte-aware, and list
/// objects (Go slices with methods) into plain lists for functions that are not type-aware.
pub(crate) fn lossy_bytes(name: &str, argv: &mut [Value]) {
    if STRVAL.contains(&name) {
        // Sprig's `strval` turns a `[]byte` into the string of its bytes.
        for v in argv.iter_mut() {
            if let Value::Object(o) = v
                && o.type_name() == "[]uint8"
                && let Some(l) = o.list()
            {
                let b: Vec<u8> = l
                    .iter()
                    .map(|x| match x {
                        Value::Int(i) => *i as u8,
                        _ => 0,
                    })
                    .collect();
                *v = Value::str(String::from_utf8_lossy(&b).into_owned());
            }
        }
    }
    if !TYPE_AWARE.contains(&name) {
        for v in argv.iter_mut() {
            if let Value::Object(o) = v
                && let Some(l) = o.list()
            {
                *v = Value::list(l);
            }
        }
    }
    if BYTE_AWARE.contains(&name) {
        return;
    }
    for v in argv.iter_mut() {
        if let Value::Object(o) = v
            && let Some(b) = o.bytes()
        {
            *v = Value::str(String::from_utf8_lossy(&b).into_owned());
        }
    }
}

/// All function names (sorted), for documentation and tests.
pub fn names() -> Vec<&'static str> {
    lookup("print");
    let mut v: Vec<&'static str> = FUNCS
        .get()
        .map(|m| m.keys().copied().collect())
        .unwrap_or_default();
    v.sort();
    v
}
