//! A trace record's `bytes` as JSON, decoded by its message name.
//!
//! Each message record names its protobuf message (`proto`) and carries its
//! exact encoding (`bytes`, base64). The descriptors of every message mesocosm
//! sends are compiled into the binary (`mesocosm_proto::DESCRIPTORS`), so a
//! record decodes without protoc, into protobuf's canonical JSON mapping:
//! lowerCamelCase field names, enums by name, 64-bit integers as strings.

use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;

/// Decodes messages by name.
pub struct Decoder {
    pool: DescriptorPool,
}

impl Decoder {
    /// A decoder for every message of the built-in `.proto` files.
    pub fn new() -> Decoder {
        // The descriptors are written by this crate's own build; a failure here
        // is a broken build, which the tests catch.
        let pool = DescriptorPool::decode(mesocosm_proto::DESCRIPTORS).expect("the built-in descriptors decode");
        Decoder { pool }
    }

    /// The message `proto` (e.g. `mesos.v1.scheduler.Call`) encoded as `bytes` (base64), as JSON.
    pub fn decode(&self, proto: &str, bytes: &str) -> Result<Value, String> {
        use base64::Engine;
        let desc = self.pool.get_message_by_name(proto).ok_or_else(|| format!("no message is named `{proto}`"))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(bytes)
            .map_err(|e| format!("`bytes` is not base64: {e}"))?;
        let msg =
            DynamicMessage::decode(desc, raw.as_slice()).map_err(|e| format!("`bytes` is not a `{proto}`: {e}"))?;
        serde_json::to_value(&msg).map_err(|e| format!("`{proto}` has no JSON form: {e}"))
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use mesocosm_proto::scheduler;
    use mesocosm_sim::Msg;

    #[test]
    fn a_call_decodes_by_name_into_protobufs_json_mapping() {
        let call = scheduler::Call {
            r#type: Some(scheduler::call::Type::Decline as i32),
            framework_id: Some(mesocosm_proto::v1::FrameworkId { value: "f-0000".into() }),
            decline: Some(scheduler::call::Decline {
                offer_ids: vec![mesocosm_proto::v1::OfferId { value: "O7".into() }],
                filters: Some(mesocosm_proto::v1::Filters { refuse_seconds: Some(120.0) }),
            }),
            ..Default::default()
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(Msg::from(call).encode());
        let v = Decoder::new().decode("mesos.v1.scheduler.Call", &b64).unwrap();
        assert_eq!(v["type"], "DECLINE");
        assert_eq!(v["frameworkId"]["value"], "f-0000");
        assert_eq!(v["decline"]["offerIds"][0]["value"], "O7");
        assert_eq!(v["decline"]["filters"]["refuseSeconds"], 120.0);
    }

    #[test]
    fn unknown_names_and_bad_bytes_are_errors() {
        let d = Decoder::new();
        assert_eq!(d.decode("mesos.v1.Nope", "").unwrap_err(), "no message is named `mesos.v1.Nope`");
        assert!(d.decode("mesos.v1.scheduler.Call", "!!").unwrap_err().starts_with("`bytes` is not base64"));
        // 0x0a 0x05: field 1 (length-delimited) says five bytes follow; none do.
        let truncated = base64::engine::general_purpose::STANDARD.encode([0x0a, 0x05]);
        assert!(
            d.decode("mesos.v1.scheduler.Call", &truncated)
                .unwrap_err()
                .starts_with("`bytes` is not a `mesos.v1.scheduler.Call`")
        );
    }
}
