//! eth/70 receipts (`GetReceipts` with a first-receipt index, `Receipts` with
//! a last-block-incomplete flag) and eth/72 blob cells (`GetCells`/`Cells`
//! with a custody bitmap), as go-ethereum v1.17.5 encodes them.
use super::messages::{check_size, hash32, split_list, uint_at};
use crate::error::{CoreError, CoreResult};
use crate::rlp;

fn decode_bool(raw: &[u8]) -> CoreResult<bool> {
    match raw {
        [0x80] => Ok(false),
        [0x01] => Ok(true),
        _ => Err(CoreError::decode("invalid boolean")),
    }
}

fn hashes_of(raw: &[u8], limit: usize) -> CoreResult<Vec<[u8; 32]>> {
    split_list(raw, limit)?
        .into_iter()
        .map(|r| hash32(&rlp::decode(r)?, "hash"))
        .collect()
}

fn encode_hashes(out: &mut Vec<u8>, hashes: &[[u8; 32]]) {
    let mut inner = Vec::new();
    for h in hashes {
        rlp::encode_bytes(&mut inner, h);
    }
    rlp::encode_list_payload(out, &inner);
}

/// eth/70+ GetReceipts: `[request_id, first_block_receipt_index, [hash, ...]]`.
pub fn decode_get_receipts70(data: &[u8], limit: usize) -> CoreResult<(u64, u64, Vec<[u8; 32]>)> {
    check_size(data)?;
    let parts = split_list(data, 4)?;
    if parts.len() != 3 {
        return Err(CoreError::decode("GetReceipts (eth/70) must have 3 fields"));
    }
    Ok((
        uint_at(parts[0])?,
        uint_at(parts[1])?,
        hashes_of(parts[2], limit)?,
    ))
}

pub fn encode_get_receipts70(request_id: u64, first_index: u64, hashes: &[[u8; 32]]) -> Vec<u8> {
    let mut payload = Vec::new();
    rlp::encode_uint(&mut payload, request_id);
    rlp::encode_uint(&mut payload, first_index);
    encode_hashes(&mut payload, hashes);
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &payload);
    out
}

/// eth/70+ Receipts: `[request_id, last_block_incomplete, [receipts, ...]]` (raw items).
pub fn decode_receipts70(data: &[u8], limit: usize) -> CoreResult<(u64, bool, Vec<&[u8]>)> {
    check_size(data)?;
    let parts = split_list(data, 4)?;
    if parts.len() != 3 {
        return Err(CoreError::decode("Receipts (eth/70) must have 3 fields"));
    }
    Ok((
        uint_at(parts[0])?,
        decode_bool(parts[1])?,
        split_list(parts[2], limit)?,
    ))
}

pub fn encode_receipts70(request_id: u64, last_incomplete: bool, items: &[&[u8]]) -> Vec<u8> {
    let mut payload = Vec::new();
    rlp::encode_uint(&mut payload, request_id);
    rlp::encode_uint(&mut payload, u64::from(last_incomplete));
    rlp::encode_list_payload(&mut payload, &items.concat());
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &payload);
    out
}

/// Bytes of an eth/72 custody bitmap (geth `types.CustodyBitmap`, `[16]byte`).
pub const CUSTODY_BITMAP_SIZE: usize = 16;

fn bitmap(raw: &[u8]) -> CoreResult<[u8; CUSTODY_BITMAP_SIZE]> {
    rlp::decode(raw)?
        .as_bytes()?
        .try_into()
        .map_err(|_| CoreError::decode("custody bitmap must be 16 bytes"))
}

/// Split `[request_id, [inner...]]`: geth's packets wrap the request/response
/// struct (embedded in Go, but still one nested RLP list) after the request ID.
fn id_and_inner(data: &[u8], fields: usize) -> CoreResult<(u64, Vec<&[u8]>)> {
    check_size(data)?;
    let parts = split_list(data, 3)?;
    if parts.len() != 2 {
        return Err(CoreError::decode("expected [request_id, body]"));
    }
    let inner = split_list(parts[1], fields + 1)?;
    if inner.len() != fields {
        return Err(CoreError::decode(format!(
            "packet body must have {fields} fields"
        )));
    }
    Ok((uint_at(parts[0])?, inner))
}

/// eth/72 GetCells: `[request_id, [[hash, ...], mask]]`.
pub fn decode_get_cells(
    data: &[u8],
    limit: usize,
) -> CoreResult<(u64, Vec<[u8; 32]>, [u8; CUSTODY_BITMAP_SIZE])> {
    let (id, inner) = id_and_inner(data, 2)?;
    Ok((id, hashes_of(inner[0], limit)?, bitmap(inner[1])?))
}

/// eth/72 Cells: `[request_id, [[hash, ...], [[cell, ...], ...], mask]]`; cell lists raw.
#[allow(clippy::type_complexity)]
pub fn decode_cells(
    data: &[u8],
    limit: usize,
) -> CoreResult<(u64, Vec<[u8; 32]>, Vec<&[u8]>, [u8; CUSTODY_BITMAP_SIZE])> {
    let (id, inner) = id_and_inner(data, 3)?;
    let hashes = hashes_of(inner[0], limit)?;
    let cells = split_list(inner[1], limit)?;
    if cells.len() != hashes.len() {
        return Err(CoreError::decode("Cells: one cell list per hash"));
    }
    Ok((id, hashes, cells, bitmap(inner[2])?))
}

pub fn encode_cells(
    request_id: u64,
    hashes: &[[u8; 32]],
    cell_lists: &[&[u8]],
    mask: &[u8; CUSTODY_BITMAP_SIZE],
) -> Vec<u8> {
    let mut body = Vec::new();
    encode_hashes(&mut body, hashes);
    rlp::encode_list_payload(&mut body, &cell_lists.concat());
    rlp::encode_bytes(&mut body, mask);
    let mut payload = Vec::new();
    rlp::encode_uint(&mut payload, request_id);
    rlp::encode_list_payload(&mut payload, &body);
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_RECEIPTS70: &str =
        "e40802e1a01111111111111111111111111111111111111111111111111111111111111111";
    const RECEIPTS70_EMPTY: &str = "c30880c0";

    #[test]
    fn eth70_receipts_as_geth() {
        let h = [0x11; 32];
        let q = hex::decode(GET_RECEIPTS70).unwrap();
        assert_eq!(decode_get_receipts70(&q, 10).unwrap(), (8, 2, vec![h]));
        assert_eq!(encode_get_receipts70(8, 2, &[h]), q);
        let r = hex::decode(RECEIPTS70_EMPTY).unwrap();
        assert_eq!(decode_receipts70(&r, 10).unwrap(), (8, false, vec![]));
        assert_eq!(encode_receipts70(8, false, &[]), r);
        let full = encode_receipts70(9, true, &[&[0xc0]]);
        assert_eq!(
            decode_receipts70(&full, 10).unwrap(),
            (9, true, vec![&[0xc0][..]])
        );
        assert!(decode_receipts70(&hex::decode("c30802c0").unwrap(), 10).is_err());
    }

    // go-ethereum v1.17.5 GetCellsRequestPacket{3, {[0x11…], mask ff00…}} and CellsPacket{3, {mask ff00…}}
    const GET_CELLS: &str = "f503f3e1a0111111111111111111111111111111111111111111111111111111111111111190ff000000000000000000000000000000";
    const CELLS_EMPTY: &str = "d503d3c0c090ff000000000000000000000000000000";

    #[test]
    fn cells_as_geth() {
        let mut mask = [0u8; CUSTODY_BITMAP_SIZE];
        mask[0] = 0xff;
        let q = hex::decode(GET_CELLS).unwrap();
        assert_eq!(
            decode_get_cells(&q, 10).unwrap(),
            (3, vec![[0x11; 32]], mask)
        );
        let c = hex::decode(CELLS_EMPTY).unwrap();
        assert_eq!(encode_cells(3, &[], &[], &mask), c);
        assert_eq!(decode_cells(&c, 10).unwrap(), (3, vec![], vec![], mask));
    }

    #[test]
    fn cells_roundtrip_and_shape_checks() {
        let mask = [7u8; CUSTODY_BITMAP_SIZE];
        let enc = encode_cells(3, &[[1; 32]], &[&[0xc0]], &mask);
        let (rid, hashes, cells, m) = decode_cells(&enc, 10).unwrap();
        assert_eq!(
            (rid, hashes, cells, m),
            (3, vec![[1; 32]], vec![&[0xc0][..]], mask)
        );
        assert!(decode_cells(&encode_cells(3, &[[1; 32]], &[], &mask), 10).is_err());
    }
}
