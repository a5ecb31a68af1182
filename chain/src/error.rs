//! The chain's error type: one umbrella enum over the operations of this crate and
//! its backends, with [`ChainError::is_transient`] so retry policy is a `match`.

use gauntlet_constants::{Block, NetUid, Uid};

use crate::commitment::CommitmentError;

/// An error of a chain operation: parsing commitments, running an epoch, or talking
/// to a chain backend (the local SQLite chain or a subtensor node).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A commitment string failed validation; the source says why.
    #[error("invalid commitment")]
    Commitment(#[from] CommitmentError),
    /// The inputs of a Yuma epoch disagree on the number of neurons.
    #[error("epoch input {what} has length {found}, expected {expected}")]
    EpochShape {
        /// Which input (`validator_permit`, `weights`, `bonds[3]`, …).
        what: String,
        /// The length required (the exact length, or the most allowed for matrix rows).
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A Yuma epoch input holds a negative or non-finite number.
    #[error("epoch input {what}[{index}] = {value} is negative or not finite")]
    EpochValue {
        /// Which input (`stake`, `weights[2]`, `bonds[0]`).
        what: String,
        /// The position inside that vector.
        index: usize,
        /// The offending value.
        value: f64,
    },

    // ---- Refusals: the chain understood the request and said no. ----
    /// The subnet does not exist.
    #[error("subnet {netuid} does not exist")]
    SubnetNotFound {
        /// The subnet asked for.
        netuid: NetUid,
    },
    /// A subnet with this id already exists.
    #[error("subnet {netuid} already exists")]
    SubnetExists {
        /// The subnet asked for.
        netuid: NetUid,
    },
    /// The subnet has no free uid and every neuron is still immune to replacement.
    #[error("subnet {netuid} is full ({max_uids} uids, all immune)")]
    SubnetFull {
        /// The subnet.
        netuid: NetUid,
        /// Its uid limit.
        max_uids: u16,
    },
    /// The hotkey is not registered on the subnet.
    #[error("hotkey {hotkey} is not registered on subnet {netuid}")]
    NotRegistered {
        /// The subnet.
        netuid: NetUid,
        /// The hotkey's SS58 address.
        hotkey: String,
    },
    /// The string is not a valid SS58 address.
    #[error("invalid SS58 address {address:?}: {reason}")]
    InvalidAddress {
        /// The string given.
        address: String,
        /// Why it was refused.
        reason: String,
    },
    /// The hotkey may not set weights on other neurons: it has neither a validator
    /// permit nor stake.
    #[error("hotkey {hotkey} has no validator permit and no stake on subnet {netuid}")]
    NoValidatorPermit {
        /// The subnet.
        netuid: NetUid,
        /// The hotkey's SS58 address.
        hotkey: String,
    },
    /// The hotkey set weights too recently (the subnet's weights rate limit).
    #[error(
        "weights rate limited: last set at block {last}, next allowed at block {next_allowed}"
    )]
    RateLimited {
        /// The block of the hotkey's last accepted weights.
        last: Block,
        /// The first block at which a new set is accepted.
        next_allowed: Block,
    },
    /// The hotkey committed too recently (the subnet's commitment rate limit).
    #[error("commitment rate limited: last at block {last}, next allowed at block {next_allowed}")]
    CommitmentRateLimited {
        /// The block of the hotkey's last commitment.
        last: Block,
        /// The first block at which a new commitment is accepted.
        next_allowed: Block,
    },
    /// The weights' version key is below the subnet's `weights_version_key`.
    #[error("weights version key {given} is below the subnet's minimum {required}")]
    VersionKeyTooLow {
        /// The key sent.
        given: u64,
        /// The subnet's minimum.
        required: u64,
    },
    /// The weights are malformed: lengths differ, a uid is repeated or does not
    /// exist, or there are more entries than neurons.
    #[error("invalid weights: {reason}")]
    InvalidWeights {
        /// What is wrong with them.
        reason: String,
    },
    /// A weight names a uid that does not exist on the subnet.
    #[error("weights name uid {uid}, which does not exist on subnet {netuid}")]
    UnknownUid {
        /// The subnet.
        netuid: NetUid,
        /// The missing uid.
        uid: Uid,
    },
    /// A commitment is longer than the chain accepts.
    #[error("commitment of {len} bytes exceeds the limit of {max} bytes")]
    CommitmentTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The block asked for is in the future (or otherwise unknown to the chain).
    #[error("block {block} is unknown (current block {current})")]
    BlockNotFound {
        /// The block asked for.
        block: Block,
        /// The chain's current block.
        current: Block,
    },
    /// The operation needs a manual block clock but the chain follows wall time
    /// (or the block would move backwards).
    #[error("clock: {reason}")]
    Clock {
        /// What went wrong.
        reason: String,
    },
    /// Weights are set through commit–reveal on this subnet; `set_weights` is refused.
    #[error("commit-reveal weights are enabled on subnet {netuid}")]
    CommitRevealEnabled {
        /// The subnet.
        netuid: NetUid,
    },
    /// The chain asks for something this client does not implement (a
    /// commit–reveal version other than 4, a runtime without an entry it needs).
    #[error("unsupported by this client: {what}")]
    Unsupported {
        /// What the chain asked for.
        what: String,
    },
    /// An account holds less than a transfer needs.
    #[error("account {account} holds {available} rao, the transfer needs {needed}")]
    InsufficientBalance {
        /// The account's SS58 address (or a pool's account name).
        account: String,
        /// What the transfer needs, in rao.
        needed: u64,
        /// What the account holds, in rao.
        available: u64,
    },
    /// An amount is zero where it must not be, or a sum would overflow.
    #[error("invalid amount: {reason}")]
    InvalidAmount {
        /// What is wrong with it.
        reason: String,
    },
    /// A transfer batch was prepared for an account whose key this client does
    /// not hold: the account's owner signs it (with the given nonce) and sends it.
    #[error("the transfers from {account} await its owner's signature (nonce {nonce})")]
    AwaitingSignature {
        /// The paying account (SS58).
        account: String,
        /// The nonce the batch must be signed with.
        nonce: u64,
    },
    /// The chain refused an extrinsic for another reason (a dispatch error).
    #[error("the chain refused the call: {reason}")]
    Rejected {
        /// The chain's reason, as it named it.
        reason: String,
    },

    // ---- Infrastructure. ----
    /// A SQLite error of the local chain (busy/locked databases are transient).
    #[error("local chain database error")]
    Database(#[from] rusqlite::Error),
    /// The local chain's file could not be prepared (its directory created).
    #[error("local chain file {path}")]
    Io {
        /// The path involved.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The local chain's database holds something this code cannot read (a newer
    /// schema, a corrupt value).
    #[error("local chain database is not usable: {reason}")]
    Corrupt {
        /// What is wrong.
        reason: String,
    },
    /// The connection to a chain node failed or dropped.
    #[error("connection to {endpoint} failed: {reason}")]
    Connection {
        /// The node's address.
        endpoint: String,
        /// What the transport said.
        reason: String,
    },
    /// A request to a chain node timed out.
    #[error("{what} timed out after {secs} s")]
    Timeout {
        /// The operation.
        what: String,
        /// The limit that passed.
        secs: u64,
    },
    /// A chain node answered with something that could not be decoded.
    #[error("could not decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A background task running a chain operation failed (it was cancelled).
    #[error("chain task failed: {reason}")]
    Task {
        /// What happened to it.
        reason: String,
    },
}

impl ChainError {
    /// Whether retrying the same operation could succeed.
    ///
    /// Refusals (not registered, rate limited, bad input) and malformed data are
    /// permanent; timeouts, dropped connections and a busy or locked database are
    /// transient. A rate limit lifts with time, but retrying at once cannot succeed,
    /// so it counts as permanent: wait for `next_allowed` instead.
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Database(e) => is_busy(e),
            ChainError::Connection { .. } | ChainError::Timeout { .. } => true,
            ChainError::Commitment(_)
            | ChainError::EpochShape { .. }
            | ChainError::EpochValue { .. }
            | ChainError::SubnetNotFound { .. }
            | ChainError::SubnetExists { .. }
            | ChainError::SubnetFull { .. }
            | ChainError::NotRegistered { .. }
            | ChainError::InvalidAddress { .. }
            | ChainError::NoValidatorPermit { .. }
            | ChainError::RateLimited { .. }
            | ChainError::CommitmentRateLimited { .. }
            | ChainError::VersionKeyTooLow { .. }
            | ChainError::InvalidWeights { .. }
            | ChainError::UnknownUid { .. }
            | ChainError::AwaitingSignature { .. }
            | ChainError::CommitmentTooLong { .. }
            | ChainError::BlockNotFound { .. }
            | ChainError::Clock { .. }
            | ChainError::CommitRevealEnabled { .. }
            | ChainError::Rejected { .. }
            | ChainError::InsufficientBalance { .. }
            | ChainError::InvalidAmount { .. }
            | ChainError::Unsupported { .. }
            | ChainError::Io { .. }
            | ChainError::Corrupt { .. }
            | ChainError::Decode { .. }
            | ChainError::Task { .. } => false,
        }
    }
}

/// Whether a SQLite error means another connection holds the lock.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_database_is_transient_refusals_are_not() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(ChainError::Database(busy).is_transient());
        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );
        assert!(!ChainError::Database(constraint).is_transient());
        assert!(ChainError::Timeout {
            what: "rpc".into(),
            secs: 5
        }
        .is_transient());
        let limited = ChainError::RateLimited {
            last: Block(1),
            next_allowed: Block(101),
        };
        assert!(!limited.is_transient());
    }
}
