//! Deterministic identifiers.
//!
//! Mesos draws UUIDs at random (status update uuids, the master's id). Cores may
//! not draw randomness, so mesocosm derives them: a UUID is the first 16 bytes of
//! SHA-256 over the parts that make it unique (an actor name and a counter, or
//! the root seed), stamped as version 4. Same inputs, same id, on every machine.

use sha2::{Digest, Sha256};

/// SHA-256 over `parts`, each prefixed with its length so that `["ab", "c"]`
/// and `["a", "bc"]` differ. Every derived id and seed in mesocosm comes from here.
pub fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// A UUID (16 bytes, RFC 4122 version 4 layout) derived from `parts`.
pub fn uuid_from(parts: &[&[u8]]) -> [u8; 16] {
    let d = digest(parts);
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// The canonical text form `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn uuid_string(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_uuid_and_version_4_layout() {
        let a = uuid_from(&[b"agent-1", &7u64.to_le_bytes()]);
        assert_eq!(a, uuid_from(&[b"agent-1", &7u64.to_le_bytes()]));
        assert_ne!(a, uuid_from(&[b"agent-1", &8u64.to_le_bytes()]));
        let s = uuid_string(&a);
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
    }
}
