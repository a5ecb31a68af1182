//! Gauntlet's data: pinned dataset sources and their fetch into a local
//! cache, loaders for the file formats involved, and deterministic sampling
//! of every eval task's samples from a round's seed.
//!
//! # Sampling and how it differs from the reference
//! The Python reference seeds the global `random` module once per sync block
//! (`random.seed(seed)`) and every loader then draws from that one shared
//! state, with CPython's Mersenne Twister and its `randint`/`sample`
//! algorithms: a task's samples depend on which tasks ran before it and on
//! the Python version's algorithms. Gauntlet derives a [`Seed`] (sha256 of
//! the sync block's hash) and gives each task its own ChaCha20 stream keyed
//! with `sha256(seed ‖ label)` ([`Seed::rng`]); uniform draws are defined
//! here ([`SampleRng::below`]: rejection sampling on 64-bit words), not by
//! `rand`'s `gen_range`. Same seed, label and pool ⇒ the same samples on
//! every machine, whatever other tasks exist. Gauntlet's samples are not the
//! reference's samples for the same block.
//!
//! # Example
//! ```
//! use gauntlet_competitions::{DatasetId, DatasetKwargs};
//! use gauntlet_datasets::{task_samples_from, Pools, Samples, Seed};
//!
//! let pools = Pools {
//!     words: Some((0..100).map(|i| format!("word{i:03}")).collect()),
//!     ..Pools::default()
//! };
//! let kwargs = DatasetKwargs { samples: 3, if_eval_version: None };
//! let seed = Seed::from_block_hash(&[7; 32]);
//! let data = task_samples_from(&pools, DatasetId::WordSorting, &kwargs, &seed, "WORD_SORTING")?;
//! let Samples::Reference(samples) = data else { unreachable!() };
//! assert_eq!(samples.len(), 3);
//! assert!(samples[0].messages[0].content.starts_with("Sort the following words alphabetically: "));
//! # Ok::<(), gauntlet_datasets::DatasetError>(())
//! ```

mod cache;
mod error;
pub mod fetch;
pub mod load;
mod pools;
mod rng;
mod samples;
mod seed;

pub use cache::{DataCache, CACHE_ENV, IFEVAL_FILE_ENV};
pub use error::DatasetError;
pub use fetch::{
    fetch, fetch_with, FetchConfig, FetchEvent, FetchReport, SourceId, SourceReport, SourceStatus,
};
pub use gauntlet_evals::Samples;
pub use load::ifeval::{read_google_ifeval as google_ifeval, GoogleIfevalRow};
pub use load::mmlu::McRow;
pub use load::reasoning::ReasoningTrace;
pub use pools::Pools;
pub use rng::SampleRng;
pub use samples::{
    task_samples, task_samples_from, IF_EVAL_MIN_ANSWER_WORDS, MAX_SORT_WORDS, MIN_SORT_WORDS,
    REASONING_SYSTEM_PROMPT, WORD_SORTING_PROMPT,
};
pub use seed::Seed;
