//! Bittensor-compatible hotkeys (sr25519, SS58 prefix 42) and wallet files.
//!
//! A [`Hotkey`] wraps a `subxt-signer` sr25519 keypair built from a 32-byte mini
//! secret (the `secretSeed` of a Bittensor key file); a BIP-39 phrase becomes that
//! seed exactly as Substrate and Bittensor do (PBKDF2-HMAC-SHA512 of the phrase's
//! entropy, salt `"mnemonic"`, 2048 rounds, first 32 bytes). [`Wallet`] reads and
//! writes hotkey and coldkey files under `~/.bittensor/wallets` as
//! `bittensor-wallet` does, in clear or password-encrypted ([`cipher`]), the
//! password coming from a [`PasswordSource`] (the environment, a prompt).

pub mod cipher;
mod directory;
mod keyfile;
pub mod password;

pub use directory::Wallet;
pub use password::{EnvPassword, NoPassword, PasswordSource, PASSWORD_ENV};

use std::fmt;
use std::path::PathBuf;

use subxt_signer::bip39::{Language, Mnemonic};
use subxt_signer::sr25519::{self, Keypair};
use zeroize::Zeroizing;

use crate::ss58;

/// An error of a hotkey or a wallet file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The seed is not 32 bytes of hex.
    #[error("invalid secret seed: {reason}")]
    InvalidSeed {
        /// Why it was refused (never the seed itself).
        reason: String,
    },
    /// The phrase is not a valid English BIP-39 mnemonic.
    #[error("invalid secret phrase: {reason}")]
    InvalidPhrase {
        /// Why it was refused (never the phrase itself).
        reason: String,
    },
    /// The key file does not exist.
    #[error("no key file at {path}")]
    NotFound {
        /// The path looked at.
        path: PathBuf,
    },
    /// The key file exists and `overwrite` was not asked for.
    #[error("key file {path} already exists")]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Reading or writing the key file failed.
    #[error("key file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is encrypted and no password was given for it.
    #[error(
        "key file {path} is encrypted and no password was given (set {} or answer the prompt)",
        password::PASSWORD_ENV
    )]
    Encrypted {
        /// The file.
        path: PathBuf,
    },
    /// The password given does not open the key file.
    #[error("wrong password for key file {path}")]
    WrongPassword {
        /// The file.
        path: PathBuf,
    },
    /// A password could not be obtained (an unreadable variable, no terminal).
    #[error("password: {reason}")]
    Password {
        /// Why (never the password itself).
        reason: String,
    },
    /// The key file is not the expected JSON.
    #[error("key file {path} is not valid key JSON: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key derived from the file's secret is not the address the file names.
    #[error("key file {path}: its secret gives {derived}, but the file says {recorded}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The SS58 address (or public key) the file records.
        recorded: String,
        /// The SS58 address of the key derived from its secret.
        derived: String,
    },
    /// A wallet or hotkey name that is empty or would leave the wallets directory.
    #[error("invalid wallet or hotkey name {name:?}")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// The system's random number generator failed.
    #[error("no randomness available: {reason}")]
    Randomness {
        /// What the system said.
        reason: String,
    },
}

/// An sr25519 hotkey: signs commitments and weights, names a neuron by its SS58.
///
/// `Debug` shows only the address; the secret seed is zeroed when dropped.
#[derive(Clone)]
pub struct Hotkey {
    keypair: Keypair,
    seed: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl Hotkey {
    /// The hotkey of a 32-byte sr25519 mini secret.
    pub fn from_seed(seed: [u8; 32]) -> Result<Hotkey, WalletError> {
        let seed = Zeroizing::new(seed);
        let keypair = Keypair::from_secret_key(*seed).map_err(|e| WalletError::InvalidSeed {
            reason: e.to_string(),
        })?;
        let public = keypair.public_key().0;
        Ok(Hotkey {
            keypair,
            seed,
            public,
        })
    }

    /// The hotkey of a hex seed (64 hex digits, `0x` prefix optional), the
    /// `secretSeed` of a key file.
    pub fn from_seed_hex(seed_hex: &str) -> Result<Hotkey, WalletError> {
        let digits = seed_hex.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        if digits.len() != 64 {
            return Err(WalletError::InvalidSeed {
                reason: format!("expected 64 hex digits, found {}", digits.len()),
            });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(digits, &mut seed[..]).map_err(|_| WalletError::InvalidSeed {
            reason: "not hexadecimal".into(),
        })?;
        Hotkey::from_seed(*seed)
    }

    /// The hotkey of an English BIP-39 phrase (no password), as Bittensor derives it.
    pub fn from_phrase(phrase: &str) -> Result<Hotkey, WalletError> {
        let words = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
        let mnemonic = Mnemonic::parse_in_normalized(Language::English, &words).map_err(|e| {
            WalletError::InvalidPhrase {
                reason: e.to_string(),
            }
        })?;
        let (entropy, len) = mnemonic.to_entropy_array();
        let entropy = Zeroizing::new(entropy);
        let mut big_seed = Zeroizing::new([0u8; 64]);
        pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha512>>(
            &entropy[..len],
            b"mnemonic",
            2048,
            &mut big_seed[..],
        )
        .map_err(|e| WalletError::InvalidPhrase {
            reason: e.to_string(),
        })?;
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&big_seed[..32]);
        Hotkey::from_seed(seed)
    }

    /// A fresh random hotkey and its 12-word phrase (show it once, never log it).
    ///
    /// # Panics
    /// If the operating system's random number generator fails; see
    /// [`Hotkey::try_generate`] to handle that instead.
    pub fn generate() -> (Hotkey, String) {
        #[allow(clippy::expect_used)]
        Hotkey::try_generate().expect("the system random number generator failed")
    }

    /// A fresh random hotkey and its 12-word phrase, or why none could be made.
    pub fn try_generate() -> Result<(Hotkey, String), WalletError> {
        let mut entropy = Zeroizing::new([0u8; 16]);
        getrandom::getrandom(&mut entropy[..]).map_err(|e| WalletError::Randomness {
            reason: e.to_string(),
        })?;
        let mnemonic = Mnemonic::from_entropy_in(Language::English, &entropy[..]).map_err(|e| {
            WalletError::InvalidPhrase {
                reason: e.to_string(),
            }
        })?;
        let phrase = mnemonic.to_string();
        Ok((Hotkey::from_phrase(&phrase)?, phrase))
    }

    /// The SS58 address (prefix 42) naming this hotkey on chain.
    pub fn ss58(&self) -> String {
        ss58::encode(&self.public)
    }

    /// The 32-byte sr25519 public key (the `AccountId32`).
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The 32-byte mini secret; handle with care (key files store it as `secretSeed`).
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// Signs `msg` (sr25519 with the `substrate` signing context).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.keypair.sign(msg).0
    }

    /// Whether `sig` is `public`'s signature of `msg`.
    pub fn verify(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
        sr25519::verify(&sr25519::Signature(*sig), msg, &sr25519::PublicKey(*public))
    }

    /// The underlying keypair, to sign extrinsics with subxt.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The 64-byte expanded secret key (key ‖ nonce), the `privateKey` of key files.
    pub(crate) fn private_key(&self) -> Result<Zeroizing<[u8; 64]>, WalletError> {
        let mini = schnorrkel::MiniSecretKey::from_bytes(&self.seed[..]).map_err(|e| {
            WalletError::InvalidSeed {
                reason: e.to_string(),
            }
        })?;
        let secret = mini.expand(schnorrkel::ExpansionMode::Ed25519);
        Ok(Zeroizing::new(secret.to_bytes()))
    }
}

impl fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotkey")
            .field("ss58", &self.ss58())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Hotkey {
    fn eq(&self, other: &Hotkey) -> bool {
        self.public == other.public
    }
}

impl Eq for Hotkey {}

#[cfg(test)]
mod tests;
