//! Sprig's list functions (`list`, `append`, `first`, `uniq`, `has`, `until`, ...).
//! `mustX` variants return errors where the plain ones panic in Go (which the
//! template engine reports as an error as well).

use std::sync::Arc;

use super::{Reg, Ty, deep_equal, is_empty, reg, to_int64};
use crate::exec::Host;
use crate::value::Value;

fn as_list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil => Err(format!("Cannot {what} on type <nil>")),
        other => Err(format!("Cannot {what} on type {}", other.kind_name())),
    }
}

fn int_list(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

fn until_step(h: &dyn Host, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let mut v = Vec::new();
    let max = h.limits().max_collection_len;
    let count = if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        ((start - stop) as u128).div_ceil(step.unsigned_abs() as u128)
    } else {
        if step <= 0 {
            return Ok(v);
        }
        ((stop - start) as u128).div_ceil(step as u128)
    };
    if count > max as u128 {
        return Err(format!(
            "a list of {count} elements exceeds the limit of {max}"
        ));
    }
    let mut i = start;
    if stop < start {
        while i > stop {
            v.push(i);
            i += step;
        }
    } else {
        while i < stop {
            v.push(i);
            i += step;
        }
    }
    Ok(v)
}

fn seq(h: &dyn Host, p: &[i64]) -> Result<Value, String> {
    let v = match p.len() {
        1 => {
            let (start, end) = (1, p[0]);
            let inc = if end < start { -1 } else { 1 };
            until_step(h, start, end + inc, inc)?
        }
        2 => {
            let (start, end) = (p[0], p[1]);
            let step = if end < start { -1 } else { 1 };
            until_step(h, start, end + step, step)?
        }
        3 => {
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step(h, start, end + inc, step)?
        }
        _ => return Ok(Value::str("")),
    };
    Ok(Value::str(
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

fn uniq(l: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in l {
        if !out.iter().any(|o| deep_equal(o, v)) {
            out.push(v.clone());
        }
    }
    out
}

fn sprig_slice(l: &[Value], idx: &[Value]) -> Result<Value, String> {
    let len = l.len() as i64;
    let (start, end) = match idx.len() {
        0 => (0, len),
        1 => (to_int64(&idx[0]), len),
        _ => (to_int64(&idx[0]), to_int64(&idx[1])),
    };
    if start < 0 || end > len || start > end {
        return Err(format!(
            "runtime error: slice bounds out of range [{start}:{end}] with capacity {len}"
        ));
    }
    Ok(Value::list(l[start as usize..end as usize].to_vec()))
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "list", &[], Some(Any), |_, a| {
        Ok(Value::list(a.to_vec()))
    });
    reg(m, "tuple", &[], Some(Any), |_, a| {
        Ok(Value::list(a.to_vec()))
    });
    for name in ["append", "push", "mustAppend", "mustPush"] {
        reg(m, name, &[Any, Any], None, |_, a| {
            let l = as_list(&a[0], "push")?;
            let mut v = l.to_vec();
            v.push(a[1].clone());
            Ok(Value::list(v))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        reg(m, name, &[Any, Any], None, |_, a| {
            let l = as_list(&a[0], "prepend")?;
            let mut v = vec![a[1].clone()];
            v.extend(l.iter().cloned());
            Ok(Value::list(v))
        });
    }
    for name in ["first", "mustFirst"] {
        reg(m, name, &[Any], None, |_, a| {
            Ok(as_list(&a[0], "find first")?
                .first()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        reg(m, name, &[Any], None, |_, a| {
            Ok(as_list(&a[0], "find last")?
                .last()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        reg(m, name, &[Any], None, |_, a| {
            let l = as_list(&a[0], "find rest")?;
            Ok(if l.is_empty() {
                Value::Nil
            } else {
                Value::list(l[1..].to_vec())
            })
        });
    }
    for name in ["initial", "mustInitial"] {
        reg(m, name, &[Any], None, |_, a| {
            let l = as_list(&a[0], "find initial")?;
            Ok(if l.is_empty() {
                Value::Nil
            } else {
                Value::list(l[..l.len() - 1].to_vec())
            })
        });
    }
    for name in ["reverse", "mustReverse"] {
        reg(m, name, &[Any], None, |_, a| {
            let mut v = as_list(&a[0], "find reverse")?.to_vec();
            v.reverse();
            Ok(Value::list(v))
        });
    }
    for name in ["uniq", "mustUniq"] {
        reg(m, name, &[Any], None, |_, a| {
            Ok(Value::list(uniq(as_list(&a[0], "find uniq")?)))
        });
    }
    for name in ["compact", "mustCompact"] {
        reg(m, name, &[Any], None, |_, a| {
            Ok(Value::list(
                as_list(&a[0], "compact")?
                    .iter()
                    .filter(|v| !is_empty(v))
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["without", "mustWithout"] {
        reg(m, name, &[Any], Some(Any), |_, a| {
            let l = as_list(&a[0], "find without")?;
            Ok(Value::list(
                l.iter()
                    .filter(|v| !a[1..].iter().any(|o| deep_equal(o, v)))
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        reg(m, name, &[Any, Any], None, |_, a| match &a[1] {
            Value::Nil => Ok(Value::Bool(false)),
            Value::List(l) => Ok(Value::Bool(l.iter().any(|v| deep_equal(v, &a[0])))),
            other => Err(format!("Cannot find has on type {}", other.kind_name())),
        });
    }
    for name in ["slice", "mustSlice"] {
        reg(m, name, &[Any], Some(Any), |_, a| match &a[0] {
            Value::List(l) => sprig_slice(l, &a[1..]),
            other => Err(format!(
                "list should be type of slice or array but {}",
                other.kind_name()
            )),
        });
    }
    reg(m, "concat", &[], Some(Any), |_, a| {
        let mut v = Vec::new();
        for l in a {
            match l {
                Value::List(l) => v.extend(l.iter().cloned()),
                Value::Nil => {}
                other => return Err(format!("Cannot concat type {} as list", other.kind_name())),
            }
        }
        Ok(Value::list(v))
    });
    for name in ["chunk", "mustChunk"] {
        reg(m, name, &[Int, Any], None, |_, a| {
            let size = to_int64(&a[0]);
            let l = as_list(&a[1], "chunk")?;
            if size <= 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            Ok(Value::list(
                l.chunks(size as usize)
                    .map(|c| Value::list(c.to_vec()))
                    .collect(),
            ))
        });
    }
    reg(m, "until", &[Int], None, |h, a| {
        let c = to_int64(&a[0]);
        let step = if c < 0 { -1 } else { 1 };
        Ok(int_list(until_step(h, 0, c, step)?))
    });
    reg(m, "untilStep", &[Int, Int, Int], None, |h, a| {
        Ok(int_list(until_step(
            h,
            to_int64(&a[0]),
            to_int64(&a[1]),
            to_int64(&a[2]),
        )?))
    });
    reg(m, "seq", &[], Some(Int), |h, a| {
        seq(h, &a.iter().map(to_int64).collect::<Vec<_>>())
    });
    let _ = Arc::new(0);
}
