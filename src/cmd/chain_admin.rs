//! `gauntlet chain …`: inspect a chain; administer the local one (register,
//! stake, step the clock, run an epoch).

use anyhow::{Context, Result};
use gauntlet_chain::local::{Genesis, SubnetParams};
use gauntlet_constants::{Block, PROTOCOL_VERSION};

use super::backends::ChainArgs;
use super::print_json;

/// `gauntlet chain …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create the subnet on the local chain (and the chain itself when its
    /// file is new).
    CreateSubnet {
        #[command(flatten)]
        chain: ChainArgs,
        /// Blocks between epochs.
        #[arg(long, default_value_t = 360)]
        tempo: u64,
        /// The block number of a new chain's genesis (e.g. 4700000 for the
        /// schedule entry where INSTRUCT_8B holds the whole reward).
        #[arg(long, default_value_t = 0)]
        start_block: u64,
        /// A new chain's blocks move only by `gauntlet chain advance` instead
        /// of one every 12 s of wall time.
        #[arg(long)]
        manual_clock: bool,
        /// The subnet's weights version key (default: this Gauntlet's).
        #[arg(long)]
        version_key: Option<u64>,
    },
    /// Register a hotkey (SS58) on the local chain's subnet.
    Register {
        #[command(flatten)]
        chain: ChainArgs,
        /// The hotkey's SS58 address.
        #[arg(long)]
        ss58: String,
    },
    /// Add stake (in TAO) to a hotkey on the local chain.
    Stake {
        #[command(flatten)]
        chain: ChainArgs,
        /// The hotkey's SS58 address.
        #[arg(long)]
        ss58: String,
        /// TAO to add.
        #[arg(long)]
        tao: f64,
    },
    /// Step a hand-clocked local chain by N blocks.
    Advance {
        #[command(flatten)]
        chain: ChainArgs,
        /// Blocks.
        blocks: u64,
    },
    /// Run a Yuma epoch on the local chain now.
    Epoch {
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Credit an account on the local chain out of nothing (a local network's
    /// faucet, for funders of pools).
    Fund {
        #[command(flatten)]
        chain: ChainArgs,
        /// The account (SS58).
        #[arg(long)]
        account: String,
        /// TAO to credit (decimal, at most 9 places).
        #[arg(long)]
        tao: String,
    },
    /// An account's free balance on the local chain.
    Balance {
        #[command(flatten)]
        chain: ChainArgs,
        /// The account (SS58, or `pool:<id>` for a pool).
        #[arg(long)]
        account: String,
        /// Print `{"account", "rao", "tao"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the subnet's metagraph and commitments (any chain).
    Metagraph {
        #[command(flatten)]
        chain: ChainArgs,
        /// Print as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::CreateSubnet {
            chain,
            tempo,
            start_block,
            manual_clock,
            version_key,
        } => {
            let genesis = if manual_clock {
                Genesis::manual(Block(start_block))
            } else {
                Genesis::wall(Block(start_block))
            };
            let (major, minor, patch) = PROTOCOL_VERSION;
            chain.local_with(&genesis)?.create_subnet(
                chain.netuid(),
                &SubnetParams {
                    tempo,
                    weights_version_key: version_key
                        .unwrap_or(gauntlet_constants::version_key(major, minor, patch)),
                    ..SubnetParams::default()
                },
            )?;
            println!("subnet {} created", chain.netuid);
        }
        Command::Register { chain, ss58 } => {
            let uid = chain.local()?.register(chain.netuid(), &ss58)?;
            println!("{ss58} has uid {uid}");
        }
        Command::Stake { chain, ss58, tao } => {
            anyhow::ensure!(tao.is_finite() && tao > 0.0, "--tao must be positive");
            let total = chain
                .local()?
                .add_stake(chain.netuid(), &ss58, (tao * 1e9) as u64)?;
            println!("{ss58} stake {:.3} TAO", total as f64 / 1e9);
        }
        Command::Advance { chain, blocks } => {
            let Block(b) = chain.local()?.advance(blocks)?;
            println!("block {b}");
        }
        Command::Epoch { chain } => {
            chain.local()?.run_epoch(chain.netuid())?;
            println!("epoch run");
        }
        Command::Fund {
            chain,
            account,
            tao,
        } => {
            let amount = gauntlet_pools::Tao::parse(&tao)?;
            let total = chain.local()?.fund(&account, amount.rao())?;
            println!(
                "{} holds {} TAO",
                super::printable(&account),
                gauntlet_pools::Tao::from_rao(total)
            );
        }
        Command::Balance {
            chain,
            account,
            json,
        } => {
            let rao = chain.local()?.balance(&account)?;
            let tao = gauntlet_pools::Tao::from_rao(rao).to_string();
            if json {
                return print_json(
                    &serde_json::json!({"account": account, "rao": rao, "tao": tao}),
                );
            }
            println!("{} holds {tao} TAO", super::printable(&account));
        }
        Command::Metagraph { chain, json } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let (metagraph, commitments) = runtime.block_on(async {
                let c = chain.connect().await?;
                let m = c.metagraph(chain.netuid()).await?;
                let k = c.commitments(chain.netuid()).await?;
                anyhow::Ok((m, k))
            })?;
            if json {
                return print_json(
                    &serde_json::json!({"metagraph": metagraph, "commitments": commitments}),
                );
            }
            println!("block {}", metagraph.block.0);
            println!(
                "{:>3}  {:<48}  {:>12}  {:>6}  {:>9}  {:>9}",
                "uid", "hotkey", "stake TAO", "permit", "incentive", "dividends"
            );
            for n in &metagraph.neurons {
                println!(
                    "{:>3}  {:<48}  {:>12.3}  {:>6}  {:>9.4}  {:>9.4}",
                    n.uid.0,
                    n.hotkey,
                    n.stake as f64 / 1e9,
                    n.validator_permit,
                    n.incentive,
                    n.dividends
                );
            }
            for c in &commitments {
                println!(
                    "commitment of {} at block {}: {}",
                    c.hotkey,
                    c.block.0,
                    super::printable(&c.data)
                );
            }
        }
    }
    Ok(())
}
