//! The storage entries Gauntlet reads (REFERENCE §7) as typed dynamic addresses,
//! and the decoding of what comes back.
//!
//! Keys are encoded and values decoded against the runtime's metadata (subxt's
//! dynamic API), so the `NetUid`/`AlphaCurrency` newtypes of newer runtimes and the
//! plain `u16`/`u64` of older ones read the same.

use subxt::client::OfflineClientAtBlock;
use subxt::dynamic::{At, Value};
use subxt::storage::{Address, DynamicAddress};
use subxt::utils::AccountId32;
use subxt::SubstrateConfig;

use crate::calls::{COMMITMENTS, SUBTENSOR_MODULE};

type Addr<K, V> = DynamicAddress<K, V>;
type Account = [u8; 32];
/// One pending timelocked commit: `(hotkey, commit_block, encrypted commit, reveal_round)`.
pub(crate) type TimelockedCommit = (Account, u64, Vec<u8>, u64);

/// `SubtensorModule.SubnetworkN(netuid) → u16`: the number of uids in use.
pub(crate) fn subnetwork_n() -> Addr<(u16,), u16> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "SubnetworkN")
}

/// `SubtensorModule.NetworksAdded(netuid) → bool`.
pub(crate) fn networks_added() -> Addr<(u16,), bool> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "NetworksAdded")
}

/// `SubtensorModule.Keys(netuid, uid) → AccountId`.
pub(crate) fn keys() -> Addr<(u16, u16), AccountId32> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "Keys")
}

/// `SubtensorModule.Uids(netuid, hotkey) → u16` (absent when not registered).
pub(crate) fn uids() -> Addr<(u16, Account), u16> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "Uids")
}

/// `SubtensorModule.TotalHotkeyAlpha(hotkey, netuid) → u64`: stake on the subnet.
pub(crate) fn total_hotkey_alpha() -> Addr<(Account, u16), u64> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "TotalHotkeyAlpha")
}

/// `SubtensorModule.<name>(netuid) → Vec<T>`: the per-uid vectors of a subnet.
fn per_uid<T: subxt::ext::scale_decode::DecodeAsType>(name: &str) -> Addr<(u16,), Vec<T>> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, name)
}

/// `ValidatorPermit(netuid) → Vec<bool>`.
pub(crate) fn validator_permit() -> Addr<(u16,), Vec<bool>> {
    per_uid("ValidatorPermit")
}

/// `LastUpdate(netuid) → Vec<u64>`.
pub(crate) fn last_update() -> Addr<(u16,), Vec<u64>> {
    per_uid("LastUpdate")
}

/// `Incentive(netuid) → Vec<u16>` (fractions of `u16::MAX`).
pub(crate) fn incentive() -> Addr<(u16,), Vec<u16>> {
    per_uid("Incentive")
}

/// `Dividends(netuid) → Vec<u16>` (fractions of `u16::MAX`).
pub(crate) fn dividends() -> Addr<(u16,), Vec<u16>> {
    per_uid("Dividends")
}

/// `Emission(netuid) → Vec<u64>` (rao).
pub(crate) fn emission() -> Addr<(u16,), Vec<u64>> {
    per_uid("Emission")
}

/// `SubtensorModule.<name>(netuid) → u64`.
fn subnet_u64(name: &str) -> Addr<(u16,), u64> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, name)
}

/// `WeightsSetRateLimit(netuid) → u64`: blocks between two sets of weights.
pub(crate) fn weights_set_rate_limit() -> Addr<(u16,), u64> {
    subnet_u64("WeightsSetRateLimit")
}

/// `WeightsVersionKey(netuid) → u64`: the lowest version key accepted.
pub(crate) fn weights_version_key() -> Addr<(u16,), u64> {
    subnet_u64("WeightsVersionKey")
}

/// `CommitRevealWeightsEnabled(netuid) → bool`.
pub(crate) fn commit_reveal_enabled() -> Addr<(u16,), bool> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "CommitRevealWeightsEnabled")
}

/// `Tempo(netuid) → u16`: blocks between the subnet's epochs.
pub(crate) fn tempo() -> Addr<(u16,), u16> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "Tempo")
}

/// `RevealPeriodEpochs(netuid) → u64`: epochs between a commit and its reveal.
pub(crate) fn reveal_period_epochs() -> Addr<(u16,), u64> {
    subnet_u64("RevealPeriodEpochs")
}

/// `CommitRevealWeightsVersion → u16`: the commit–reveal version commits must name.
pub(crate) fn commit_reveal_version() -> Addr<(), u16> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "CommitRevealWeightsVersion")
}

/// `BlocksSinceLastStep(netuid) → u64`.
pub(crate) fn blocks_since_last_step() -> Addr<(u16,), u64> {
    subnet_u64("BlocksSinceLastStep")
}

/// The entries of the stateful epoch schedule of newer runtimes:
/// `LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex` (netuid → u64).
pub(crate) const STATEFUL_EPOCH_ENTRIES: [&str; 3] =
    ["LastEpochBlock", "PendingEpochAt", "SubnetEpochIndex"];

/// `SubtensorModule.<name>(netuid) → u64`, for entries only some runtimes have.
pub(crate) fn optional_subnet_u64(name: &str) -> Addr<(u16,), u64> {
    subnet_u64(name)
}

/// `TimelockedWeightCommits(netuid, epoch) → [(hotkey, commit_block, commit, reveal_round)]`:
/// commits waiting for their reveal, keyed by the epoch they were made in.
pub(crate) fn timelocked_weight_commits() -> Addr<(u16, u64), Vec<TimelockedCommit>> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "TimelockedWeightCommits")
}

/// `Weights(netuid, uid) → [(uid, weight)]`: the weights a neuron has set.
pub(crate) fn weights() -> Addr<(u16, u16), Vec<(u16, u16)>> {
    subxt::dynamic::storage(SUBTENSOR_MODULE, "Weights")
}

/// `Commitments.CommitmentOf(netuid, hotkey) → Registration { deposit, block, info }`,
/// decoded as a dynamic value so an unexpected `Data` variant is a skipped record,
/// not a failed read.
pub(crate) fn commitment_of() -> Addr<(u16, Account), Value> {
    subxt::dynamic::storage(COMMITMENTS, "CommitmentOf")
}

/// Encodes every key this crate uses (and decodes every default value) against the
/// client's metadata; the error names the entry that does not fit.
pub(crate) fn check_keys(
    client: &OfflineClientAtBlock<SubstrateConfig>,
    account: &Account,
) -> Result<(), (String, String)> {
    let storage = client.storage();
    macro_rules! check {
        ($addr:expr, $keys:expr) => {{
            let addr = $addr;
            let name = format!("{}.{}", addr.pallet_name(), addr.entry_name());
            let entry = storage
                .entry(addr)
                .map_err(|e| (name.clone(), e.to_string()))?;
            entry
                .fetch_key($keys)
                .map_err(|e| (name.clone(), e.to_string()))?;
            if let Some(default) = entry.default_value() {
                default
                    .decode()
                    .map_err(|e| (format!("{name} (default value)"), e.to_string()))?;
            }
        }};
    }
    check!(subnetwork_n(), (1,));
    check!(networks_added(), (1,));
    check!(keys(), (1, 0));
    check!(uids(), (1, *account));
    check!(total_hotkey_alpha(), (*account, 1));
    check!(validator_permit(), (1,));
    check!(last_update(), (1,));
    check!(incentive(), (1,));
    check!(dividends(), (1,));
    check!(emission(), (1,));
    check!(weights_set_rate_limit(), (1,));
    check!(weights_version_key(), (1,));
    check!(commit_reveal_enabled(), (1,));
    check!(tempo(), (1,));
    check!(reveal_period_epochs(), (1,));
    check!(commit_reveal_version(), ());
    check!(blocks_since_last_step(), (1,));
    check!(timelocked_weight_commits(), (1, 0));
    check!(weights(), (1, 0));
    check!(commitment_of(), (1, *account));
    Ok(())
}

/// A commitment as decoded from `CommitmentOf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCommitment {
    /// The block it was made at.
    pub block: u64,
    /// The bytes of `info.fields[0]` (`Data::RawN`).
    pub data: Vec<u8>,
}

/// Reads `{ block, info: { fields: [Data::RawN(bytes), ..] } }`; the error says
/// which part is missing or of the wrong shape.
pub(crate) fn decode_commitment(registration: &Value) -> Result<RawCommitment, String> {
    let block = registration
        .at("block")
        .and_then(|b| b.as_u128())
        .ok_or("no numeric `block` field")?;
    // `fields` is a `BoundedVec<Data>`: a newtype around the sequence, so its first
    // item may sit one level down.
    let mut field = registration
        .at("info")
        .and_then(|info| info.at("fields"))
        .and_then(|fields| fields.at(0))
        .ok_or("no `info.fields[0]`")?;
    if let subxt::ext::scale_value::ValueDef::Composite(_) = field.value {
        field = field.at(0).ok_or("no `info.fields[0]`")?;
    }
    let subxt::ext::scale_value::ValueDef::Variant(variant) = &field.value else {
        return Err("`info.fields[0]` is not a `Data` variant".into());
    };
    let Some(len) = variant.name.strip_prefix("Raw") else {
        return Err(format!(
            "`info.fields[0]` is `{}`, not raw bytes",
            variant.name
        ));
    };
    let bytes = variant
        .values
        .values()
        .next()
        .map(bytes_of)
        .transpose()?
        .unwrap_or_default();
    if len.parse::<usize>().ok() != Some(bytes.len()) {
        return Err(format!("`{}` holds {} bytes", variant.name, bytes.len()));
    }
    Ok(RawCommitment {
        block: u64::try_from(block).map_err(|_| "`block` out of range")?,
        data: bytes,
    })
}

/// The bytes of a `[u8; N]` value (a composite of `u8` primitives).
fn bytes_of(value: &Value) -> Result<Vec<u8>, String> {
    let subxt::ext::scale_value::ValueDef::Composite(items) = &value.value else {
        return Err("raw data is not a byte array".into());
    };
    items
        .values()
        .map(|v| {
            v.as_u128()
                .and_then(|b| u8::try_from(b).ok())
                .ok_or_else(|| "raw data holds a non-byte value".to_owned())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// `Registration` as the decoder sees it: `fields` a `BoundedVec` newtype
    /// around the sequence of `Data`.
    fn registration(field: Value) -> Value {
        let fields = Value::unnamed_composite([Value::unnamed_composite([field])]);
        Value::named_composite([
            ("deposit", Value::u128(0)),
            ("block", Value::u128(4_000_123)),
            ("info", Value::named_composite([("fields", fields)])),
        ])
    }

    #[test]
    fn raw_commitments_decode_to_their_bytes_and_block() {
        let value = registration(Value::unnamed_variant("Raw5", [Value::from_bytes("hello")]));
        let commitment = decode_commitment(&value).unwrap();
        assert_eq!(commitment.block, 4_000_123);
        assert_eq!(commitment.data, b"hello");
    }

    #[test]
    fn other_shapes_are_reported_not_panicked_on() {
        let hashed = registration(Value::unnamed_variant(
            "Sha256",
            [Value::from_bytes([0; 32])],
        ));
        assert!(decode_commitment(&hashed).unwrap_err().contains("Sha256"));
        let wrong_len = registration(Value::unnamed_variant("Raw6", [Value::from_bytes("hello")]));
        assert!(decode_commitment(&wrong_len)
            .unwrap_err()
            .contains("5 bytes"));
        assert!(decode_commitment(&Value::u128(3)).is_err());
        let empty_fields = Value::unnamed_composite([Value::unnamed_composite([])]);
        let empty = Value::named_composite([
            ("block", Value::u128(1)),
            ("info", Value::named_composite([("fields", empty_fields)])),
        ]);
        assert!(decode_commitment(&empty).unwrap_err().contains("fields[0]"));
    }
}
