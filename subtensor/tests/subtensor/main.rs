//! The integration tests of gauntlet-subtensor: offline checks against the shipped
//! metadata, and end to end against a loopback JSON-RPC node.

#![allow(clippy::unwrap_used, missing_docs)]

mod double;
mod events;
mod node;
mod offline;
