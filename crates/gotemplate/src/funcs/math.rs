//! Sprig's math: integer functions through cast's `ToInt64`, float functions
//! (`addf` ...) through decimal arithmetic as shopspring/decimal does.

use super::{Reg, Ty, reg, to_float64, to_int64};
use crate::value::Value;

/// A small exact decimal: mantissa × 10^-scale.
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    scale: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = crate::gofmt::format_float(f, 'f', -1);
        let neg = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (ip, fp) = s.split_once('.').unwrap_or((s, ""));
        if ip.len() + fp.len() > 36 {
            return None;
        }
        let m: i128 = format!("{ip}{fp}").parse().ok()?;
        Some(Dec {
            m: if neg { -m } else { m },
            scale: fp.len() as u32,
        })
    }
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
        let s = a.scale.max(b.scale);
        let am = a.m.checked_mul(10i128.checked_pow(s - a.scale)?)?;
        let bm = b.m.checked_mul(10i128.checked_pow(s - b.scale)?)?;
        Some((am, bm, s))
    }
    fn to_f64(self) -> f64 {
        let s = if self.scale == 0 {
            self.m.to_string()
        } else {
            let neg = self.m < 0;
            let digits = self.m.unsigned_abs().to_string();
            let sc = self.scale as usize;
            let padded = if digits.len() <= sc {
                format!("{}{}", "0".repeat(sc - digits.len() + 1), digits)
            } else {
                digits
            };
            let (i, f) = padded.split_at(padded.len() - sc);
            format!("{}{}.{}", if neg { "-" } else { "" }, i, f)
        };
        s.parse().unwrap_or(0.0)
    }
}

fn dec_op(
    args: &[Value],
    start: f64,
    op: fn(f64, f64) -> f64,
    dop: fn(Dec, Dec) -> Option<Dec>,
) -> f64 {
    let mut acc_f = start;
    let mut acc_d = Dec::from_f64(start);
    for (i, a) in args.iter().enumerate() {
        let x = to_float64(a);
        if i == 0 && start.is_nan() {
            acc_f = x;
            acc_d = Dec::from_f64(x);
            continue;
        }
        acc_f = op(acc_f, x);
        acc_d = match (acc_d, Dec::from_f64(x)) {
            (Some(p), Some(q)) => dop(p, q),
            _ => None,
        };
    }
    match acc_d {
        Some(d) => d.to_f64(),
        None => acc_f,
    }
}

fn dadd(a: Dec, b: Dec) -> Option<Dec> {
    let (x, y, s) = Dec::align(a, b)?;
    Some(Dec {
        m: x.checked_add(y)?,
        scale: s,
    })
}
fn dsub(a: Dec, b: Dec) -> Option<Dec> {
    let (x, y, s) = Dec::align(a, b)?;
    Some(Dec {
        m: x.checked_sub(y)?,
        scale: s,
    })
}
fn dmul(a: Dec, b: Dec) -> Option<Dec> {
    Some(Dec {
        m: a.m.checked_mul(b.m)?,
        scale: a.scale + b.scale,
    })
}

fn int_args(a: &[Value]) -> Vec<i64> {
    a.iter().map(to_int64).collect()
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "add1", &[Any], None, |_, a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_add(1)))
    });
    reg(m, "add", &[], Some(Any), |_, a| {
        Ok(Value::Int(
            int_args(a).into_iter().fold(0i64, |x, y| x.wrapping_add(y)),
        ))
    });
    reg(m, "sub", &[Any, Any], None, |_, a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    reg(m, "mul", &[Any], Some(Any), |_, a| {
        Ok(Value::Int(
            int_args(a).into_iter().fold(1i64, |x, y| x.wrapping_mul(y)),
        ))
    });
    reg(m, "div", &[Any, Any], None, |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_div(d)))
    });
    reg(m, "mod", &[Any, Any], None, |_, a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_rem(d)))
    });
    for name in ["max", "biggest"] {
        reg(m, name, &[Any], Some(Any), |_, a| {
            Ok(Value::Int(int_args(a).into_iter().max().unwrap_or(0)))
        });
    }
    reg(m, "min", &[Any], Some(Any), |_, a| {
        Ok(Value::Int(int_args(a).into_iter().min().unwrap_or(0)))
    });
    reg(m, "maxf", &[Any], Some(Any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::NEG_INFINITY, f64::max),
        ))
    });
    reg(m, "minf", &[Any], Some(Any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::INFINITY, f64::min),
        ))
    });
    reg(m, "add1f", &[Any], None, |_, a| {
        Ok(Value::Float(dec_op(
            &[a[0].clone(), Value::Float(1.0)],
            f64::NAN,
            |x, y| x + y,
            dadd,
        )))
    });
    reg(m, "addf", &[], Some(Any), |_, a| {
        Ok(Value::Float(dec_op(a, 0.0, |x, y| x + y, dadd)))
    });
    reg(m, "subf", &[Any], Some(Any), |_, a| {
        Ok(Value::Float(dec_op(a, f64::NAN, |x, y| x - y, dsub)))
    });
    reg(m, "mulf", &[Any], Some(Any), |_, a| {
        Ok(Value::Float(dec_op(a, 1.0, |x, y| x * y, dmul)))
    });
    reg(m, "divf", &[Any], Some(Any), |_, a| {
        let mut acc = to_float64(&a[0]);
        for x in &a[1..] {
            let d = to_float64(x);
            if d == 0.0 {
                return Err("decimal division by 0".into());
            }
            acc /= d;
        }
        // shopspring/decimal divides with 16 digits of precision
        let r: f64 = format!("{acc:.16e}").parse().unwrap_or(acc);
        Ok(Value::Float(r))
    });
    reg(m, "floor", &[Any], None, |_, a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    reg(m, "ceil", &[Any], None, |_, a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    reg(m, "round", &[Any, Int], Some(Float), |_, a| {
        let round_on = a.get(2).map(to_float64).unwrap_or(0.5);
        let val = to_float64(&a[0]);
        let pow = 10f64.powf(to_int64(&a[1]) as f64);
        let digit = pow * val;
        let frac = digit.fract();
        let r = if frac >= round_on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });
    reg(m, "randInt", &[Int, Int], None, |_, a| {
        let (lo, hi) = (to_int64(&a[0]), to_int64(&a[1]));
        if hi <= lo {
            return Err("invalid argument to Intn".into());
        }
        Ok(Value::Int(fastrand::i64(lo..hi)))
    });
}
