//! `gauntlet wallet new|show`: Bittensor-compatible hotkey files.

use anyhow::{Context, Result};
use gauntlet_chain::Wallet;

use super::backends::WalletArgs;
use super::print_json;

/// `gauntlet wallet …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a hotkey file (never overwrites one unless --overwrite).
    New {
        #[command(flatten)]
        wallet: WalletArgs,
        /// Replace an existing hotkey file.
        #[arg(long)]
        overwrite: bool,
        /// Print as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Show a hotkey's SS58 address (never its secret).
    Show {
        #[command(flatten)]
        wallet: WalletArgs,
        /// Print as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::New {
            wallet,
            overwrite,
            json,
        } => {
            let (key, _phrase) =
                Wallet::create(&wallet.dir(), &wallet.wallet, &wallet.hotkey, overwrite)
                    .with_context(|| {
                        format!("creating hotkey {}/{}", wallet.wallet, wallet.hotkey)
                    })?;
            let file = wallet
                .dir()
                .join(&wallet.wallet)
                .join("hotkeys")
                .join(&wallet.hotkey);
            if json {
                print_json(&serde_json::json!({"ss58": key.ss58(), "file": file}))
            } else {
                println!("hotkey {} written to {}", key.ss58(), file.display());
                println!(
                    "its secret phrase is in that file (mode 0600); back it up, never share it"
                );
                Ok(())
            }
        }
        Command::Show { wallet, json } => {
            let key = wallet.load()?;
            if json {
                print_json(&serde_json::json!({"ss58": key.ss58()}))
            } else {
                println!("{}", key.ss58());
                Ok(())
            }
        }
    }
}
