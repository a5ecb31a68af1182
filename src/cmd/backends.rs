//! Choosing the chain, the hub and the hotkey from command-line flags: the
//! embedded defaults (a local chain file and a local hub directory under
//! `$GAUNTLET_HOME`, default `~/.gauntlet`) or the real network (`--chain
//! subtensor --endpoint wss://…`, `--hub hf`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::ValueEnum;
use gauntlet_chain::local::{Genesis, LocalChain};
use gauntlet_chain::{Chain, EnvPassword, Hotkey, Wallet, WalletError};
use gauntlet_constants::NetUid;
use gauntlet_hub::{CacheBudget, HfHub, LocalHub, ModelStore};

/// Which chain.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ChainKind {
    /// The embedded local chain (one SQLite file).
    #[default]
    Local,
    /// A Bittensor subtensor node.
    Subtensor,
}

/// Which hub.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum HubKind {
    /// A local directory hub.
    #[default]
    Local,
    /// The Hugging Face Hub (`HF_ENDPOINT`, `HF_TOKEN`).
    Hf,
}

/// Chain flags.
#[derive(clap::Args, Debug, Clone)]
pub struct ChainArgs {
    /// The chain backend.
    #[arg(long, value_enum, default_value_t)]
    pub chain: ChainKind,
    /// The local chain's file (default `$GAUNTLET_HOME/chain.sqlite`).
    #[arg(long)]
    pub chain_db: Option<PathBuf>,
    /// The subtensor node's WebSocket endpoint.
    #[arg(long, default_value = "wss://entrypoint-finney.opentensor.ai:443")]
    pub endpoint: String,
    /// The subnet.
    #[arg(long, default_value_t = 37)]
    pub netuid: u16,
}

/// Hub flags.
#[derive(clap::Args, Debug, Clone)]
pub struct HubArgs {
    /// The hub backend.
    #[arg(long, value_enum, default_value_t)]
    pub hub: HubKind,
    /// The local hub's directory (default `$GAUNTLET_HOME/hub`).
    #[arg(long)]
    pub hub_dir: Option<PathBuf>,
}

/// Wallet flags (Bittensor layout: `<wallet-dir>/<wallet>/hotkeys/<hotkey>`).
#[derive(clap::Args, Debug, Clone)]
pub struct WalletArgs {
    /// The wallet's name.
    #[arg(long, default_value = "default")]
    pub wallet: String,
    /// The hotkey's name.
    #[arg(long, default_value = "default")]
    pub hotkey: String,
    /// The wallets directory (default `~/.bittensor/wallets`).
    #[arg(long)]
    pub wallet_dir: Option<PathBuf>,
}

/// `$GAUNTLET_HOME`, default `~/.gauntlet`.
pub fn home() -> PathBuf {
    std::env::var_os("GAUNTLET_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".gauntlet")))
        .unwrap_or_else(|| PathBuf::from(".gauntlet"))
}

impl ChainArgs {
    /// The subnet id.
    pub fn netuid(&self) -> NetUid {
        NetUid(self.netuid)
    }

    /// The local chain's file.
    pub fn db_path(&self) -> PathBuf {
        self.chain_db
            .clone()
            .unwrap_or_else(|| home().join("chain.sqlite"))
    }

    /// Opens the local chain (for administrative commands); a new file
    /// starts a wall-clock chain at block 0.
    pub fn local(&self) -> Result<LocalChain> {
        self.local_with(&Genesis::default())
    }

    /// Opens the local chain, creating a new one from `genesis` when the file
    /// holds none.
    pub fn local_with(&self, genesis: &Genesis) -> Result<LocalChain> {
        anyhow::ensure!(
            self.chain == ChainKind::Local,
            "this command works on the embedded local chain only (--chain local); \
             on subtensor use btcli"
        );
        let path = self.db_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        LocalChain::open_with(&path, genesis)
            .with_context(|| format!("opening the local chain {}", path.display()))
    }

    /// Connects to the chosen chain.
    pub async fn connect(&self) -> Result<Arc<dyn Chain>> {
        Ok(match self.chain {
            ChainKind::Local => Arc::new(self.local()?),
            ChainKind::Subtensor => Arc::new(
                gauntlet_subtensor::SubtensorChain::connect(&self.endpoint, Default::default())
                    .await
                    .with_context(|| format!("connecting to subtensor at {}", self.endpoint))?,
            ),
        })
    }
}

/// Most files a published ledger's revision may have: `ledger.jsonl` and,
/// per round, `round.json` and one items file per competition, so about
/// 33,000 rounds of two competitions (some four and a half years at a round
/// every 72 minutes). A model revision may have 1,000
/// ([`gauntlet_hub::MAX_REPO_FILES`]).
pub const MAX_LEDGER_FILES: usize = 100_000;

impl HubArgs {
    /// Opens the chosen hub; downloads are cached under `cache`.
    pub fn open(&self, cache: PathBuf) -> Result<Arc<dyn ModelStore>> {
        self.open_with_budget(cache, CacheBudget::default())
    }

    /// Opens the chosen hub's store for published ledgers: on the Hugging
    /// Face Hub, dataset repositories (downloads cached under `cache`); the
    /// local hub keeps them as it keeps models. Either takes revisions of up
    /// to [`MAX_LEDGER_FILES`] files.
    pub fn open_ledgers(&self, cache: PathBuf) -> Result<Arc<dyn ModelStore>> {
        Ok(match self.hub {
            HubKind::Local => Arc::new(self.local_hub()?.with_max_files(MAX_LEDGER_FILES)),
            HubKind::Hf => Arc::new(
                hf_hub(cache)?
                    .with_repo_kind(gauntlet_hub::RepoKind::Dataset)
                    .with_max_files(MAX_LEDGER_FILES),
            ),
        })
    }

    /// Opens the chosen hub with its download cache under `budget`.
    pub fn open_with_budget(
        &self,
        cache: PathBuf,
        budget: CacheBudget,
    ) -> Result<Arc<dyn ModelStore>> {
        Ok(match self.hub {
            HubKind::Local => Arc::new(self.local_hub()?.with_cache_budget(budget)),
            HubKind::Hf => Arc::new(hf_hub(cache)?.with_cache_budget(budget)),
        })
    }

    /// The local hub (`--hub-dir`, default `$GAUNTLET_HOME/hub`).
    fn local_hub(&self) -> Result<LocalHub> {
        let dir = self.hub_dir.clone().unwrap_or_else(|| home().join("hub"));
        LocalHub::open(&dir).with_context(|| format!("opening the local hub {}", dir.display()))
    }
}

/// The Hugging Face Hub of this environment (`HF_ENDPOINT`, `HF_TOKEN`),
/// caching downloads under `cache`.
fn hf_hub(cache: PathBuf) -> Result<HfHub> {
    HfHub::from_env(cache).context("configuring the Hugging Face Hub")
}

impl WalletArgs {
    /// The wallets directory.
    pub fn dir(&self) -> PathBuf {
        wallets_dir(self.wallet_dir.clone())
    }

    /// Loads the hotkey; an encrypted one is opened with the password from the
    /// environment (`GAUNTLET_WALLET_PASSWORD`, or bittensor-wallet's `BT_PW_…`)
    /// or, on a terminal, from a prompt.
    pub fn load(&self) -> Result<Hotkey> {
        Wallet::load_with(&self.dir(), &self.wallet, &self.hotkey, &prompt_password).with_context(
            || {
                format!(
                    "loading hotkey {}/{} from {}",
                    self.wallet,
                    self.hotkey,
                    self.dir().display()
                )
            },
        )
    }
}

/// The wallets directory: `given`, else `~/.bittensor/wallets` (Bittensor's).
pub(crate) fn wallets_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".bittensor/wallets")
    })
}

/// The password of the key file at `path`: from the environment, else asked on
/// the terminal (never echoed, never logged).
pub(crate) fn prompt_password(
    path: &std::path::Path,
) -> Result<zeroize::Zeroizing<String>, WalletError> {
    if let Some(password) = EnvPassword::lookup(path)? {
        return Ok(password);
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(WalletError::Encrypted {
            path: path.to_path_buf(),
        });
    }
    rpassword::prompt_password(format!("Password for {}: ", path.display()))
        .map(zeroize::Zeroizing::new)
        .map_err(|e| WalletError::Password {
            reason: e.to_string(),
        })
}

/// A `namespace/name` flag split and checked (`gauntlet_hub::validate_repo`).
pub fn repo_arg(flag: &str, text: &str) -> Result<(String, String)> {
    let (namespace, name) = text
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("{flag} must be namespace/name, got {text:?}"))?;
    gauntlet_hub::validate_repo(namespace, name).with_context(|| format!("{flag} {text:?}"))?;
    Ok((namespace.to_string(), name.to_string()))
}
