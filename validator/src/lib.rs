//! Gauntlet validator loop.
