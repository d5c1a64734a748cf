//! Crypto-currency addresses. Checksums are verified so a typo never becomes
//! a shared selector; the stored form is the one explorers print.

use sha3::{Digest, Keccak256};

use super::{Reason, Warning};

/// TRON: base58check, version byte 0x41, 21-byte payload; case kept (base58 is
/// case-sensitive). The hex form `41…` is accepted and converted.
pub(super) fn tron(s: &str) -> Result<String, Reason> {
    let payload = if s.len() == 42 && s.get(..2) == Some("41") {
        hex::decode(s).map_err(|_| Reason::AddressVersion)?
    } else {
        bs58::decode(s).with_check(None).into_vec().map_err(|_| Reason::Base58Check)?
    };
    if payload.len() != 21 || payload[0] != 0x41 {
        return Err(Reason::AddressVersion);
    }
    Ok(bs58::encode(payload).with_check().into_string())
}

/// EVM (Ethereum, BSC, Polygon…): `0x` + 40 hex digits. A mixed-case address
/// must carry a valid EIP-55 checksum; stored and matched in lower case.
pub(super) fn evm(s: &str, warnings: &mut Vec<Warning>) -> Result<String, Reason> {
    let hex_part = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or(Reason::EvmFormat)?;
    if hex_part.len() != 40 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reason::EvmFormat);
    }
    let lower = hex_part.to_ascii_lowercase();
    let mixed = hex_part.bytes().any(|b| b.is_ascii_lowercase()) && hex_part.bytes().any(|b| b.is_ascii_uppercase());
    if mixed {
        if eip55(&lower) != hex_part {
            return Err(Reason::Eip55Checksum);
        }
    } else if hex_part.bytes().any(|b| b.is_ascii_alphabetic()) {
        warnings.push(Warning::EvmNoChecksum);
    }
    Ok(format!("0x{lower}"))
}

/// The EIP-55 checksummed spelling of a lower-case hex address (no `0x`).
pub fn eip55(lower_hex: &str) -> String {
    let hash = Keccak256::digest(lower_hex.as_bytes());
    lower_hex
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c }
        })
        .collect()
}

/// Bitcoin mainnet: bech32/bech32m (`bc1…`, stored lower case) or base58check
/// P2PKH (version 0x00) / P2SH (0x05), case kept.
pub(super) fn btc(s: &str) -> Result<String, Reason> {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("bc1") || lower.starts_with("tb1") || lower.starts_with("bcrt1") {
        let (hrp, _version, _program) = bech32::segwit::decode(s).map_err(|e| Reason::Bech32(e.to_string()))?;
        if hrp != bech32::hrp::BC {
            return Err(Reason::BtcNetwork);
        }
        return Ok(lower);
    }
    let payload = bs58::decode(s).with_check(None).into_vec().map_err(|_| Reason::Base58Check)?;
    match (payload.len(), payload.first()) {
        (21, Some(0x00 | 0x05)) => Ok(s.to_string()),
        (21, Some(0x6f | 0xc4)) => Err(Reason::BtcNetwork),
        _ => Err(Reason::AddressVersion),
    }
}
