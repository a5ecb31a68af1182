//! Gauntlet miner: check, evaluate, push.
