//! Gauntlet's subtensor backend: the `Chain` trait on a real Bittensor node.
