//! Bittensor wallet directories (`~/.bittensor/wallets`): `<wallet>/coldkey`
//! and `<wallet>/coldkeypub.txt`, `<wallet>/hotkeys/<hotkey>` and
//! `<wallet>/hotkeys/<hotkey>pub.txt`, laid out as `bittensor-wallet` lays them.

use std::path::{Path, PathBuf};

use super::keyfile;
use super::password::{NoPassword, PasswordSource};
use super::{Hotkey, WalletError};

/// Bittensor wallet directories: loads and creates hotkey and coldkey files.
///
/// A coldkey is the same kind of sr25519 key as a hotkey ([`Hotkey`]); it is
/// usually stored encrypted, a hotkey usually in clear.
#[derive(Debug, Clone, Copy)]
pub struct Wallet;

impl Wallet {
    /// The path of a hotkey file: `<root>/<wallet>/hotkeys/<hotkey>`.
    pub fn hotkey_path(root: &Path, wallet: &str, hotkey: &str) -> Result<PathBuf, WalletError> {
        check_name(wallet)?;
        check_name(hotkey)?;
        Ok(root.join(wallet).join("hotkeys").join(hotkey))
    }

    /// The path of a coldkey file: `<root>/<wallet>/coldkey`.
    pub fn coldkey_path(root: &Path, wallet: &str) -> Result<PathBuf, WalletError> {
        check_name(wallet)?;
        Ok(root.join(wallet).join("coldkey"))
    }

    /// Loads the hotkey `<root>/<wallet>/hotkeys/<hotkey>` (`root` is usually
    /// `~/.bittensor/wallets`), checking that its secret gives the address it
    /// records; an encrypted file is refused ([`WalletError::Encrypted`]).
    pub fn load(root: &Path, wallet: &str, hotkey: &str) -> Result<Hotkey, WalletError> {
        Wallet::load_with(root, wallet, hotkey, &NoPassword)
    }

    /// Loads the hotkey like [`Wallet::load`], decrypting an encrypted file with
    /// a password from `password`.
    pub fn load_with(
        root: &Path,
        wallet: &str,
        hotkey: &str,
        password: &dyn PasswordSource,
    ) -> Result<Hotkey, WalletError> {
        keyfile::read(&Wallet::hotkey_path(root, wallet, hotkey)?, password)
    }

    /// Loads the coldkey `<root>/<wallet>/coldkey`, decrypting it with a
    /// password from `password` when it is encrypted.
    pub fn load_coldkey(
        root: &Path,
        wallet: &str,
        password: &dyn PasswordSource,
    ) -> Result<Hotkey, WalletError> {
        keyfile::read(&Wallet::coldkey_path(root, wallet)?, password)
    }

    /// The coldkey's SS58 address from `<root>/<wallet>/coldkeypub.txt` (no
    /// password needed).
    pub fn coldkey_address(root: &Path, wallet: &str) -> Result<String, WalletError> {
        check_name(wallet)?;
        keyfile::read_address(&root.join(wallet).join("coldkeypub.txt"))
    }

    /// Creates a new random hotkey and writes its file; returns it with its
    /// phrase. Refuses to replace an existing file unless `overwrite`.
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

    /// Creates a new random coldkey, encrypted with `password` when given, and
    /// its `coldkeypub.txt`; returns it with its phrase (show it once, never log
    /// it). Refuses to replace existing files unless `overwrite`.
    pub fn create_coldkey(
        root: &Path,
        wallet: &str,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(Hotkey, String), WalletError> {
        let (key, phrase) = Hotkey::try_generate()?;
        let path = Wallet::coldkey_path(root, wallet)?;
        let public = root.join(wallet).join("coldkeypub.txt");
        keyfile::write(&path, &public, &key, Some(&phrase), password, overwrite)?;
        Ok((key, phrase))
    }

    /// Writes `key` (and its phrase, when known) as `<root>/<wallet>/hotkeys/<hotkey>`
    /// in clear, with its public twin `<hotkey>pub.txt`, mode 0600, replacing
    /// existing files only if `overwrite`. Returns the path.
    pub fn save(
        root: &Path,
        wallet: &str,
        hotkey: &str,
        key: &Hotkey,
        phrase: Option<&str>,
        overwrite: bool,
    ) -> Result<PathBuf, WalletError> {
        Wallet::save_with(root, wallet, hotkey, key, phrase, None, overwrite)
    }

    /// Like [`Wallet::save`], encrypting the key file with `password` when given
    /// (the `$NACL` format `bittensor-wallet` writes).
    pub fn save_with(
        root: &Path,
        wallet: &str,
        hotkey: &str,
        key: &Hotkey,
        phrase: Option<&str>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<PathBuf, WalletError> {
        let path = Wallet::hotkey_path(root, wallet, hotkey)?;
        let public = path.with_file_name(format!("{hotkey}pub.txt"));
        keyfile::write(&path, &public, key, phrase, password, overwrite)?;
        Ok(path)
    }
}

/// Refuses names that are empty or could escape the wallets directory.
fn check_name(name: &str) -> Result<(), WalletError> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(WalletError::InvalidName { name: name.into() });
    }
    Ok(())
}
