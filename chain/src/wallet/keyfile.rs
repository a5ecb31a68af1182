//! Bittensor key files: `<root>/<wallet>/hotkeys/<hotkey>`, unencrypted JSON with
//! `secretSeed`, `secretPhrase`, `publicKey`, `accountId`, `privateKey` and
//! `ss58Address`, as the Python SDK (`bittensor-wallet`) writes them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Hotkey, WalletError};

/// The on-disk JSON of one key (field names as Bittensor spells them).
#[derive(Serialize, Deserialize)]
struct KeyFile {
    #[serde(rename = "accountId", default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(
        rename = "privateKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    private_key: Option<String>,
    #[serde(
        rename = "secretPhrase",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    secret_phrase: Option<String>,
    #[serde(
        rename = "secretSeed",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    secret_seed: Option<String>,
    #[serde(
        rename = "ss58Address",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    ss58_address: Option<String>,
}

/// Bittensor wallet directories: loads and creates hotkey files.
#[derive(Debug, Clone, Copy)]
pub struct Wallet;

impl Wallet {
    /// The path of a hotkey file: `<root>/<wallet>/hotkeys/<hotkey>`.
    pub fn hotkey_path(root: &Path, wallet: &str, hotkey: &str) -> Result<PathBuf, WalletError> {
        check_name(wallet)?;
        check_name(hotkey)?;
        Ok(root.join(wallet).join("hotkeys").join(hotkey))
    }

    /// Loads the hotkey `<root>/<wallet>/hotkeys/<hotkey>` (`root` is usually
    /// `~/.bittensor/wallets`), checking that its secret gives the address it records.
    ///
    /// The secret is `secretSeed`, or `secretPhrase` when the file has no seed.
    pub fn load(root: &Path, wallet: &str, hotkey: &str) -> Result<Hotkey, WalletError> {
        let path = Wallet::hotkey_path(root, wallet, hotkey)?;
        let bytes = fs::read(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => WalletError::NotFound { path: path.clone() },
            _ => WalletError::Io {
                path: path.clone(),
                source,
            },
        })?;
        if [&b"$NACL"[..], b"$ANSIBLE_VAULT", b"gAAAAA"]
            .iter()
            .any(|magic| bytes.starts_with(magic))
        {
            return Err(WalletError::Encrypted { path });
        }
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| WalletError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let key = match (&file.secret_seed, &file.secret_phrase) {
            (Some(seed), _) => Hotkey::from_seed_hex(seed),
            (None, Some(phrase)) => Hotkey::from_phrase(phrase),
            (None, None) => {
                return Err(WalletError::Malformed {
                    path,
                    reason: "neither secretSeed nor secretPhrase".into(),
                })
            }
        }
        .map_err(|e| WalletError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        check_recorded(&path, &key, &file)?;
        Ok(key)
    }

    /// Creates a new random hotkey and writes its file; returns it with its phrase.
    ///
    /// Refuses to replace an existing file unless `overwrite`.
    pub fn create(
        root: &Path,
        wallet: &str,
        hotkey: &str,
        overwrite: bool,
    ) -> Result<(Hotkey, String), WalletError> {
        let (key, phrase) = Hotkey::try_generate()?;
        Wallet::save(root, wallet, hotkey, &key, Some(&phrase), overwrite)?;
        Ok((key, phrase))
    }

    /// Writes `key` (and its phrase, when known) as `<root>/<wallet>/hotkeys/<hotkey>`,
    /// file mode 0600, replacing an existing file only if `overwrite`. Returns the path.
    pub fn save(
        root: &Path,
        wallet: &str,
        hotkey: &str,
        key: &Hotkey,
        phrase: Option<&str>,
        overwrite: bool,
    ) -> Result<PathBuf, WalletError> {
        let path = Wallet::hotkey_path(root, wallet, hotkey)?;
        let public = format!("0x{}", hex::encode(key.public_key()));
        let file = KeyFile {
            account_id: Some(public.clone()),
            public_key: Some(public),
            private_key: Some(format!("0x{}", hex::encode(&key.private_key()?[..]))),
            secret_phrase: phrase.map(str::to_owned),
            secret_seed: Some(format!("0x{}", hex::encode(key.seed()))),
            ss58_address: Some(key.ss58()),
        };
        let json = zeroize::Zeroizing::new(serde_json::to_vec(&file).map_err(|e| {
            WalletError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?);
        let io = |source| WalletError::Io {
            path: path.clone(),
            source,
        };
        let dir = path.parent().unwrap_or(root);
        fs::create_dir_all(dir).map_err(io)?;
        if overwrite {
            // Write beside the target, then rename: a crash never leaves half a key.
            let tmp = dir.join(format!(".{hotkey}.tmp"));
            let _ = fs::remove_file(&tmp);
            write_new(&tmp, &json).map_err(io)?;
            fs::rename(&tmp, &path).map_err(io)?;
        } else {
            write_new(&path, &json).map_err(|source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    WalletError::AlreadyExists { path: path.clone() }
                } else {
                    io(source)
                }
            })?;
        }
        tracing::info!(path = %path.display(), ss58 = %key.ss58(), "wrote hotkey file");
        Ok(path)
    }
}

/// Creates `path` (failing if it exists) readable by its owner only, with `data`.
fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Refuses names that are empty or could escape the wallets directory.
fn check_name(name: &str) -> Result<(), WalletError> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(WalletError::InvalidName { name: name.into() });
    }
    Ok(())
}

/// Checks the address and public key the file records against the derived key.
fn check_recorded(path: &Path, key: &Hotkey, file: &KeyFile) -> Result<(), WalletError> {
    let derived = key.ss58();
    let mismatch = |recorded: &str| WalletError::Mismatch {
        path: path.to_path_buf(),
        recorded: recorded.to_owned(),
        derived: derived.clone(),
    };
    if let Some(recorded) = &file.ss58_address {
        if recorded.trim() != derived {
            return Err(mismatch(recorded));
        }
    }
    let public = hex::encode(key.public_key());
    for recorded in [&file.public_key, &file.account_id].into_iter().flatten() {
        let digits = recorded
            .trim()
            .trim_start_matches("0x")
            .to_ascii_lowercase();
        if digits != public {
            return Err(mismatch(recorded));
        }
    }
    Ok(())
}
