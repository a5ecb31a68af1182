//! The extrinsics Gauntlet sends (REFERENCE §7), built with subxt's dynamic API:
//! named arguments encoded against the runtime's own metadata, so a renamed or
//! retyped argument fails to encode instead of sending garbage.

use gauntlet_chain::ChainError;
use subxt::dynamic::Value;
use subxt::ext::codec::Encode;
use subxt::ext::scale_value::Composite;
use subxt::tx::DynamicPayload;

use crate::SubtensorError;

/// The pallet with neurons, weights and stake.
pub const SUBTENSOR_MODULE: &str = "SubtensorModule";
/// The pallet holding hotkeys' commitments.
pub const COMMITMENTS: &str = "Commitments";
/// The longest raw commitment the chain stores (`Data::Raw128`).
pub const MAX_RAW_COMMITMENT_BYTES: usize = 128;

/// A call ready to be signed: pallet, call name and named arguments.
pub type Call = DynamicPayload<Composite<()>>;

fn u16s(values: &[u16]) -> Value {
    Value::unnamed_composite(values.iter().map(|&v| Value::u128(u128::from(v))))
}

/// `SubtensorModule.set_weights(netuid, dests, weights, version_key)`.
pub fn set_weights(netuid: u16, uids: &[u16], values: &[u16], version_key: u64) -> Call {
    subxt::dynamic::tx(
        SUBTENSOR_MODULE,
        "set_weights",
        Composite::named([
            ("netuid", Value::u128(u128::from(netuid))),
            ("dests", u16s(uids)),
            ("weights", u16s(values)),
            ("version_key", Value::u128(u128::from(version_key))),
        ]),
    )
}

/// `SubtensorModule.commit_weights(netuid, commit_hash)`, the hash from
/// [`weights_commit_hash`].
pub fn commit_weights(netuid: u16, commit_hash: [u8; 32]) -> Call {
    subxt::dynamic::tx(
        SUBTENSOR_MODULE,
        "commit_weights",
        Composite::named([
            ("netuid", Value::u128(u128::from(netuid))),
            ("commit_hash", Value::from_bytes(commit_hash)),
        ]),
    )
}

/// `SubtensorModule.reveal_weights(netuid, uids, values, salt, version_key)`.
pub fn reveal_weights(
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> Call {
    subxt::dynamic::tx(
        SUBTENSOR_MODULE,
        "reveal_weights",
        Composite::named([
            ("netuid", Value::u128(u128::from(netuid))),
            ("uids", u16s(uids)),
            ("values", u16s(values)),
            ("salt", u16s(salt)),
            ("version_key", Value::u128(u128::from(version_key))),
        ]),
    )
}

/// `Commitments.set_commitment(netuid, CommitmentInfo { fields: [Data::RawN(data)] })`
/// with `N = data.len()`; refuses more than [`MAX_RAW_COMMITMENT_BYTES`].
pub fn set_commitment(netuid: u16, data: &[u8]) -> Result<Call, SubtensorError> {
    if data.len() > MAX_RAW_COMMITMENT_BYTES {
        return Err(SubtensorError::Chain(ChainError::CommitmentTooLong {
            len: data.len(),
            max: MAX_RAW_COMMITMENT_BYTES,
        }));
    }
    let field = Value::unnamed_variant(format!("Raw{}", data.len()), [Value::from_bytes(data)]);
    let info = Value::named_composite([("fields", Value::unnamed_composite([field]))]);
    Ok(subxt::dynamic::tx(
        COMMITMENTS,
        "set_commitment",
        Composite::named([("netuid", Value::u128(u128::from(netuid))), ("info", info)]),
    ))
}

/// The hash `commit_weights` publishes and `reveal_weights` must match:
/// BlakeTwo256 of the SCALE encoding of
/// `(hotkey: AccountId32, netuid: u16, uids: Vec<u16>, values: Vec<u16>, salt: Vec<u16>, version_key: u64)`.
pub fn weights_commit_hash(
    hotkey: &[u8; 32],
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    let encoded = (hotkey, netuid, uids, values, salt, version_key).encode();
    sp_crypto_hashing::blake2_256(&encoded)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn commitments_longer_than_128_bytes_are_refused() {
        assert!(set_commitment(1, &[b'a'; 128]).is_ok());
        let err = set_commitment(1, &[b'a'; 129]).err();
        assert!(
            matches!(
                err,
                Some(SubtensorError::Chain(ChainError::CommitmentTooLong {
                    len: 129,
                    max: 128
                }))
            ),
            "{err:?}"
        );
    }

    #[test]
    fn commit_hash_is_blake2_of_the_hand_encoded_tuple() {
        let hotkey = [7u8; 32];
        let mut expected = hotkey.to_vec();
        expected.extend_from_slice(&37u16.to_le_bytes());
        // Vec<u16> [1, 2]: compact length 2 = 0x08, then little-endian items.
        expected.extend_from_slice(&[0x08, 1, 0, 2, 0]);
        // values [65535, 3]
        expected.extend_from_slice(&[0x08, 0xff, 0xff, 3, 0]);
        // salt [9]
        expected.extend_from_slice(&[0x04, 9, 0]);
        expected.extend_from_slice(&4_020u64.to_le_bytes());
        assert_eq!(
            weights_commit_hash(&hotkey, 37, &[1, 2], &[65535, 3], &[9], 4_020),
            sp_crypto_hashing::blake2_256(&expected)
        );
        // The same digest from an independent BLAKE2b-256 (Python's hashlib).
        assert_eq!(
            hex(&weights_commit_hash(
                &hotkey,
                37,
                &[1, 2],
                &[65535, 3],
                &[9],
                4_020
            )),
            "f223f920f1aee9799e36dcd5660620432609267963cbf183d79be3316625687e"
        );
        // A different salt gives a different hash.
        assert_ne!(
            weights_commit_hash(&hotkey, 37, &[1, 2], &[65535, 3], &[8], 4_020),
            weights_commit_hash(&hotkey, 37, &[1, 2], &[65535, 3], &[9], 4_020)
        );
    }
}
