//! A group member's data: the master's `MasterInfo` as JSON, what Mesos ≥ 0.24
//! writes into its `json.info_N` node (`src/master/contender/zookeeper.cpp`
//! serialises it with `JSON::protobuf`; `src/master/detector/zookeeper.cpp`
//! parses it back with `protobuf::parse<MasterInfo>`). Detectors (agents,
//! scheduler drivers) read the leader's hostname and port from it to know
//! whom to (re-)register with.

use mesocosm_proto::v1::MasterInfo;
use serde_json::{Value, json};

/// `info` as the JSON a master's contender writes (fields in `MasterInfo`'s
/// field order, as `JSON::protobuf` walks the descriptor).
pub fn encode(info: &MasterInfo) -> Vec<u8> {
    let mut fields: Vec<(&str, Value)> =
        vec![("id", json!(info.id)), ("ip", json!(info.ip)), ("port", json!(info.port))];
    if let Some(pid) = &info.pid {
        fields.push(("pid", json!(pid)));
    }
    if let Some(h) = &info.hostname {
        fields.push(("hostname", json!(h)));
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", json!(k))).collect();
    format!("{{{}}}", body.join(",")).into_bytes()
}

/// The `MasterInfo` in a member's data, or why it is not one (a detector
/// that cannot parse the leader's data reports it, as Mesos's does).
pub fn decode(data: &[u8]) -> Result<MasterInfo, String> {
    let v: Value = serde_json::from_slice(data).map_err(|e| format!("not JSON: {e}"))?;
    let id = v.get("id").and_then(Value::as_str).ok_or("no `id`")?.to_string();
    let port = v.get("port").and_then(Value::as_u64).ok_or("no `port`")? as u32;
    let ip = v.get("ip").and_then(Value::as_u64).unwrap_or(0) as u32;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(MasterInfo { id, ip, port, pid: text("pid"), hostname: text("hostname"), ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_info_round_trips_as_the_json_mesos_writes() {
        let info = MasterInfo {
            id: "c0ffee".into(),
            ip: 0,
            port: 5050,
            pid: Some("master@master-2:5050".into()),
            hostname: Some("master-2".into()),
            ..Default::default()
        };
        let data = encode(&info);
        assert_eq!(
            String::from_utf8(data.clone()).unwrap(),
            r#"{"id":"c0ffee","ip":0,"port":5050,"pid":"master@master-2:5050","hostname":"master-2"}"#
        );
        assert_eq!(decode(&data), Ok(info));
        assert_eq!(decode(b"master-1"), Err("not JSON: expected value at line 1 column 1".to_string()));
    }
}
