//! `gauntlet pool …`: funding pools on the local chain — create, deposit,
//! join, list, status, and settle the periods that have ended by the
//! validator's leaderboard snapshots.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_chain::LocalChain;
use gauntlet_constants::CompetitionId;
use gauntlet_pools::{settle, Entry, NewPool, Pool, PoolStore, Rule, Standing, Standings, Tao};
use gauntlet_validator::State;
use serde::Serialize;

use super::backends::{home, ChainArgs};
use super::competitions::registry;
use super::{print_json, printable};

/// Where the pools file is.
#[derive(clap::Args, Debug, Clone)]
pub struct PoolsArgs {
    /// The pools file (default `$GAUNTLET_HOME/pools.sqlite`).
    #[arg(long)]
    pools: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
}

impl PoolsArgs {
    fn open(&self) -> Result<(PoolStore, LocalChain)> {
        let chain = self.chain.local()?;
        let path = self
            .pools
            .clone()
            .unwrap_or_else(|| home().join("pools.sqlite"));
        let store =
            PoolStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
        Ok((store, chain))
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
        /// Print the payouts made as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A pool with its balance, for `list` and `status`.
#[derive(Serialize)]
struct PoolView {
    #[serde(flatten)]
    pool: Pool,
    account: String,
    balance_rao: u64,
    balance_tao: String,
    deposited_tao: String,
    entrants: Vec<String>,
}

fn view(store: &PoolStore, chain: &LocalChain, pool: Pool) -> Result<PoolView> {
    let account = gauntlet_pools::Treasury::account_of(chain, &pool);
    let balance = chain.balance(&account)?;
    Ok(PoolView {
        account,
        balance_rao: balance,
        balance_tao: Tao::from_rao(balance).to_string(),
        deposited_tao: Tao::from_rao(store.deposited(pool.id)?).to_string(),
        entrants: if pool.entry == Entry::Join {
            store.joined(pool.id)?
        } else {
            Vec::new()
        },
        pool,
    })
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
            let funds = Tao::parse(&funds)?;
            let (mut store, chain) = at.open()?;
            let new = NewPool {
                competition: c.id.0,
                funder,
                funds,
                period_blocks: period,
                rule,
                entry: match entry {
                    EntryArg::Open => Entry::Open,
                    EntryArg::Join => Entry::Join,
                },
                start_block: chain.block()?.0,
            };
            let id = store.create(&chain, &new).context("creating the pool")?;
            let v = view(&store, &chain, store.pool(id)?)?;
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
            store.deposit(&chain, pool, &funder, funds)?;
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
            let (store, chain) = at.open()?;
            store.reconcile(&chain)?;
            let views = store
                .pools()?
                .into_iter()
                .map(|p| view(&store, &chain, p))
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
            let (store, chain) = at.open()?;
            store.reconcile(&chain)?;
            let v = view(&store, &chain, store.pool(pool)?)?;
            let payouts = store.payouts(pool)?;
            if json {
                return print_json(&serde_json::json!({"pool": v, "payouts": payouts}));
            }
            println!(
                "pool {pool}: competition {}, balance {} TAO, deposited {} TAO, period {} blocks",
                v.pool.competition, v.balance_tao, v.deposited_tao, v.pool.period_blocks
            );
            for p in &payouts {
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
            let (mut store, chain) = at.open()?;
            let path = state.unwrap_or_else(|| home().join("validator.sqlite"));
            anyhow::ensure!(path.is_file(), "no validator state at {}", path.display());
            let state =
                State::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let now = chain.block()?.0;
            let ids: Vec<i64> = match pool {
                Some(id) => vec![store.pool(id)?.id],
                None => store.pools()?.iter().map(|p| p.id).collect(),
            };
            let mut made = Vec::new();
            for id in ids {
                let competition = CompetitionId(store.pool(id)?.competition);
                let paid = settle(&mut store, &chain, id, now, |end| {
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
                })
                .with_context(|| format!("settling pool {id}"))?;
                made.extend(paid);
            }
            if json {
                return print_json(&made);
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
