//! The validator's own faults, kept apart from a miner's: a [`Fault`] never
//! becomes a verdict. The competition it happens in waits (its round is not
//! scored, what was saved is kept) and the state says why, until the fault
//! is gone.

use serde::{Deserialize, Serialize};

/// Something wrong with the validator's machine, data or network, not with
/// a miner's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "reason", rename_all = "snake_case")]
pub enum Fault {
    /// The device cannot be used (no driver, a CUDA error, a build without
    /// the feature).
    #[error("device: {0}")]
    Device(String),
    /// A model within the competition's limits did not fit in the memory the
    /// validator gives it: the machine (or `--memory-limit-mib`) is too small.
    #[error("out of memory on a model within the competition's limits: {0}")]
    OutOfMemory(String),
    /// The disk is full or cannot be written or read.
    #[error("disk: {0}")]
    Disk(String),
    /// A dataset a task needs is missing or unreadable.
    #[error("dataset: {0}")]
    Dataset(String),
    /// The competition's fixed tokenizer is missing, different from its pin
    /// or broken.
    #[error("fixed tokenizer: {0}")]
    Tokenizer(String),
    /// The hub cannot be reached, or answers with server errors.
    #[error("network: {0}")]
    Network(String),
    /// The sandbox cannot run (the executable is missing, a process cannot
    /// be started, the child's report is unreadable).
    #[error("sandbox: {0}")]
    Sandbox(String),
}

impl Fault {
    /// A short label for logs and the state (`device`, `disk`, …).
    pub fn label(&self) -> &'static str {
        match self {
            Fault::Device(_) => "device",
            Fault::OutOfMemory(_) => "out_of_memory",
            Fault::Disk(_) => "disk",
            Fault::Dataset(_) => "dataset",
            Fault::Tokenizer(_) => "tokenizer",
            Fault::Network(_) => "network",
            Fault::Sandbox(_) => "sandbox",
        }
    }
}

/// Whether an I/O error is the validator's machine failing (full disk,
/// quota, read-only file system, hardware) rather than a miner's bad file.
pub fn is_machine_io(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::StorageFull
            | K::QuotaExceeded
            | K::ReadOnlyFilesystem
            | K::OutOfMemory
            | K::PermissionDenied
            | K::ResourceBusy
            | K::Interrupted
            | K::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_round_trip_as_json_with_their_label() {
        let f = Fault::Disk("no space left on device".into());
        let json = serde_json::to_string(&f).expect("json");
        assert_eq!(
            json,
            r#"{"kind":"disk","reason":"no space left on device"}"#
        );
        assert_eq!(serde_json::from_str::<Fault>(&json).expect("parse"), f);
        assert_eq!(f.label(), "disk");
        assert!(f.to_string().starts_with("disk: "));
    }

    #[test]
    fn only_the_machines_io_errors_are_faults() {
        assert!(is_machine_io(std::io::ErrorKind::StorageFull));
        assert!(!is_machine_io(std::io::ErrorKind::NotFound));
        assert!(!is_machine_io(std::io::ErrorKind::InvalidData));
    }
}
