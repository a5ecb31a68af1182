//! Reading a subnet at one block: its neurons (the metagraph) and its commitments.
//!
//! Bad data from the node never panics: an undecodable vector or key is an error
//! naming the entry, and a commitment that is not raw UTF-8 is skipped with a
//! warning (it is the miner's problem, not the validator's).

use std::collections::BTreeMap;

use gauntlet_chain::{ChainError, CommitmentRecord, Metagraph, Neuron, WeightsRow};
use gauntlet_constants::{Block, NetUid, Uid};
use subxt::client::OnlineClientAtBlock;
use subxt::ext::scale_decode::DecodeAsType;
use subxt::storage::Address;
use subxt::utils::AccountId32;
use subxt::SubstrateConfig;

use crate::client::{node, Connection};
use crate::{storage, SubtensorError};

type At = OnlineClientAtBlock<SubstrateConfig>;

/// How many keys go into one `state_queryStorageAt` batch.
const BATCH: usize = 256;

fn decode_error(what: impl Into<String>, e: impl std::fmt::Display) -> SubtensorError {
    SubtensorError::Decode {
        what: what.into(),
        detail: e.to_string(),
    }
}

/// Fetches `addr(keys)` and decodes it (the entry's default when absent).
pub(crate) async fn fetch_value<A: Address>(
    at: &At,
    operation: &'static str,
    addr: A,
    keys: A::KeyParts,
) -> Result<A::Value, SubtensorError> {
    let name = format!("{}.{}", addr.pallet_name(), addr.entry_name());
    let value = at
        .storage()
        .fetch(addr, keys)
        .await
        .map_err(|e| node(operation, format!("{name}: {e}")))?;
    value.decode().map_err(|e| decode_error(name, e))
}

/// Like [`fetch_value`], but `None` where the map has no value (and no default).
pub(crate) async fn try_fetch_value<A: Address>(
    at: &At,
    operation: &'static str,
    addr: A,
    keys: A::KeyParts,
) -> Result<Option<A::Value>, SubtensorError> {
    let name = format!("{}.{}", addr.pallet_name(), addr.entry_name());
    let value = at
        .storage()
        .try_fetch(addr, keys)
        .await
        .map_err(|e| node(operation, format!("{name}: {e}")))?;
    value
        .map(|v| v.decode().map_err(|e| decode_error(name, e)))
        .transpose()
}

/// The uid of `hotkey` on the subnet, if registered.
pub(crate) async fn uid_of(
    at: &At,
    operation: &'static str,
    netuid: u16,
    hotkey: [u8; 32],
) -> Result<Option<u16>, SubtensorError> {
    try_fetch_value(at, operation, storage::uids(), (netuid, hotkey)).await
}

/// The subnet's neurons at the connection's best block.
pub(crate) async fn metagraph(
    conn: &Connection,
    netuid: NetUid,
) -> Result<Metagraph, SubtensorError> {
    const OP: &str = "metagraph";
    let (at, block) = conn.at_best().await?;
    let id = netuid.0;
    let n = fetch_value(&at, OP, storage::subnetwork_n(), (id,)).await?;
    if n == 0 && !fetch_value(&at, OP, storage::networks_added(), (id,)).await? {
        return Err(SubtensorError::Chain(ChainError::SubnetNotFound { netuid }));
    }

    let mut hotkeys: BTreeMap<u16, AccountId32> = BTreeMap::new();
    let mut entries = at
        .storage()
        .iter(storage::keys(), (id,))
        .await
        .map_err(|e| node(OP, format!("SubtensorModule.Keys: {e}")))?;
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| node(OP, format!("SubtensorModule.Keys: {e}")))?;
        let key = entry
            .key()
            .map_err(|e| decode_error("SubtensorModule.Keys key", e))?;
        let uid = key
            .part(1)
            .map(|part| part.decode_as::<u16>())
            .transpose()
            .map_err(|e| decode_error("SubtensorModule.Keys uid", e))?
            .flatten()
            .ok_or_else(|| decode_error("SubtensorModule.Keys key", "no uid in the key"))?;
        let hotkey = entry
            .value()
            .decode()
            .map_err(|e| decode_error(format!("SubtensorModule.Keys({id}, {uid})"), e))?;
        hotkeys.insert(uid, hotkey);
    }

    let permits = fetch_value(&at, OP, storage::validator_permit(), (id,)).await?;
    let last_update = fetch_value(&at, OP, storage::last_update(), (id,)).await?;
    let incentive = fetch_value(&at, OP, storage::incentive(), (id,)).await?;
    let dividends = fetch_value(&at, OP, storage::dividends(), (id,)).await?;
    let emission = fetch_value(&at, OP, storage::emission(), (id,)).await?;
    let stakes = stakes(conn, &at, id, &hotkeys).await?;

    let mut neurons = Vec::with_capacity(usize::from(n));
    for uid in 0..n {
        let Some(hotkey) = hotkeys.get(&uid) else {
            tracing::warn!(
                netuid = id,
                uid,
                "subnet counts uid {uid} but has no hotkey for it; skipped"
            );
            continue;
        };
        let i = usize::from(uid);
        let fraction = |v: &[u16]| {
            v.get(i)
                .map_or(0.0, |&x| f64::from(x) / f64::from(u16::MAX))
        };
        neurons.push(Neuron {
            uid: Uid(uid),
            hotkey: hotkey.to_string(),
            stake: stakes.get(&uid).copied().unwrap_or(0),
            validator_permit: permits.get(i).copied().unwrap_or(false),
            last_update: last_update.get(i).copied().unwrap_or(0),
            incentive: fraction(&incentive),
            dividends: fraction(&dividends),
            emission: emission.get(i).copied().unwrap_or(0),
        });
    }
    Ok(Metagraph {
        netuid,
        block: Block(block),
        neurons,
    })
}

/// `TotalHotkeyAlpha(hotkey, netuid)` of every neuron, in batches of [`BATCH`] keys.
async fn stakes(
    conn: &Connection,
    at: &At,
    netuid: u16,
    hotkeys: &BTreeMap<u16, AccountId32>,
) -> Result<BTreeMap<u16, u64>, SubtensorError> {
    const OP: &str = "metagraph";
    const NAME: &str = "SubtensorModule.TotalHotkeyAlpha";
    let storage = at.storage();
    let entry = storage
        .entry(storage::total_hotkey_alpha())
        .map_err(|e| node(OP, format!("{NAME}: {e}")))?;
    let mut uid_of_key: BTreeMap<Vec<u8>, u16> = BTreeMap::new();
    for (&uid, hotkey) in hotkeys {
        let key = entry
            .fetch_key((hotkey.0, netuid))
            .map_err(|e| node(OP, format!("{NAME}: {e}")))?;
        uid_of_key.insert(key, uid);
    }
    let value_type = at
        .metadata_ref()
        .pallet_by_name(crate::calls::SUBTENSOR_MODULE)
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name("TotalHotkeyAlpha"))
        .map(|e| e.value_ty())
        .ok_or_else(|| node(OP, format!("{NAME} is not in the metadata")))?;
    let keys: Vec<&[u8]> = uid_of_key.keys().map(Vec::as_slice).collect();
    let mut stakes = BTreeMap::new();
    for batch in keys.chunks(BATCH) {
        let change_sets = conn
            .legacy
            .state_query_storage_at(batch.iter().copied(), Some(at.block_hash()))
            .await
            .map_err(|e| node(OP, format!("{NAME}: {e}")))?;
        for (key, value) in change_sets.into_iter().flat_map(|set| set.changes) {
            let (Some(&uid), Some(value)) = (uid_of_key.get(&key.0), value) else {
                continue;
            };
            let stake =
                u64::decode_as_type(&mut &value.0[..], value_type, at.metadata_ref().types())
                    .map_err(|e| decode_error(format!("{NAME} of uid {uid}"), e))?;
            stakes.insert(uid, stake);
        }
    }
    Ok(stakes)
}

/// Every neuron's weights on the subnet at the best block, by setter uid.
pub(crate) async fn weights(
    conn: &Connection,
    netuid: NetUid,
) -> Result<Vec<WeightsRow>, SubtensorError> {
    const OP: &str = "weights";
    const NAME: &str = "SubtensorModule.Weights";
    let (at, _) = conn.at_best().await?;
    let mut entries = at
        .storage()
        .iter(storage::weights(), (netuid.0,))
        .await
        .map_err(|e| node(OP, format!("{NAME}: {e}")))?;
    let mut rows = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| node(OP, format!("{NAME}: {e}")))?;
        let uid = entry
            .key()
            .map_err(|e| decode_error(format!("{NAME} key"), e))?
            .part(1)
            .map(|part| part.decode_as::<u16>())
            .transpose()
            .map_err(|e| decode_error(format!("{NAME} uid"), e))?
            .flatten()
            .ok_or_else(|| decode_error(format!("{NAME} key"), "no uid in the key"))?;
        let pairs: Vec<(u16, u16)> = entry
            .value()
            .decode()
            .map_err(|e| decode_error(format!("{NAME}({}, {uid})", netuid.0), e))?;
        if !pairs.is_empty() {
            rows.push((
                Uid(uid),
                pairs.into_iter().map(|(d, v)| (Uid(d), v)).collect(),
            ));
        }
    }
    rows.sort_by_key(|(uid, _)| *uid);
    Ok(rows)
}

/// Every hotkey's commitment on the subnet at the best block; records that are not
/// raw UTF-8 bytes are skipped with a warning.
pub(crate) async fn commitments(
    conn: &Connection,
    netuid: NetUid,
) -> Result<Vec<CommitmentRecord>, SubtensorError> {
    const OP: &str = "commitments";
    const NAME: &str = "Commitments.CommitmentOf";
    let (at, _) = conn.at_best().await?;
    let mut entries = at
        .storage()
        .iter(storage::commitment_of(), (netuid.0,))
        .await
        .map_err(|e| node(OP, format!("{NAME}: {e}")))?;
    let mut records = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| node(OP, format!("{NAME}: {e}")))?;
        let hotkey = entry
            .key()
            .ok()
            .and_then(|key| key.part(1))
            .and_then(|part| part.decode_as::<AccountId32>().ok().flatten());
        let Some(hotkey) = hotkey else {
            tracing::warn!(
                netuid = netuid.0,
                "skipping a commitment whose key holds no hotkey"
            );
            continue;
        };
        let decoded = entry
            .value()
            .decode()
            .map_err(|e| e.to_string())
            .and_then(|value| storage::decode_commitment(&value));
        let raw = match decoded {
            Ok(raw) => raw,
            Err(reason) => {
                tracing::warn!(netuid = netuid.0, %hotkey, %reason, "skipping an unreadable commitment");
                continue;
            }
        };
        match String::from_utf8(raw.data) {
            Ok(data) => records.push(CommitmentRecord {
                hotkey: hotkey.to_string(),
                block: Block(raw.block),
                data,
            }),
            Err(_) => {
                tracing::warn!(netuid = netuid.0, %hotkey, "skipping a commitment that is not UTF-8")
            }
        }
    }
    records.sort_by(|a, b| (a.block, &a.hotkey).cmp(&(b.block, &b.hotkey)));
    Ok(records)
}
