//! Gauntlet chains: what miners commit, how validators' weights become emission,
//! and the chains both talk to.
//!
//! - [`Chain`]: the seven calls miners and validators make (block, block hash,
//!   metagraph, commitments, commit, set weights and follow a weights commit),
//!   object safe for `Arc<dyn Chain>`; [`WeightsSubmission`] says whether weights
//!   were set or committed for the chain to reveal.
//! - [`LocalChain`]: the embedded default — one SQLite file shared by any number of
//!   processes, with a wall or manual block clock, subnets, registration, stake,
//!   validator permits, rate-limited commitments and weights, and a Yuma epoch every
//!   tempo. The subtensor backend lives in `gauntlet-subtensor`.
//! - [`Hotkey`] and [`Wallet`]: Bittensor-compatible sr25519 keys and key files.
//! - The pure cores: the model [`Commitment`]
//!   (`namespace:name:commit:secure_hash:competition_id`, REFERENCE §3) and one Yuma
//!   consensus [`yuma::epoch`] (REFERENCE §5).
//!
//! A local chain, stepped by hand, on which a validator scores one miner:
//!
//! ```
//! use gauntlet_chain::{Chain, Genesis, Hotkey, LocalChain, SubnetParams};
//! use gauntlet_constants::{Block, NetUid, Uid};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let chain = LocalChain::open_with(&dir.path().join("chain.db"), &Genesis::manual(Block(0)))?;
//! let net = NetUid(37);
//! chain.create_subnet(net, &SubnetParams { tempo: 10, ..SubnetParams::default() })?;
//!
//! let (validator, _phrase) = Hotkey::generate();
//! let miner = Hotkey::from_seed([1; 32])?;
//! chain.register(net, &validator.ss58())?;
//! chain.register(net, &miner.ss58())?;
//! chain.add_stake(net, &validator.ss58(), 1_000_000_000)?;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! chain.commit(&miner, net, "acme:tiny-llama:0123456789abcdef0123456789abcdef01234567:\
//!                            47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:4").await?;
//! chain.set_weights(&validator, net, &[(Uid(1), u16::MAX)], 3010).await?;
//! # Ok::<(), gauntlet_chain::ChainError>(()) })?;
//! chain.advance(10)?; // the tempo passes: one Yuma epoch
//!
//! let metagraph = chain.read_metagraph(net)?;
//! assert_eq!(metagraph.neurons[1].incentive, 1.0);
//! assert_eq!(metagraph.neurons[0].dividends, 1.0);
//! # Ok(()) }
//! ```
//!
//! Commitments parse and validate on their own:
//!
//! ```
//! use gauntlet_chain::Commitment;
//!
//! let text = "acme:tiny-llama:0123456789abcdef0123456789abcdef01234567:\
//!             47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:4";
//! let c: Commitment = text.parse()?;
//! assert_eq!(c.repo_id(), "acme/tiny-llama");
//! assert_eq!(c.to_string(), text);
//! assert!("../etc:passwd".parse::<Commitment>().is_err());
//! # Ok::<(), gauntlet_chain::CommitmentError>(())
//! ```

pub mod chain;
pub mod commitment;
pub mod error;
pub mod local;
pub mod ss58;
pub mod submission;
pub mod wallet;
pub mod yuma;

pub use chain::{Chain, CommitmentRecord, Metagraph, Neuron, WeightsRow};
pub use commitment::{
    is_validator_commitment, Commitment, CommitmentError, RepoPart, VALIDATOR_ITEMS_PREFIX,
};
pub use error::ChainError;
pub use local::{
    BatchOutcome, ClockMode, Genesis, LocalChain, SubnetParams, Transfer, WeightsRecord,
};
pub use submission::{CommitStatus, WeightsCommit, WeightsSubmission};
pub use wallet::{
    EnvPassword, Hotkey, NoPassword, PasswordSource, Wallet, WalletError, PASSWORD_ENV,
};
