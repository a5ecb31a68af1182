//! [`Chain`] for [`LocalChain`]: each call runs its synchronous twin on tokio's
//! blocking pool when inside a tokio runtime, inline otherwise.

use gauntlet_constants::{Block, NetUid, Uid};

use super::LocalChain;
use crate::{
    Chain, ChainError, CommitStatus, CommitmentRecord, Hotkey, Metagraph, WeightsCommit,
    WeightsRow, WeightsSubmission,
};

impl LocalChain {
    /// Runs `op` on a clone of this handle off the async executor.
    async fn blocking<T, F>(&self, op: F) -> Result<T, ChainError>
    where
        T: Send + 'static,
        F: FnOnce(&LocalChain) -> Result<T, ChainError> + Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return op(self);
        }
        let chain = self.clone();
        match tokio::task::spawn_blocking(move || op(&chain)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(ChainError::Task {
                reason: e.to_string(),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Chain for LocalChain {
    async fn current_block(&self) -> Result<Block, ChainError> {
        self.blocking(|c| c.block()).await
    }

    async fn block_hash(&self, block: Block) -> Result<[u8; 32], ChainError> {
        self.blocking(move |c| c.hash_of(block)).await
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.blocking(move |c| c.read_metagraph(netuid)).await
    }

    async fn commitments(&self, netuid: NetUid) -> Result<Vec<CommitmentRecord>, ChainError> {
        self.blocking(move |c| c.read_commitments(netuid)).await
    }

    async fn weights(&self, netuid: NetUid) -> Result<Vec<WeightsRow>, ChainError> {
        self.blocking(move |c| c.read_weights(netuid)).await
    }

    async fn commit(&self, hotkey: &Hotkey, netuid: NetUid, data: &str) -> Result<(), ChainError> {
        let (signer, data) = (hotkey.ss58(), data.to_owned());
        self.blocking(move |c| c.commit_as(&signer, netuid, &data))
            .await
    }

    async fn set_weights(
        &self,
        hotkey: &Hotkey,
        netuid: NetUid,
        weights: &[(Uid, u16)],
        version_key: u64,
    ) -> Result<WeightsSubmission, ChainError> {
        let signer = hotkey.ss58();
        let (uids, values): (Vec<Uid>, Vec<u16>) = weights.iter().copied().unzip();
        self.blocking(move |c| c.set_weights_as(&signer, netuid, &uids, &values, version_key))
            .await?;
        Ok(WeightsSubmission::Set)
    }

    /// The local chain sets weights directly and never holds a commit: one is
    /// [`CommitStatus::Revealed`] when the hotkey's last weights, set at or after
    /// the commit's block, are the committed ones, and dropped otherwise.
    async fn commit_status(
        &self,
        hotkey: &str,
        netuid: NetUid,
        commit: &WeightsCommit,
    ) -> Result<CommitStatus, ChainError> {
        let hotkey = hotkey.to_owned();
        let history = self
            .blocking(move |c| c.weights_history(netuid, &hotkey))
            .await?;
        let applied = history.last().is_some_and(|last| {
            last.block >= commit.block.0 && last.weights.iter().copied().eq(commit.pairs())
        });
        Ok(if applied {
            CommitStatus::Revealed
        } else {
            CommitStatus::Dropped
        })
    }
}
