//! Sprig's key and certificate generators, password hashing and AES helpers.
//!
//! They are registered so that every chart using them parses (Go checks
//! function names at parse time); executing one returns an error that names
//! the function, because this engine carries no RSA/X.509 backend yet.

use super::{Reg, Ty, reg};

fn unsupported(name: &str) -> String {
    format!(
        "{name} is not supported by this engine (no key/certificate backend); render this chart with the function's inputs set, or disable the generated secret"
    )
}

pub(super) fn register(m: &mut Reg) {
    use Ty::*;
    reg(m, "genPrivateKey", &[Str], None, |_, _| {
        Err(unsupported("genPrivateKey"))
    });
    reg(m, "genCA", &[Str, Int], None, |_, _| {
        Err(unsupported("genCA"))
    });
    reg(m, "genCAWithKey", &[Str, Int, Str], None, |_, _| {
        Err(unsupported("genCAWithKey"))
    });
    reg(
        m,
        "genSelfSignedCert",
        &[Str, Any, Any, Int],
        None,
        |_, _| Err(unsupported("genSelfSignedCert")),
    );
    reg(
        m,
        "genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        None,
        |_, _| Err(unsupported("genSelfSignedCertWithKey")),
    );
    reg(
        m,
        "genSignedCert",
        &[Str, Any, Any, Int, Any],
        None,
        |_, _| Err(unsupported("genSignedCert")),
    );
    reg(
        m,
        "genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        None,
        |_, _| Err(unsupported("genSignedCertWithKey")),
    );
    reg(m, "buildCustomCert", &[Str, Str], None, |_, _| {
        Err(unsupported("buildCustomCert"))
    });
    reg(
        m,
        "derivePassword",
        &[Int, Str, Str, Str, Str],
        None,
        |_, _| Err(unsupported("derivePassword")),
    );
    reg(m, "htpasswd", &[Str, Str], None, |_, _| {
        Err(unsupported("htpasswd"))
    });
    reg(m, "bcrypt", &[Str], None, |_, _| Err(unsupported("bcrypt")));
    reg(m, "encryptAES", &[Str, Str], None, |_, _| {
        Err(unsupported("encryptAES"))
    });
    reg(m, "decryptAES", &[Str, Str], None, |_, _| {
        Err(unsupported("decryptAES"))
    });
}
