//! Gauntlet's dashboard: what observers and funders read.
//!
//! `gauntlet dashboard` serves, from a validator's state, the chain and the
//! funding pools: the competitions and their schedule, each competition's
//! leaderboard (with per-task scores, win rate, weight, incentive, verdict
//! and `copy_of`), plots of scores, weights and incentive over rounds (SVG
//! drawn by `plotters`), one page per model with its evaluations and
//! per-sample scores, the validators with their agreement, and the pools.
//! Every page's data is also JSON under `/api/…` (docs/DASHBOARD.md), and
//! pages reload themselves when the validator records something new.
//!
//! It never writes: the validator state is opened read-only per request.
//! Every string a miner controls is escaped (`maud`), and a strict
//! Content-Security-Policy allows no inline script.

pub mod api;
mod error;
mod pages;
mod plot;
mod routes;

use std::sync::Arc;

pub use api::{HubLinks, PoolSource, Sources};
pub use error::DashboardError;
pub use routes::router;

/// Serves the dashboard on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, sources: Sources) -> std::io::Result<()> {
    axum::serve(listener, router(Arc::new(sources))).await
}
