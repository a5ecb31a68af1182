//! Gauntlet dataset loaders and deterministic sampling.
