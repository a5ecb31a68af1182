//! Key files against the real `bittensor-wallet` (`scripts/reference/wallet.py`):
//! the package's coldkeys (`$NACL` and Ansible Vault) and hotkeys (clear and
//! encrypted) load here, and the files written here load there with the same
//! secret (same address, signatures that verify). Skipped without the package,
//! except under CI.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../support/bt_python.rs"]
mod bt_python;

use std::path::{Path, PathBuf};

use gauntlet_chain::wallet::password::bittensor_env_var;
use gauntlet_chain::{EnvPassword, Hotkey, NoPassword, Wallet, WalletError};
use serde_json::Value as Json;
use zeroize::Zeroizing;

const PASSWORD: &str = "Gauntlet-Pa55word!";

fn script() -> PathBuf {
    bt_python::repo().join("scripts/reference/wallet.py")
}

fn password(_: &Path) -> Result<Zeroizing<String>, WalletError> {
    Ok(Zeroizing::new(PASSWORD.to_owned()))
}

/// The last line `wallet.py args…` prints (the package prints progress before it).
fn wallet_py(python: &Path, args: &[&str]) -> String {
    let mut all = vec![script().to_str().unwrap().to_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = bt_python::run(python, &refs, &[]);
    out.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn keys_bittensor_wallet_made_load_here() {
    let Some(python) = bt_python::bt_python("bittensor_wallet") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let made: Json = serde_json::from_str(
        wallet_py(&python, &["make", root.to_str().unwrap(), PASSWORD]).trim(),
    )
    .unwrap();
    let cold = Wallet::load_coldkey(root, "bt", &password).unwrap();
    assert_eq!(cold.ss58(), made["bt_coldkey"]);
    assert_eq!(
        Wallet::coldkey_address(root, "bt").unwrap(),
        made["bt_coldkeypub"]
    );
    let plain = Wallet::load(root, "bt", "plain").unwrap();
    assert_eq!(plain.ss58(), made["bt_plain"]);
    let locked = Wallet::load_with(root, "bt", "locked", &password).unwrap();
    assert_eq!(locked.ss58(), made["bt_locked"]);
    let vault = Wallet::load_coldkey(root, "vault", &password).unwrap();
    assert_eq!(vault.ss58(), made["vault_coldkey"]);

    assert!(matches!(
        Wallet::load_coldkey(root, "bt", &NoPassword),
        Err(WalletError::Encrypted { .. })
    ));
    let wrong = |_: &Path| Ok(Zeroizing::new("wrong".to_owned()));
    assert!(matches!(
        Wallet::load_with(root, "bt", "locked", &wrong),
        Err(WalletError::WrongPassword { .. })
    ));

    // The password as bittensor-wallet keeps it in the environment.
    let path = Wallet::coldkey_path(root, "bt").unwrap();
    let line = wallet_py(&python, &["env-var", path.to_str().unwrap(), PASSWORD]);
    let (name, value) = line.trim().split_once('=').unwrap();
    assert_eq!(name, bittensor_env_var(&path));
    // A variable no other test reads (its name is this test's temporary path).
    std::env::set_var(name, value);
    let from_env = Wallet::load_coldkey(root, "bt", &EnvPassword);
    std::env::remove_var(name);
    assert_eq!(from_env.unwrap(), cold);
}

#[test]
fn keys_made_here_load_in_bittensor_wallet() {
    let Some(python) = bt_python::bt_python("bittensor_wallet") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (cold, _) = Wallet::create_coldkey(root, "g", Some(PASSWORD), false).unwrap();
    let (hot, phrase) = Hotkey::generate();
    Wallet::save_with(
        root,
        "g",
        "locked",
        &hot,
        Some(&phrase),
        Some(PASSWORD),
        false,
    )
    .unwrap();
    let (plain, _) = Wallet::create(root, "g", "plain", false).unwrap();

    for (name, key) in [("locked", &hot), ("plain", &plain)] {
        let read: Json = serde_json::from_str(
            wallet_py(
                &python,
                &["read", root.to_str().unwrap(), "g", name, PASSWORD],
            )
            .trim(),
        )
        .unwrap();
        assert_eq!(read["coldkey"], cold.ss58());
        assert_eq!(read["coldkeypub"], cold.ss58());
        assert_eq!(read["hotkey"], key.ss58(), "{name}");
        // Their signatures verify under our public keys: the same secrets.
        for (field, public) in [
            ("coldkey_signature", cold.public_key()),
            ("hotkey_signature", key.public_key()),
        ] {
            let sig: [u8; 64] = hex::decode(read[field].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            assert!(Hotkey::verify(&public, b"gauntlet", &sig), "{name} {field}");
        }
    }
}
