//! `/healthz`, `/livez` and `/readyz` as kube-apiserver answers them: `ok` when every check
//! passes, the list of checks with `?verbose` (`[+]ping ok` … `readyz check passed`), one check
//! at `/readyz/<check>`, checks left out with `?exclude=<check>`, and a 500 naming the failed
//! check (its reason withheld, as kube-apiserver does) when one fails.
//!
//! Pure: the caller runs the checks and gives their outcomes; nothing here reads the store.

/// One check's outcome: `Err` carries why it failed.
pub struct Check {
    pub name: &'static str,
    pub outcome: Result<(), String>,
}

/// The checks each endpoint runs, in kube-apiserver's order (`shutdown` only on `readyz`).
pub fn check_names(endpoint: &str) -> &'static [&'static str] {
    match endpoint {
        "readyz" => &["ping", "log", "etcd", "shutdown"],
        _ => &["ping", "log", "etcd"],
    }
}

/// The status code and text body of `endpoint` (`healthz`, `livez`, `readyz`), optionally one
/// check of it (`sub`), given the query string and the checks' outcomes.
pub fn answer(
    endpoint: &str,
    sub: Option<&str>,
    query: Option<&str>,
    checks: &[Check],
) -> (u16, String) {
    if let Some(name) = sub {
        return match checks.iter().find(|c| c.name == name) {
            Some(Check {
                outcome: Ok(()), ..
            }) => (200, "ok".into()),
            Some(Check {
                outcome: Err(why), ..
            }) => (500, format!("internal server error: {why}\n")),
            None => (404, "404 page not found\n".into()),
        };
    }
    let pairs: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let verbose = pairs.iter().any(|(k, _)| k == "verbose");
    let excluded = |name: &str| pairs.iter().any(|(k, v)| k == "exclude" && v == name);
    let mut failed = false;
    let mut lines = String::new();
    for c in checks {
        let line = if excluded(c.name) {
            format!("[+]{} excluded: ok\n", c.name)
        } else if c.outcome.is_ok() {
            format!("[+]{} ok\n", c.name)
        } else {
            failed = true;
            format!("[-]{} failed: reason withheld\n", c.name)
        };
        lines.push_str(&line);
    }
    match (failed, verbose) {
        (true, _) => (500, format!("{lines}{endpoint} check failed\n")),
        (false, true) => (200, format!("{lines}{endpoint} check passed\n")),
        (false, false) => (200, "ok".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(fail: Option<&'static str>) -> Vec<Check> {
        check_names("readyz")
            .iter()
            .map(|&name| Check {
                name,
                outcome: if Some(name) == fail {
                    Err("shutting down".into())
                } else {
                    Ok(())
                },
            })
            .collect()
    }

    #[test]
    fn all_passing_is_ok_and_verbose_lists_each_check() {
        assert_eq!(
            answer("readyz", None, None, &checks(None)),
            (200, "ok".into())
        );
        assert_eq!(
            answer("readyz", None, Some("verbose"), &checks(None)),
            (
                200,
                "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n".into()
            )
        );
    }

    #[test]
    fn a_failed_check_is_a_500_naming_it_with_the_reason_withheld_unless_excluded() {
        let (code, body) = answer("readyz", None, None, &checks(Some("shutdown")));
        assert_eq!(code, 500);
        assert!(
            body.contains("[-]shutdown failed: reason withheld\n"),
            "{body}"
        );
        assert!(body.ends_with("readyz check failed\n"), "{body}");
        assert!(
            !body.contains("shutting down"),
            "the reason is withheld: {body}"
        );
        let (code, body) = answer(
            "readyz",
            None,
            Some("verbose&exclude=shutdown"),
            &checks(Some("shutdown")),
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("[+]shutdown excluded: ok\n"), "{body}");
    }

    #[test]
    fn one_check_by_path_and_an_unknown_one_is_404() {
        assert_eq!(
            answer("livez", Some("etcd"), None, &checks(None)),
            (200, "ok".into())
        );
        assert_eq!(
            answer("readyz", Some("shutdown"), None, &checks(Some("shutdown"))),
            (500, "internal server error: shutting down\n".into())
        );
        assert_eq!(answer("readyz", Some("nope"), None, &checks(None)).0, 404);
    }
}
