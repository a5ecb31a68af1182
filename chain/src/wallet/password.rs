//! Where the password of an encrypted key file comes from: the environment, or
//! whatever the caller supplies (the CLI prompts on the terminal). Passwords are
//! held in zeroized strings and never logged.

use std::path::Path;

use base64::Engine;
use zeroize::Zeroizing;

use super::WalletError;

/// The environment variable Gauntlet reads a key file's password from.
pub const PASSWORD_ENV: &str = "GAUNTLET_WALLET_PASSWORD";

/// Supplies the password of an encrypted key file when one is met.
pub trait PasswordSource {
    /// The password for the key file at `path`; [`WalletError::Encrypted`] when
    /// there is none to give.
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, WalletError>;
}

impl<F> PasswordSource for F
where
    F: Fn(&Path) -> Result<Zeroizing<String>, WalletError>,
{
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, WalletError> {
        self(path)
    }
}

/// No password: encrypted key files are refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPassword;

impl PasswordSource for NoPassword {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, WalletError> {
        Err(WalletError::Encrypted {
            path: path.to_path_buf(),
        })
    }
}

/// The password from the environment: [`PASSWORD_ENV`], else the variable in
/// which `bittensor-wallet` keeps a key file's password
/// (`Keyfile.save_password_to_env`, see [`bittensor_env_var`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvPassword;

impl EnvPassword {
    /// The password for `path` from the environment, if either variable is set.
    pub fn lookup(path: &Path) -> Result<Option<Zeroizing<String>>, WalletError> {
        if let Some(value) = std::env::var_os(PASSWORD_ENV) {
            let value = value.into_string().map_err(|_| WalletError::Password {
                reason: format!("{PASSWORD_ENV} is not UTF-8"),
            })?;
            return Ok(Some(Zeroizing::new(value)));
        }
        let name = bittensor_env_var(path);
        match std::env::var(&name) {
            Ok(value) => bittensor_env_value(&name, &value).map(Some),
            Err(_) => Ok(None),
        }
    }
}

impl PasswordSource for EnvPassword {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, WalletError> {
        EnvPassword::lookup(path)?.ok_or_else(|| WalletError::Encrypted {
            path: path.to_path_buf(),
        })
    }
}

/// The name of `bittensor-wallet`'s password variable for the key file at
/// `path`: `BT_PW_` and the path with separators and dots as `_`, upper-cased.
pub fn bittensor_env_var(path: &Path) -> String {
    let text = path
        .to_string_lossy()
        .replace([std::path::MAIN_SEPARATOR, '.'], "_");
    format!("BT_PW_{}", text.to_uppercase())
}

/// Decodes the value of `bittensor-wallet`'s password variable `name`: base64
/// of the password XORed with the variable's name (an obfuscation, not a cipher).
fn bittensor_env_value(name: &str, value: &str) -> Result<Zeroizing<String>, WalletError> {
    let bad = |reason: &str| WalletError::Password {
        reason: format!("{name}: {reason}"),
    };
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| bad("not base64"))?,
    );
    let key = name.as_bytes();
    let plain: Vec<u8> = bytes
        .iter()
        .zip(key.iter().cycle())
        .map(|(b, k)| b ^ k)
        .collect();
    String::from_utf8(plain)
        .map(Zeroizing::new)
        .map_err(|_| bad("does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bittensor_env_vars_decode() {
        // `wallet.py env-var /tmp/wt/bt/coldkey 'Secr3t-pass!'` with bittensor-wallet 4.1.1.
        let path = Path::new("/tmp/wt/bt/coldkey");
        let name = bittensor_env_var(path);
        assert_eq!(name, "BT_PW__TMP_WT_BT_COLDKEY");
        let password = bittensor_env_value(&name, "ETE8ImQrciQsIyx2").expect("decodes");
        assert_eq!(password.as_str(), "Secr3t-pass!");
        assert!(bittensor_env_value(&name, "not base64!").is_err());
    }

    #[test]
    fn without_a_password_encrypted_files_are_refused() {
        let err = NoPassword
            .password(Path::new("/w/coldkey"))
            .expect_err("no password");
        assert!(matches!(err, WalletError::Encrypted { .. }), "{err:?}");
        let from_closure = |_: &Path| Ok(Zeroizing::new("pw".to_owned()));
        assert_eq!(
            from_closure.password(Path::new("x")).expect("pw").as_str(),
            "pw"
        );
    }
}
