//! `gauntlet pool …`: funding pools — create, deposit, join, list, status,
//! and settle the periods that have ended by the validator's leaderboard
//! snapshots. On the local chain a pool is an account of its own and payouts
//! are real transfers; on subtensor a pool is the funder's account and its
//! payouts are batches the funder signs ([`SubtensorTreasury`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_chain::{ChainError, LocalChain, Wallet};
use gauntlet_constants::CompetitionId;
use gauntlet_pools::{
    settle, Entry, NewPool, Pool, PoolError, PoolStore, PoolView, Rule, Standing, Standings,
    SubtensorTreasury, Tao, Treasury,
};
use gauntlet_validator::State;

use super::backends::{home, ChainArgs, ChainKind};
use super::competitions::registry;
use super::{print_json, printable};

/// Where the pools file is, and the chain that holds the pools' money.
#[derive(clap::Args, Debug, Clone)]
pub struct PoolsArgs {
    /// The pools file (default `$GAUNTLET_HOME/pools.sqlite`).
    #[arg(long)]
    pools: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    /// Subtensor: sign payouts with the coldkey of this wallet (the pool's
    /// account); without it, payouts are printed for the funder to sign.
    #[arg(long)]
    coldkey_wallet: Option<String>,
    /// The wallets directory (default `~/.bittensor/wallets`).
    #[arg(long)]
    wallet_dir: Option<PathBuf>,
    /// Subtensor: TAO the pool's account keeps for fees and its existential
    /// deposit (never paid out).
    #[arg(long, default_value = "0.01")]
    reserve: String,
}

/// The chain side of the pools.
enum Funds {
    Local(LocalChain),
    Subtensor(Box<SubtensorTreasury>),
}

impl Funds {
    fn treasury(&self) -> &dyn Treasury {
        match self {
            Funds::Local(c) => c,
            Funds::Subtensor(t) => t.as_ref(),
        }
    }
}

impl PoolsArgs {
    fn path(&self) -> PathBuf {
        self.pools
            .clone()
            .unwrap_or_else(|| home().join("pools.sqlite"))
    }

    fn open(&self) -> Result<(PoolStore, Funds)> {
        let path = self.path();
        let open = || PoolStore::open(&path).with_context(|| format!("opening {}", path.display()));
        let store = open()?;
        let funds = match self.chain.chain {
            ChainKind::Local => Funds::Local(self.chain.local()?),
            ChainKind::Subtensor => {
                let coldkey = match &self.coldkey_wallet {
                    Some(wallet) => {
                        let dir = super::backends::wallets_dir(self.wallet_dir.clone());
                        Some(
                            Wallet::load_coldkey(&dir, wallet, &super::backends::prompt_password)
                                .with_context(|| {
                                    format!("loading the coldkey of wallet {wallet}")
                                })?,
                        )
                    }
                    None => None,
                };
                let reserve = Tao::parse(&self.reserve).context("--reserve")?.rao();
                Funds::Subtensor(Box::new(
                    SubtensorTreasury::connect(
                        &self.chain.endpoint,
                        Default::default(),
                        open()?,
                        coldkey,
                        reserve,
                    )
                    .with_context(|| {
                        format!("connecting to subtensor at {}", self.chain.endpoint)
                    })?,
                ))
            }
        };
        Ok((store, funds))
    }
}

/// Who may enter a pool.
#[derive(Debug, Clone, Copy, clap::ValueEnum, Default)]
pub enum EntryArg {
    /// Every model ranked on the competition's leaderboard.
    #[default]
    Open,
    /// Only hotkeys that ran `gauntlet pool join`.
    Join,
}

/// `gauntlet pool …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a pool on a competition and deposit its first funds (from the
    /// funder's account on the local chain: `gauntlet chain fund` fills one).
    Create {
        #[command(flatten)]
        at: PoolsArgs,
        /// The competition (id or name).
        #[arg(long)]
        competition: String,
        /// TAO to deposit now (decimal, at most 9 places).
        #[arg(long)]
        funds: String,
        /// Blocks per period: each period's end pays the pool's balance out.
        #[arg(long)]
        period: u64,
        /// The allocation rule.
        #[arg(long, default_value = "arithmetic-decrease")]
        rule: String,
        /// Who may enter.
        #[arg(long, value_enum, default_value_t)]
        entry: EntryArg,
        /// The funder's account (SS58).
        #[arg(long)]
        funder: String,
        /// Extra competition definitions (directory of TOML files).
        #[arg(long)]
        defs: Option<PathBuf>,
        /// Print the new pool as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add funds to a pool.
    Deposit {
        #[command(flatten)]
        at: PoolsArgs,
        /// The pool's id.
        #[arg(long)]
        pool: i64,
        /// TAO to deposit.
        #[arg(long)]
        funds: String,
        /// The funder's account (SS58).
        #[arg(long)]
        funder: String,
    },
    /// Enter a hotkey in a pool created with `--entry join`.
    Join {
        #[command(flatten)]
        at: PoolsArgs,
        /// The pool's id.
        #[arg(long)]
        pool: i64,
        /// The model's hotkey (SS58).
        #[arg(long)]
        hotkey: String,
    },
    /// List the pools with their balances.
    List {
        #[command(flatten)]
        at: PoolsArgs,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One pool: its balance, entrants and every period's payout.
    Status {
        #[command(flatten)]
        at: PoolsArgs,
        /// The pool's id.
        #[arg(long)]
        pool: i64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pay out every period that has ended, by the competition's first
    /// leaderboard snapshot at or after the period's end (each period once).
    Settle {
        #[command(flatten)]
        at: PoolsArgs,
        /// Only this pool (all of them by default).
        #[arg(long)]
        pool: Option<i64>,
        /// The validator state holding the snapshots (default
        /// `$GAUNTLET_HOME/validator.sqlite`).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Print the payouts made as JSON (on subtensor, an object with the
        /// payouts made, `paid`, and the batches left to sign, `to_sign`).
        #[arg(long)]
        json: bool,
    },
}

/// A pool with its balance and history, for `create`, `list` and `status`.
fn view(store: &PoolStore, funds: &Funds, pool: Pool) -> Result<PoolView> {
    Ok(PoolView::read(store, funds.treasury(), pool)?)
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Create {
            at,
            competition,
            funds,
            period,
            rule,
            entry,
            funder,
            defs,
            json,
        } => {
            let registry = registry(defs.as_deref())?;
            let c = registry.find(&competition).with_context(|| {
                format!("unknown competition {competition:?} (see `gauntlet competitions`)")
            })?;
            let rule = Rule::parse(&rule)
                .with_context(|| format!("unknown rule {rule:?} (arithmetic-decrease)"))?;
            anyhow::ensure!(period > 0, "--period must be at least 1 block");
            let amount = Tao::parse(&funds)?;
            let (mut store, funds) = at.open()?;
            let new = NewPool {
                competition: c.id.0,
                funder,
                funds: amount,
                period_blocks: period,
                rule,
                entry: match entry {
                    EntryArg::Open => Entry::Open,
                    EntryArg::Join => Entry::Join,
                },
                start_block: funds.treasury().block()?,
            };
            let id = store
                .create(funds.treasury(), &new)
                .context("creating the pool")?;
            let v = view(&store, &funds, store.pool(id)?)?;
            if json {
                return print_json(&v);
            }
            println!(
                "pool {id} on {}: {} TAO, paid out every {period} blocks from block {} ({})",
                c.name,
                v.balance_tao,
                v.pool.start_block,
                rule.name()
            );
            Ok(())
        }
        Command::Deposit {
            at,
            pool,
            funds,
            funder,
        } => {
            let funds = Tao::parse(&funds)?;
            let (mut store, chain) = at.open()?;
            store.deposit(chain.treasury(), pool, &funder, funds)?;
            println!("{funds} TAO deposited into pool {pool}");
            Ok(())
        }
        Command::Join { at, pool, hotkey } => {
            let (store, _) = at.open()?;
            store.join(pool, &hotkey)?;
            println!("{} joined pool {pool}", printable(&hotkey));
            Ok(())
        }
        Command::List { at, json } => {
            let (store, funds) = at.open()?;
            store.reconcile(funds.treasury())?;
            let views = store
                .pools()?
                .into_iter()
                .map(|p| view(&store, &funds, p))
                .collect::<Result<Vec<_>>>()?;
            if json {
                return print_json(&views);
            }
            println!(
                "{:>4}  {:>11}  {:>8}  {:>16}  rule",
                "pool", "competition", "period", "balance TAO"
            );
            for v in &views {
                println!(
                    "{:>4}  {:>11}  {:>8}  {:>16}  {}",
                    v.pool.id,
                    v.pool.competition,
                    v.pool.period_blocks,
                    v.balance_tao,
                    v.pool.rule.name()
                );
            }
            Ok(())
        }
        Command::Status { at, pool, json } => {
            let (store, funds) = at.open()?;
            store.reconcile(funds.treasury())?;
            let v = view(&store, &funds, store.pool(pool)?)?;
            if json {
                return print_json(&serde_json::json!({"pool": &v, "payouts": &v.payouts}));
            }
            println!(
                "pool {pool}: competition {}, balance {} TAO, deposited {} TAO, period {} blocks",
                v.pool.competition, v.balance_tao, v.deposited_tao, v.pool.period_blocks
            );
            for p in &v.payouts {
                println!(
                    "period {} (settled at block {}, snapshot {}): {:?}",
                    p.period, p.block, p.snapshot_block, p.status
                );
                for pay in &p.payments {
                    println!(
                        "  #{} {} {} TAO",
                        pay.rank,
                        printable(&pay.hotkey),
                        Tao::from_rao(pay.rao)
                    );
                }
            }
            Ok(())
        }
        Command::Settle {
            at,
            pool,
            state,
            json,
        } => {
            let (mut store, funds) = at.open()?;
            let path = state.unwrap_or_else(|| home().join("validator.sqlite"));
            anyhow::ensure!(path.is_file(), "no validator state at {}", path.display());
            let state =
                State::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let now = funds.treasury().block()?;
            let ids: Vec<i64> = match pool {
                Some(id) => vec![store.pool(id)?.id],
                None => store.pools()?.iter().map(|p| p.id).collect(),
            };
            let mut made = Vec::new();
            for id in ids {
                let competition = CompetitionId(store.pool(id)?.competition);
                let paid = settle(&mut store, funds.treasury(), id, now, |end| {
                    let snapshot = state
                        .leaderboards(competition)
                        .map_err(|e| gauntlet_pools::PoolError::Leaderboard(e.to_string()))?
                        .into_iter()
                        .find(|s| s.block >= end);
                    Ok(snapshot.map(|s| Standings {
                        block: s.block,
                        rows: s
                            .rows
                            .into_iter()
                            .map(|r| Standing {
                                hotkey: r.hotkey,
                                uid: r.uid,
                                rank: r.rank,
                            })
                            .collect(),
                    }))
                });
                match paid {
                    Ok(paid) => made.extend(paid),
                    // Subtensor without the pool's key: print what to sign.
                    Err(PoolError::Chain(ChainError::AwaitingSignature { .. })) => break,
                    Err(e) => return Err(e).with_context(|| format!("settling pool {id}")),
                }
            }
            let unsigned = match &funds {
                Funds::Subtensor(t) => Some(t.unsigned()),
                Funds::Local(_) => None,
            };
            if json {
                // On subtensor, the batches left to sign come beside the payouts.
                return match unsigned {
                    Some(to_sign) => {
                        print_json(&serde_json::json!({"paid": &made, "to_sign": to_sign}))
                    }
                    None => print_json(&made),
                };
            }
            let unsigned = unsigned.unwrap_or_default();
            if !unsigned.is_empty() {
                for u in &unsigned {
                    println!(
                        "{}: sign Utility.batch_all from {} with nonce {} and send it:",
                        u.batch.key,
                        printable(&u.batch.account),
                        u.batch.nonce
                    );
                    for (dest, rao) in &u.batch.transfers {
                        println!("  {} TAO to {}", Tao::from_rao(*rao), printable(dest));
                    }
                    println!("  call data {}", u.call_data);
                }
                println!(
                    "then run `gauntlet pool settle` again: it records the payout once the \
                     account's nonce has passed {}",
                    unsigned.iter().map(|u| u.batch.nonce).max().unwrap_or(0)
                );
                return Ok(());
            }
            if made.is_empty() {
                println!("nothing to settle at block {now}");
            }
            for p in &made {
                let total: u64 = p.payments.iter().map(|x| x.rao).sum();
                println!(
                    "pool {} period {}: {:?}, {} TAO to {} entrants",
                    p.pool,
                    p.period,
                    p.status,
                    Tao::from_rao(total),
                    p.payments.len()
                );
            }
            Ok(())
        }
    }
}
