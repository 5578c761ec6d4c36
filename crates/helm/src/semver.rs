//! Semantic versions and constraints as Helm reads them (Masterminds/semver v3), used for
//! `kubeVersion` checks and dependency version matching. The implementation is the template engine's
//! (`semverCompare` is the same library in Helm), so the two can never disagree.

pub use gotemplate::funcs::semver::{Constraints, Version};

/// Helm's `IsCompatibleRange(constraint, version)`: false when either does not parse, and for an
/// empty constraint (a chart that states no range satisfies none; `semverCompare ""` is lenient).
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    if constraint.trim().is_empty() {
        return false;
    }
    match (Constraints::parse(constraint), Version::parse(version)) {
        (Ok(c), Ok(v)) => c.check(&v),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_constraints_match_helm() {
        assert!(is_compatible_range(">=1.19.0-0", "v1.31.0"));
        assert!(!is_compatible_range(">=1.19.0-0", "v1.10.0"));
        assert!(is_compatible_range("^1.10.0-0", "v1.10.0"));
        assert!(!is_compatible_range("^1.25.0-0", "v1.10.0"));
        assert!(is_compatible_range(">= 1.20.0-0", "v1.31.0"));
        assert!(is_compatible_range(">=1.20 <2", "1.31.0"));
        assert!(is_compatible_range("~1.2", "1.2.9"));
        assert!(!is_compatible_range("~1.2", "1.3.0"));
        assert!(is_compatible_range("1.2.x", "1.2.5"));
        assert!(is_compatible_range("1.0 - 2.0", "1.5.0"));
        assert!(is_compatible_range("<1 || >=3", "3.1.0"));
        assert!(is_compatible_range("2.x.x", "2.31.10"));
        assert!(!is_compatible_range("", "1.0.0"));
        assert!(is_compatible_range("*", "1.0.0"));
    }

    #[test]
    fn lenient_versions_parse() {
        assert!(Version::parse("1").is_ok());
        assert!(Version::parse("v1.2").is_ok());
        assert!(Version::parse("1.2.3-rc.1+meta").is_ok());
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("abc").is_err());
    }
}
