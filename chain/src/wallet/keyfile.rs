//! One Bittensor key file: JSON with `secretSeed`, `secretPhrase`, `publicKey`,
//! `accountId`, `privateKey`, `ss58Address` and `cryptoType`, as
//! `bittensor-wallet` writes it, in clear or password-encrypted
//! ([`super::cipher`]); and its public twin (`coldkeypub.txt`,
//! `hotkeys/<name>pub.txt`) holding only the public fields.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::cipher::{self, CipherError, Encryption};
use super::password::PasswordSource;
use super::{Hotkey, WalletError};

/// `cryptoType` of sr25519 keys in `bittensor-wallet` 4.x files.
const SR25519: u8 = 1;

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
    #[serde(
        rename = "cryptoType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    crypto_type: Option<u8>,
}

/// Reads the key at `path`, decrypting it with a password from `password` when
/// it is encrypted, and checks that its secret gives the address it records.
///
/// The secret is `secretSeed`, or `secretPhrase` when the file has no seed.
pub(crate) fn read(path: &Path, password: &dyn PasswordSource) -> Result<Hotkey, WalletError> {
    let bytes = Zeroizing::new(read_bytes(path)?);
    let plain = match cipher::detect(&bytes) {
        Encryption::None => bytes,
        _ => {
            let secret = password.password(path)?;
            cipher::decrypt(&bytes, &secret).map_err(|e| match e {
                CipherError::WrongPassword => WalletError::WrongPassword {
                    path: path.to_path_buf(),
                },
                other => WalletError::Malformed {
                    path: path.to_path_buf(),
                    reason: other.to_string(),
                },
            })?
        }
    };
    let file: KeyFile = serde_json::from_slice(&plain).map_err(|e| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let key = match (&file.secret_seed, &file.secret_phrase) {
        (Some(seed), _) => Hotkey::from_seed_hex(seed),
        (None, Some(phrase)) => Hotkey::from_phrase(phrase),
        (None, None) => {
            return Err(WalletError::Malformed {
                path: path.to_path_buf(),
                reason: "neither secretSeed nor secretPhrase".into(),
            })
        }
    }
    .map_err(|e| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    check_recorded(path, &key, &file)?;
    Ok(key)
}

/// The SS58 address a public key file (or any key file in clear) records.
pub(crate) fn read_address(path: &Path) -> Result<String, WalletError> {
    let bytes = read_bytes(path)?;
    if cipher::detect(&bytes) != Encryption::None {
        return Err(WalletError::Encrypted {
            path: path.to_path_buf(),
        });
    }
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let address = file.ss58_address.ok_or_else(|| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: "no ss58Address".into(),
    })?;
    crate::ss58::decode(address.trim()).map_err(|e| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: format!("ss58Address: {e}"),
    })?;
    Ok(address.trim().to_owned())
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, WalletError> {
    fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => WalletError::NotFound {
            path: path.to_path_buf(),
        },
        _ => WalletError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Writes `key` (with its phrase, when known) to `path`, encrypted with
/// `password` when given, and its public twin to `public_path`; both mode 0600,
/// replacing existing files only if `overwrite`.
pub(crate) fn write(
    path: &Path,
    public_path: &Path,
    key: &Hotkey,
    phrase: Option<&str>,
    password: Option<&str>,
    overwrite: bool,
) -> Result<(), WalletError> {
    let public = format!("0x{}", hex::encode(key.public_key()));
    let mut file = KeyFile {
        account_id: Some(public.clone()),
        public_key: Some(public),
        private_key: Some(format!("0x{}", hex::encode(&key.private_key()?[..]))),
        secret_phrase: phrase.map(str::to_owned),
        secret_seed: Some(format!("0x{}", hex::encode(key.seed()))),
        ss58_address: Some(key.ss58()),
        crypto_type: Some(SR25519),
    };
    let malformed = |e: String| WalletError::Malformed {
        path: path.to_path_buf(),
        reason: e,
    };
    let json = Zeroizing::new(serde_json::to_vec(&file).map_err(|e| malformed(e.to_string()))?);
    let data = match password {
        Some(password) => Zeroizing::new(
            cipher::encrypt_nacl(&json, password).map_err(|e| malformed(e.to_string()))?,
        ),
        None => json,
    };
    if !overwrite && public_path.exists() {
        return Err(WalletError::AlreadyExists {
            path: public_path.to_path_buf(),
        });
    }
    write_file(path, &data, overwrite)?;
    file.private_key = None;
    file.secret_phrase = None;
    file.secret_seed = None;
    let public_json = serde_json::to_vec(&file).map_err(|e| malformed(e.to_string()))?;
    write_file(public_path, &public_json, true)?;
    tracing::info!(path = %path.display(), ss58 = %key.ss58(), encrypted = password.is_some(), "wrote key file");
    Ok(())
}

/// Writes `data` to `path` (mode 0600); an existing file is an error unless
/// `overwrite`, in which case it is replaced atomically.
fn write_file(path: &Path, data: &[u8], overwrite: bool) -> Result<(), WalletError> {
    let io = |source| WalletError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    if overwrite {
        // Write beside the target, then rename: a crash never leaves half a key.
        let name = path
            .file_name()
            .map_or_else(Default::default, |n| n.to_string_lossy());
        let tmp = dir.join(format!(".{name}.tmp"));
        let _ = fs::remove_file(&tmp);
        write_new(&tmp, data).map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    } else {
        write_new(path, data).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                WalletError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                io(source)
            }
        })
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
