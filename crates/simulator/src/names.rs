//! Names and hashes as the real controllers compute them: the `pod-template-hash` (FNV-1a over the
//! template, encoded with apimachinery's "safe" alphabet), and the 5-character suffix of Pods.
//!
//! kube-controller-manager hashes a template by printing it with go-spew; we hash its canonical JSON
//! instead (the same inputs give the same hash, a changed template a new one — what users rely on).
//! Pod suffixes are derived from the owner's uid and a slot number instead of random: a controller
//! that crashes half-way and runs again computes the same names, so creating twice cannot double Pods.

use serde_json::Value;

/// apimachinery's `rand.SafeEncodeString` alphabet: no vowels (no words), no confusable characters.
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// 32-bit FNV-1a.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// apimachinery's `SafeEncodeString`: every byte mapped onto the safe alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| SAFE[usize::from(b) % SAFE.len()] as char)
        .collect()
}

/// The `pod-template-hash` of a Deployment's Pod template (with its `collisionCount`), as
/// `controller.ComputeHash`: FNV-1a of the template, the collision count appended, printed in decimal
/// and safe-encoded.
pub fn template_hash(template: &Value, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(&canonical(template)).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

/// The `controller-revision-hash` of a StatefulSet's or DaemonSet's template.
pub fn revision_hash(template: &Value) -> String {
    template_hash(template, None)
}

/// `<owner>-<5 chars>`: the name of the Pod in `slot` of the owner with `owner_uid`.
///
/// The suffix is a 5-digit base-27 number over the safe alphabet: the owner's hash plus `slot` times
/// a multiplier prime to 27^5, so the first 27^5 slots of one owner never collide yet look random.
pub fn pod_name(owner: &str, owner_uid: &str, slot: u32) -> String {
    const SPACE: u64 = 27u64.pow(5);
    const STEP: u64 = 2_654_435_761; // not divisible by 3, hence prime to 27^5
    let mut n = (u64::from(fnv32a(owner_uid.as_bytes())) + u64::from(slot) * STEP) % SPACE;
    let mut suffix = [0u8; 5];
    for c in suffix.iter_mut().rev() {
        *c = SAFE[(n % 27) as usize];
        n /= 27;
    }
    format!("{owner}-{}", String::from_utf8_lossy(&suffix))
}

/// Object keys sorted recursively, so that the hash does not depend on field order.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn safe_encoding_uses_only_the_safe_alphabet() {
        // apimachinery maps byte b to alphanums[b % 27]: '0' (48) → 48 % 27 = 21 → '4'.
        assert_eq!(safe_encode("0"), "4");
        assert_eq!(safe_encode("1234"), "5678");
    }

    #[test]
    fn template_hash_is_stable_across_field_order_and_changes_with_the_template() {
        let a = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"image": "x:1", "name": "c"}]}, "metadata": {"labels": {"app": "web"}}});
        let c = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x:2"}]}});
        assert_eq!(template_hash(&a, None), template_hash(&b, None));
        assert_ne!(template_hash(&a, None), template_hash(&c, None));
        assert_ne!(template_hash(&a, None), template_hash(&a, Some(1)));
        assert!(template_hash(&a, None).bytes().all(|b| SAFE.contains(&b)));
    }

    #[test]
    fn pod_names_are_owner_dash_five_safe_chars_and_distinct_per_slot() {
        let names: Vec<String> = (0..2000)
            .map(|i| pod_name("web-7d4b9c", "uid-1", i))
            .collect();
        for n in &names {
            let suffix = n.strip_prefix("web-7d4b9c-").unwrap();
            assert_eq!(suffix.len(), 5, "{n}");
            assert!(suffix.bytes().all(|b| SAFE.contains(&b)), "{n}");
        }
        let mut uniq = names.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), names.len());
        assert_eq!(pod_name("web-7d4b9c", "uid-1", 3), names[3], "stable");
        assert_ne!(pod_name("web-7d4b9c", "uid-2", 3), names[3]);
    }
}
