//! Integration tests of gauntlet-datasets: fetching over a local HTTP
//! server, Hub parquet shards, task sampling, and the real cache when present.

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

mod fetch;
mod hub;
mod real_cache;
mod sampling;
mod server;
