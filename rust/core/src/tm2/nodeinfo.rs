//! The amino encoding of `types.NodeInfo` (`tm2/pkg/p2p/types/node_info.go`).
//!
//! Fields: 1 VersionSet (repeated VersionInfo{1 name, 2 version, 3 optional}),
//! 2 NetAddress (string `id@ip:port`, always written), 3 Network, 4 Software,
//! 5 Version, 6 Channels (bytes), 7 Moniker, 8 Other{1 TxIndex, 2 RPCAddress}.
//! Semantic validation (`Validate`, `CompatibleWith`) lives in Python; this
//! module only owns the bytes.
use super::amino::{self, Fields, Value};
use crate::error::{CoreError, CoreResult};

/// gno's `MaxNodeInfoSize`: the sized NodeInfo, prefix included, may not
/// exceed this, so a peer cannot make us buffer a huge blob during the handshake.
pub const MAX_NODE_INFO_SIZE: usize = 10240;

/// One entry of the version set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub name: String,
    pub version: String,
    pub optional: bool,
}

/// The node info as it travels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    pub version_set: Vec<VersionInfo>,
    pub net_address: String,
    pub network: String,
    pub software: String,
    pub version: String,
    pub channels: Vec<u8>,
    pub moniker: String,
    pub tx_index: String,
    pub rpc_address: String,
}

impl NodeInfo {
    /// The bare amino encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        for vi in &self.version_set {
            let mut e = Vec::new();
            amino::put_bytes_field(&mut e, 1, vi.name.as_bytes());
            amino::put_bytes_field(&mut e, 2, vi.version.as_bytes());
            amino::put_varint_field(&mut e, 3, u64::from(vi.optional));
            amino::put_bytes_field_always(&mut out, 1, &e);
        }
        amino::put_bytes_field_always(&mut out, 2, self.net_address.as_bytes());
        amino::put_bytes_field(&mut out, 3, self.network.as_bytes());
        amino::put_bytes_field(&mut out, 4, self.software.as_bytes());
        amino::put_bytes_field(&mut out, 5, self.version.as_bytes());
        amino::put_bytes_field(&mut out, 6, &self.channels);
        amino::put_bytes_field(&mut out, 7, self.moniker.as_bytes());
        let mut other = Vec::new();
        amino::put_bytes_field(&mut other, 1, self.tx_index.as_bytes());
        amino::put_bytes_field(&mut other, 2, self.rpc_address.as_bytes());
        amino::put_bytes_field(&mut out, 8, &other);
        out
    }

    /// `MarshalSized`: uvarint(len) || encoding.
    pub fn encode_sized(&self) -> Vec<u8> {
        amino::sized(&self.encode())
    }

    /// Decode the bare amino encoding (strict field order, no unknown fields).
    pub fn decode(bz: &[u8]) -> CoreResult<Self> {
        let mut ni = NodeInfo::default();
        let mut seen_addr = false;
        let mut f = Fields::with_repeated(bz, &[1]);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => ni
                    .version_set
                    .push(decode_version_info(v.bytes("VersionSet")?)?),
                2 => {
                    ni.net_address = v.string("NetAddress")?.to_owned();
                    seen_addr = true;
                }
                3 => ni.network = v.string("Network")?.to_owned(),
                4 => ni.software = v.string("Software")?.to_owned(),
                5 => ni.version = v.string("Version")?.to_owned(),
                6 => ni.channels = v.bytes("Channels")?.to_vec(),
                7 => ni.moniker = v.string("Moniker")?.to_owned(),
                8 => {
                    let mut o = Fields::new(v.bytes("Other")?);
                    while let Some((n, w)) = o.next_field()? {
                        match n {
                            1 => ni.tx_index = w.string("TxIndex")?.to_owned(),
                            2 => ni.rpc_address = w.string("RPCAddress")?.to_owned(),
                            _ => {
                                return Err(CoreError::decode(format!(
                                    "unknown field number {n} for NodeInfoOther"
                                )))
                            }
                        }
                    }
                }
                _ => {
                    return Err(CoreError::decode(format!(
                        "unknown field number {num} for NodeInfo"
                    )))
                }
            }
        }
        if !seen_addr {
            return Err(CoreError::decode("NodeInfo has no NetAddress"));
        }
        Ok(ni)
    }
}

fn decode_version_info(bz: &[u8]) -> CoreResult<VersionInfo> {
    let mut vi = VersionInfo::default();
    let mut f = Fields::new(bz);
    while let Some((num, v)) = f.next_field()? {
        match (num, v) {
            (1, _) => vi.name = v.string("VersionInfo.Name")?.to_owned(),
            (2, _) => vi.version = v.string("VersionInfo.Version")?.to_owned(),
            (3, Value::Varint(b)) if b <= 1 => vi.optional = b == 1,
            (3, _) => return Err(CoreError::decode("VersionInfo.Optional: invalid bool")),
            _ => {
                return Err(CoreError::decode(format!(
                    "unknown field number {num} for VersionInfo"
                )))
            }
        }
    }
    Ok(vi)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1:26656";

    #[test]
    fn example_1_and_2() {
        let ni = NodeInfo {
            version_set: vec![VersionInfo {
                name: "p2p".into(),
                version: "v1.0.0-rc.0".into(),
                optional: false,
            }],
            net_address: ADDR.into(),
            network: "test-chain".into(),
            version: "v1.0.0-rc.0".into(),
            channels: vec![0x40, 0x20, 0x21, 0x22, 0x23, 0x30, 0x50],
            moniker: "node0".into(),
            tx_index: "off".into(),
            rpc_address: "tcp://127.0.0.1:26657".into(),
            ..Default::default()
        };
        let s = ni.encode_sized();
        assert_eq!(s.len(), 151);
        assert!(hex::encode(&s).starts_with("95010a120a03703270"));
        assert_eq!(NodeInfo::decode(&s[2..]).unwrap(), ni);
        let min = NodeInfo {
            net_address: ADDR.into(),
            network: "c".into(),
            channels: vec![1],
            moniker: "m".into(),
            ..Default::default()
        };
        let s = min.encode_sized();
        assert_eq!(s.len(), 68);
        assert_eq!(NodeInfo::decode(&s[1..]).unwrap(), min);
        // unknown field 9
        let mut bad = min.encode();
        bad.extend_from_slice(&[0x4a, 0x00]);
        assert!(NodeInfo::decode(&bad).is_err());
    }
}
