//! The integration tests of gauntlet-subtensor: offline checks against the shipped
//! metadata, commit–reveal v4 against the real `bittensor-drand`, and end to end
//! against a loopback JSON-RPC node.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../../chain/tests/support/bt_python.rs"]
mod bt_python;
mod crv4;
mod double;
mod events;
mod node;
mod offline;
