//! Sprig's date functions over a `time.Time`-like host object, with Go's
//! reference-time layouts (`2006-01-02T15:04:05Z07:00`) and durations.

use jiff::{Timestamp, Zoned, tz::TimeZone};

use super::{Reg, Ty, reg, to_int64};
use crate::value::{Object, Value};

/// A Go `time.Time`.
#[derive(Debug, Clone)]
pub(crate) struct Time(pub Zoned);

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let z = &self.0;
        Some(match name {
            "Year" => Value::Int(z.year() as i64),
            "Month" => Value::Int(z.month() as i64),
            "Day" => Value::Int(z.day() as i64),
            "Hour" => Value::Int(z.hour() as i64),
            "Minute" => Value::Int(z.minute() as i64),
            "Second" => Value::Int(z.second() as i64),
            "Unix" => Value::Int(z.timestamp().as_second()),
            "UnixNano" => Value::Int(z.timestamp().as_nanosecond() as i64),
            "String" => Value::str(go_time_string(z)),
            _ => return None,
        })
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Year"
                | "Month"
                | "Day"
                | "Hour"
                | "Minute"
                | "Second"
                | "Unix"
                | "UnixNano"
                | "String"
                | "Format"
                | "UTC"
        )
    }
    fn call(&self, method: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match method {
            "Format" => Some(Ok(Value::str(go_format(
                &self.0,
                args.first().and_then(|v| v.as_str()).unwrap_or(""),
            )))),
            "UTC" => Some(Ok(Value::object(Time(
                self.0.with_time_zone(TimeZone::UTC),
            )))),
            _ => self.field(method).map(Ok),
        }
    }
    fn display(&self) -> Option<String> {
        Some(go_time_string(&self.0))
    }
}

fn go_time_string(z: &Zoned) -> String {
    go_format(z, "2006-01-02 15:04:05.999999999 -0700 MST")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Go's `time.Time.Format` with a reference-time layout.
pub(crate) fn go_format(z: &Zoned, layout: &str) -> String {
    let mut out = String::new();
    let b = layout;
    let mut i = 0;
    let offset = z.offset().seconds();
    let abbrev = {
        let s = z
            .time_zone()
            .to_offset_info(z.timestamp())
            .abbreviation()
            .to_string();
        if s.is_empty() { "UTC".to_string() } else { s }
    };
    while i < b.len() {
        let r = &b[i..];
        let take = |p: &str| r.starts_with(p);
        let (s, n): (String, usize) = if take("January") {
            (MONTHS[z.month() as usize - 1].into(), 7)
        } else if take("Jan") {
            (MONTHS[z.month() as usize - 1][..3].into(), 3)
        } else if take("Monday") {
            (DAYS[z.weekday().to_monday_zero_offset() as usize].into(), 6)
        } else if take("Mon") {
            (
                DAYS[z.weekday().to_monday_zero_offset() as usize][..3].into(),
                3,
            )
        } else if take("MST") {
            (abbrev.clone(), 3)
        } else if take("2006") {
            (format!("{:04}", z.year()), 4)
        } else if take("06") {
            (format!("{:02}", z.year() % 100), 2)
        } else if take("01") {
            (format!("{:02}", z.month()), 2)
        } else if take("02") {
            (format!("{:02}", z.day()), 2)
        } else if take("_2") {
            (format!("{:>2}", z.day()), 2)
        } else if take("002") {
            (format!("{:03}", z.day_of_year()), 3)
        } else if take("15") {
            (format!("{:02}", z.hour()), 2)
        } else if take("03") {
            (format!("{:02}", (z.hour() + 11) % 12 + 1), 2)
        } else if take("04") {
            (format!("{:02}", z.minute()), 2)
        } else if take("05") {
            (format!("{:02}", z.second()), 2)
        } else if take("PM") {
            ((if z.hour() >= 12 { "PM" } else { "AM" }).into(), 2)
        } else if take("pm") {
            ((if z.hour() >= 12 { "pm" } else { "am" }).into(), 2)
        } else if take("Z07:00")
            || take("-07:00")
            || take("Z0700")
            || take("-0700")
            || take("Z07")
            || take("-07")
        {
            let z_form = r.starts_with('Z');
            let spec_len = if take("Z07:00") || take("-07:00") {
                6
            } else if take("Z0700") || take("-0700") {
                5
            } else {
                3
            };
            if z_form && offset == 0 {
                ("Z".into(), spec_len)
            } else {
                let sign = if offset < 0 { '-' } else { '+' };
                let a = offset.abs();
                let (h, m) = (a / 3600, (a % 3600) / 60);
                let s = match spec_len {
                    6 => format!("{sign}{h:02}:{m:02}"),
                    5 => format!("{sign}{h:02}{m:02}"),
                    _ => format!("{sign}{h:02}"),
                };
                (s, spec_len)
            }
        } else if take("1") && !take("15") {
            (z.month().to_string(), 1)
        } else if take("2") && !take("2006") {
            (z.day().to_string(), 1)
        } else if take("3") {
            (((z.hour() + 11) % 12 + 1).to_string(), 1)
        } else if take("4") {
            (z.minute().to_string(), 1)
        } else if take("5") {
            (z.second().to_string(), 1)
        } else if (take(".0") || take(".9") || take(",0") || take(",9"))
            && r[1..].starts_with(['0', '9'])
        {
            let digit = r.as_bytes()[1];
            let n = r[1..].bytes().take_while(|c| *c == digit).count();
            let nanos = format!("{:09}", z.subsec_nanosecond());
            let frac = &nanos[..n.min(9)];
            let s = if digit == b'9' {
                let t = frac.trim_end_matches('0');
                if t.is_empty() {
                    String::new()
                } else {
                    format!("{}{t}", &r[..1])
                }
            } else {
                format!("{}{frac}", &r[..1])
            };
            (s, 1 + n)
        } else {
            let c = r.chars().next().unwrap_or(' ');
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&s);
        i += n;
    }
    out
}

fn to_time(v: &Value) -> Option<Zoned> {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            let s = o.display()?;
            parse_go_time_string(&s)
        }
        Value::Int(i) => Timestamp::from_second(*i)
            .ok()
            .map(|t| t.to_zoned(TimeZone::system())),
        Value::Float(f) => Timestamp::from_second(*f as i64)
            .ok()
            .map(|t| t.to_zoned(TimeZone::system())),
        _ => None,
    }
}

fn parse_go_time_string(s: &str) -> Option<Zoned> {
    // "2006-01-02 15:04:05.999999999 -0700 MST"
    let mut parts = s.split(' ');
    let d = parts.next()?;
    let t = parts.next()?;
    let off = parts.next()?;
    let iso = format!("{d}T{t}{}:{}", &off[..3], &off[3..5]);
    let ts: Timestamp = iso.parse().ok()?;
    let secs: i32 = off[1..3].parse::<i32>().ok()? * 3600 + off[3..5].parse::<i32>().ok()? * 60;
    let secs = if off.starts_with('-') { -secs } else { secs };
    Some(ts.to_zoned(TimeZone::fixed(jiff::tz::Offset::from_seconds(secs).ok()?)))
}

fn now() -> Zoned {
    Zoned::now()
}

fn zone(name: &str) -> TimeZone {
    if name.is_empty() || name == "UTC" {
        return TimeZone::UTC;
    }
    if name == "Local" {
        return TimeZone::system();
    }
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Go's `time.Duration.String`.
pub(crate) fn duration_string(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let s = if u < 1_000_000_000 {
        if u < 1000 {
            format!("{u}ns")
        } else if u < 1_000_000 {
            format!("{}µs", trim_frac(u as f64 / 1e3))
        } else {
            format!("{}ms", trim_frac(u as f64 / 1e6))
        }
    } else {
        let total_secs = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let h = total_secs / 3600;
        let m = (total_secs % 3600) / 60;
        let sec = total_secs % 60;
        let secs = if frac == 0 {
            format!("{sec}")
        } else {
            format!("{sec}.{}", format!("{frac:09}").trim_end_matches('0'))
        };
        if h > 0 {
            format!("{h}h{m}m{secs}s")
        } else if m > 0 {
            format!("{m}m{secs}s")
        } else {
            format!("{secs}s")
        }
    };
    if neg { format!("-{s}") } else { s }
}

fn trim_frac(f: f64) -> String {
    let s = format!("{f:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Go's `time.ParseDuration` (nanoseconds).
pub(crate) fn parse_duration(s: &str) -> Result<i128, String> {
    let orig = s;
    let bad = || format!("time: invalid duration {}", crate::gofmt::quote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let numlen = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        if numlen == 0 {
            return Err(bad());
        }
        let num: f64 = s[..numlen].parse().map_err(|_| bad())?;
        s = &s[numlen..];
        let ulen = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = match &s[..ulen] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    crate::gofmt::quote(orig)
                ));
            }
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::gofmt::quote(u),
                    crate::gofmt::quote(orig)
                ));
            }
        };
        total += num * unit;
        s = &s[ulen..];
    }
    let n = total.round() as i128;
    Ok(if neg { -n } else { n })
}

fn parse_with_layout(layout: &str, value: &str, tz: TimeZone) -> Result<Zoned, String> {
    // Supports the layouts charts use: translate Go's layout to strptime.
    let mut fmt = String::new();
    let mut i = 0;
    let map: [(&str, &str); 20] = [
        ("2006", "%Y"),
        ("January", "%B"),
        ("Jan", "%b"),
        ("Monday", "%A"),
        ("Mon", "%a"),
        ("01", "%m"),
        ("02", "%d"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("PM", "%p"),
        ("Z07:00", "%:z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("MST", "%Z"),
        ("06", "%y"),
        (".000000000", ".%f"),
        (".999999999", "%.f"),
        (".000", ".%3f"),
    ];
    'outer: while i < layout.len() {
        for (g, p) in map {
            if layout[i..].starts_with(g) {
                fmt.push_str(p);
                i += g.len();
                continue 'outer;
            }
        }
        let c = layout[i..].chars().next().unwrap_or(' ');
        if c == '%' {
            fmt.push_str("%%");
        } else {
            fmt.push(c);
        }
        i += c.len_utf8();
    }
    let value_z = if value.ends_with('Z') && layout.contains("Z07") {
        format!("{}+00:00", &value[..value.len() - 1])
    } else {
        value.to_string()
    };
    let bt = jiff::fmt::strtime::BrokenDownTime::parse(&fmt, &value_z).map_err(|e| {
        format!(
            "parsing time {} as {}: {e}",
            crate::gofmt::quote(value),
            crate::gofmt::quote(layout)
        )
    })?;
    if bt.offset().is_some() {
        let ts = bt.to_timestamp().map_err(|e| e.to_string())?;
        return Ok(ts.to_zoned(TimeZone::fixed(
            bt.offset().unwrap_or(jiff::tz::Offset::UTC),
        )));
    }
    let mut bt = bt;
    if bt.hour().is_none() {
        bt.set_hour(Some(0)).map_err(|e| e.to_string())?;
        bt.set_minute(Some(0)).map_err(|e| e.to_string())?;
        bt.set_second(Some(0)).map_err(|e| e.to_string())?;
    }
    let dt = bt.to_datetime().map_err(|e| e.to_string())?;
    dt.to_zoned(tz).map_err(|e| e.to_string())
}

fn time_val(z: Zoned) -> Value {
    Value::object(Time(z))
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "now", &[], None, |_, _| Ok(time_val(now())));
    reg(m, "date", &[Str, Any], None, |_, a| {
        let z = to_time(&a[1]).unwrap_or_else(now);
        Ok(Value::str(go_format(&z, a[0].as_str().unwrap_or(""))))
    });
    for name in ["dateInZone", "date_in_zone"] {
        reg(m, name, &[Str, Any, Str], None, |_, a| {
            let z = to_time(&a[1])
                .unwrap_or_else(now)
                .with_time_zone(zone(a[2].as_str().unwrap_or("")));
            Ok(Value::str(go_format(&z, a[0].as_str().unwrap_or(""))))
        });
    }
    reg(m, "htmlDate", &[Any], None, |_, a| {
        Ok(Value::str(go_format(
            &to_time(&a[0]).unwrap_or_else(now),
            "2006-01-02",
        )))
    });
    reg(m, "htmlDateInZone", &[Any, Str], None, |_, a| {
        Ok(Value::str(go_format(
            &to_time(&a[0])
                .unwrap_or_else(now)
                .with_time_zone(zone(a[1].as_str().unwrap_or(""))),
            "2006-01-02",
        )))
    });
    reg(m, "unixEpoch", &[Any], None, |_, a| {
        Ok(Value::str(
            to_time(&a[0])
                .map(|z| z.timestamp().as_second())
                .unwrap_or(0)
                .to_string(),
        ))
    });
    for (name, must) in [
        ("dateModify", false),
        ("date_modify", false),
        ("mustDateModify", true),
        ("must_date_modify", true),
    ] {
        let f: super::NativeFn = if must {
            |_, a| {
                let d = parse_duration(a[0].as_str().unwrap_or(""))?;
                let z = to_time(&a[1]).unwrap_or_else(now);
                Ok(time_val(
                    z.checked_add(jiff::SignedDuration::from_nanos(d as i64))
                        .map_err(|e| e.to_string())?,
                ))
            }
        } else {
            |_, a| {
                let z = to_time(&a[1]).unwrap_or_else(now);
                match parse_duration(a[0].as_str().unwrap_or("")) {
                    Ok(d) => Ok(time_val(
                        z.checked_add(jiff::SignedDuration::from_nanos(d as i64))
                            .unwrap_or(z),
                    )),
                    Err(_) => Ok(time_val(z)),
                }
            }
        };
        reg(m, name, &[Str, Any], None, f);
    }
    reg(m, "ago", &[Any], None, |_, a| {
        let z = to_time(&a[0]).unwrap_or_else(now);
        let d = now().timestamp().as_second() - z.timestamp().as_second();
        Ok(Value::str(duration_string(d as i128 * 1_000_000_000)))
    });
    reg(m, "duration", &[Any], None, |_, a| {
        // Sprig accepts only string and int64; a template's int literal counts as 0.
        let secs = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            _ => 0,
        };
        Ok(Value::str(duration_string(secs as i128 * 1_000_000_000)))
    });
    reg(m, "durationRound", &[Any], None, |_, a| {
        let nanos: i128 = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            Value::Object(_) => {
                let z = to_time(&a[0]).unwrap_or_else(now);
                (now().timestamp().as_nanosecond() - z.timestamp().as_nanosecond()).abs()
            }
            v => to_int64(v) as i128,
        };
        let u = nanos.unsigned_abs();
        let (sec, min, hour, day, month, year) = (
            1_000_000_000u128,
            60_000_000_000u128,
            3_600_000_000_000u128,
            86_400_000_000_000u128,
            2_592_000_000_000_000u128,
            31_536_000_000_000_000u128,
        );
        let s = if u > year {
            format!("{}y", u / year)
        } else if u > month {
            format!("{}mo", u / month)
        } else if u > day {
            format!("{}d", u / day)
        } else if u > hour {
            format!("{}h", u / hour)
        } else if u > min {
            format!("{}m", u / min)
        } else if u > sec {
            format!("{}s", u / sec)
        } else {
            "0s".to_string()
        };
        Ok(Value::str(if nanos < 0 { format!("-{s}") } else { s }))
    });
    reg(m, "toDate", &[Str, Str], None, |_, a| {
        Ok(
            match parse_with_layout(
                a[0].as_str().unwrap_or(""),
                a[1].as_str().unwrap_or(""),
                TimeZone::system(),
            ) {
                Ok(z) => time_val(z),
                Err(_) => time_val(
                    Timestamp::UNIX_EPOCH
                        .to_zoned(TimeZone::UTC)
                        .with_time_zone(TimeZone::UTC),
                ),
            },
        )
    });
    reg(m, "mustToDate", &[Str, Str], None, |_, a| {
        Ok(time_val(parse_with_layout(
            a[0].as_str().unwrap_or(""),
            a[1].as_str().unwrap_or(""),
            TimeZone::system(),
        )?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts_format_like_go() {
        let z: Zoned = "2021-03-04T05:06:07.5+00:00[UTC]".parse().unwrap();
        assert_eq!(
            go_format(&z, "2006-01-02T15:04:05Z07:00"),
            "2021-03-04T05:06:07Z"
        );
        assert_eq!(
            go_format(&z, "Jan 2, 2006 at 3:04pm (MST)"),
            "Mar 4, 2021 at 5:06am (UTC)"
        );
        assert_eq!(go_format(&z, "15:04:05.000"), "05:06:07.500");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(duration_string(90 * 1_000_000_000), "1m30s");
        assert_eq!(duration_string(3600 * 1_000_000_000), "1h0m0s");
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
    }
}
