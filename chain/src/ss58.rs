//! SS58 addresses: base58 of `prefix ‖ public key ‖ checksum`, the checksum being
//! the first two bytes of `blake2b-512("SS58PRE" ‖ prefix ‖ public key)`.
//!
//! Bittensor uses the generic Substrate prefix 42 (addresses starting with `5`).

use blake2::{Blake2b512, Digest};

/// The SS58 prefix of Bittensor (the generic Substrate one).
pub const BITTENSOR_PREFIX: u16 = 42;

/// Why a string is not an SS58 address of a 32-byte account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ss58Error {
    /// Not base58.
    #[error("not base58")]
    Base58,
    /// The decoded length fits no 32-byte account with a 1- or 2-byte prefix.
    #[error("decoded length {0} is not that of a 32-byte account")]
    Length(usize),
    /// The checksum does not match.
    #[error("bad checksum")]
    Checksum,
    /// A reserved or malformed prefix.
    #[error("invalid prefix")]
    Prefix,
}

/// The SS58 address of `public` under `prefix` (`prefix` < 16384).
pub fn encode_with_prefix(public: &[u8; 32], prefix: u16) -> String {
    let mut data = prefix_bytes(prefix & 0x3fff);
    data.extend_from_slice(public);
    let sum = checksum(&data);
    data.extend_from_slice(&sum[..2]);
    bs58::encode(data).into_string()
}

/// The Bittensor (prefix 42) SS58 address of `public`.
pub fn encode(public: &[u8; 32]) -> String {
    encode_with_prefix(public, BITTENSOR_PREFIX)
}

/// The public key and prefix of an SS58 address, checksum verified.
pub fn decode_with_prefix(address: &str) -> Result<([u8; 32], u16), Ss58Error> {
    let data = bs58::decode(address)
        .into_vec()
        .map_err(|_| Ss58Error::Base58)?;
    if !(35..=36).contains(&data.len()) {
        return Err(Ss58Error::Length(data.len()));
    }
    let (prefix, prefix_len) = match data.first() {
        Some(&b) if b < 64 => (u16::from(b), 1),
        Some(&b) if b < 128 => {
            let second = *data.get(1).ok_or(Ss58Error::Length(data.len()))?;
            // The top bits of `b` (its 0b01 marker) fall off the u8 shift.
            let lower = (b << 2) | (second >> 6);
            let upper = second & 0x3f;
            (u16::from(lower) | (u16::from(upper) << 8), 2)
        }
        Some(_) => return Err(Ss58Error::Prefix),
        None => return Err(Ss58Error::Length(0)),
    };
    if data.len() != prefix_len + 32 + 2 {
        return Err(Ss58Error::Length(data.len()));
    }
    let body = &data[..prefix_len + 32];
    if checksum(body)[..2] != data[prefix_len + 32..] {
        return Err(Ss58Error::Checksum);
    }
    let mut public = [0u8; 32];
    public.copy_from_slice(&data[prefix_len..prefix_len + 32]);
    Ok((public, prefix))
}

/// The public key of an SS58 address (any prefix), checksum verified.
pub fn decode(address: &str) -> Result<[u8; 32], Ss58Error> {
    decode_with_prefix(address).map(|(public, _)| public)
}

fn prefix_bytes(prefix: u16) -> Vec<u8> {
    if prefix < 64 {
        vec![prefix as u8]
    } else {
        // Two-byte form of the SS58 spec: 14 bits spread over two bytes, first byte 64..=127.
        let first = ((prefix & 0b0000_0000_1111_1100) >> 2) as u8 | 0b0100_0000;
        let second = ((prefix >> 8) as u8) | (((prefix & 0b11) as u8) << 6);
        vec![first, second]
    }
}

fn checksum(body: &[u8]) -> [u8; 64] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(body);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Alice's well-known sr25519 public key (//Alice on every dev chain).
    const ALICE_PUBLIC: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    fn alice() -> [u8; 32] {
        let mut k = [0u8; 32];
        hex::decode_to_slice(ALICE_PUBLIC, &mut k).expect("hex");
        k
    }

    #[test]
    fn alice_round_trips() {
        assert_eq!(encode(&alice()), ALICE_SS58);
        assert_eq!(decode_with_prefix(ALICE_SS58), Ok((alice(), 42)));
    }

    #[test]
    fn two_byte_prefix_round_trips() {
        for prefix in [64u16, 255, 1000, 16383] {
            let a = encode_with_prefix(&alice(), prefix);
            assert_eq!(decode_with_prefix(&a), Ok((alice(), prefix)), "{prefix}");
        }
        // Polkadot (0) and Kusama (2) addresses of Alice differ from the generic one.
        assert_ne!(encode_with_prefix(&alice(), 0), ALICE_SS58);
    }

    #[test]
    fn corrupted_addresses_are_refused() {
        let mut bad = ALICE_SS58.to_string();
        bad.replace_range(12..13, "3");
        assert_eq!(decode(&bad), Err(Ss58Error::Checksum));
        assert_eq!(decode("0OIl"), Err(Ss58Error::Base58));
        assert!(matches!(decode("5Grwva"), Err(Ss58Error::Length(_))));
        assert!(decode("").is_err());
    }
}
