//! The funding pools, with their balances, entrants and payouts.

use gauntlet_pools::{PoolStore, PoolView};
use serde::Serialize;

use super::Sources;
use crate::DashboardError;

/// The pools page.
#[derive(Debug, Clone, Serialize)]
pub struct PoolsPage {
    /// Every pool, by id.
    pub pools: Vec<PoolView>,
}

impl Sources {
    /// Every pool with its balance and payouts (none where the dashboard has
    /// no pools or none were created).
    pub async fn pools(&self) -> Result<PoolsPage, DashboardError> {
        let Some(source) = &self.pools else {
            return Ok(PoolsPage { pools: Vec::new() });
        };
        let path = source.path.clone();
        let treasury = source.treasury.clone();
        tokio::task::spawn_blocking(move || {
            if !path.is_file() {
                return Ok(PoolsPage { pools: Vec::new() });
            }
            let store = PoolStore::open(&path)?;
            let pools = store
                .pools()?
                .into_iter()
                .map(|p| PoolView::read(&store, &*treasury, p))
                .collect::<Result<_, _>>()?;
            Ok(PoolsPage { pools })
        })
        .await
        .map_err(|e| DashboardError::Internal(e.to_string()))?
    }
}
