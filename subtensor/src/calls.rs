//! The extrinsics Gauntlet sends (REFERENCE §7), built with subxt's dynamic API:
//! named arguments encoded against the runtime's own metadata, so a renamed or
//! retyped argument fails to encode instead of sending garbage.

use gauntlet_chain::ChainError;
use subxt::dynamic::Value;
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

/// `SubtensorModule.commit_timelocked_weights(netuid, commit, reveal_round,
/// commit_reveal_version)`: weights encrypted to a drand round (commit–reveal v4,
/// see [`crate::timelock`]); the chain reveals them itself.
pub fn commit_timelocked_weights(
    netuid: u16,
    commit: &[u8],
    reveal_round: u64,
    commit_reveal_version: u16,
) -> Call {
    subxt::dynamic::tx(
        SUBTENSOR_MODULE,
        "commit_timelocked_weights",
        Composite::named([
            ("netuid", Value::u128(u128::from(netuid))),
            ("commit", Value::from_bytes(commit)),
            ("reveal_round", Value::u128(u128::from(reveal_round))),
            (
                "commit_reveal_version",
                Value::u128(u128::from(commit_reveal_version)),
            ),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

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
}
