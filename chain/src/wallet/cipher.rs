//! Password-encrypted key files, as `bittensor-wallet` writes and reads them.
//!
//! - `$NACL` (what the package writes): `b"$NACL" ‖ nonce (24 bytes) ‖
//!   XSalsa20-Poly1305 secretbox (tag, then ciphertext)`, keyed by Argon2i v1.3
//!   of the password with libsodium's "sensitive" limits (8 passes over 512 MiB,
//!   one lane) and the package's fixed 16-byte salt. Written and read here.
//! - Ansible Vault 1.1 (`$ANSIBLE_VAULT`, the package's legacy writer, still
//!   read by it): read here, with the same `ansible-vault` crate the package uses.
//! - Fernet (`gAAAAA`, from the Python SDK before 8.0): the package detects it
//!   but can no longer decrypt it; refused here with the same advice (re-encrypt
//!   with btcli).
//!
//! The cryptography is RustCrypto's `argon2` and `crypto_secretbox`; this module
//! only lays out the bytes.

use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

/// How a key file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain JSON.
    None,
    /// `$NACL`: Argon2i and secretbox.
    Nacl,
    /// `$ANSIBLE_VAULT`: the package's legacy format.
    AnsibleVault,
    /// `gAAAAA`: Fernet from the old Python SDK, which nothing reads any more.
    LegacyFernet,
}

/// The prefix of `$NACL` files.
const NACL_PREFIX: &[u8] = b"$NACL";
/// `bittensor-wallet`'s Argon2i salt (`NACL_SALT`).
const NACL_SALT: &[u8; 16] = b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";
/// libsodium's `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE`: passes.
const OPSLIMIT_SENSITIVE: u32 = 8;
/// libsodium's `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE` (512 MiB), in KiB.
const MEMLIMIT_SENSITIVE_KIB: u32 = 512 * 1024;
/// XSalsa20's nonce length.
const NONCE_LEN: usize = 24;

/// Why encrypting or decrypting failed (never the password or the plaintext).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The password does not open the file (or the file was altered).
    #[error("wrong password (or a corrupted file)")]
    WrongPassword,
    /// The file is shorter or otherwise other than its format allows.
    #[error("malformed {format} data: {reason}")]
    Malformed {
        /// The format.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A format that cannot be decrypted any more.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Key derivation or the system's random generator failed.
    #[error("{0}")]
    Internal(String),
}

/// How `data` is stored, by its prefix.
pub fn detect(data: &[u8]) -> Encryption {
    if data.starts_with(NACL_PREFIX) {
        Encryption::Nacl
    } else if data.starts_with(b"$ANSIBLE_VAULT") {
        Encryption::AnsibleVault
    } else if data.starts_with(b"gAAAAA") {
        Encryption::LegacyFernet
    } else {
        Encryption::None
    }
}

/// The secretbox key of `password` (Argon2i v1.3, the package's salt and limits).
fn nacl_key(password: &str) -> Result<Zeroizing<[u8; 32]>, CipherError> {
    let params = Params::new(MEMLIMIT_SENSITIVE_KIB, OPSLIMIT_SENSITIVE, 1, Some(32))
        .map_err(|e| CipherError::Internal(format!("argon2 parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), NACL_SALT, &mut key[..])
        .map_err(|e| CipherError::Internal(format!("argon2: {e}")))?;
    Ok(key)
}

/// Encrypts `plaintext` under `password` in the `$NACL` format.
pub fn encrypt_nacl(plaintext: &[u8], password: &str) -> Result<Vec<u8>, CipherError> {
    let key = nacl_key(password)?;
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| CipherError::Internal(format!("no randomness for the nonce: {e}")))?;
    let sealed = XSalsa20Poly1305::new(Key::from_slice(&key[..]))
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| CipherError::Internal("secretbox encryption failed".into()))?;
    Ok([NACL_PREFIX, &nonce, &sealed].concat())
}

/// Decrypts an encrypted key file's contents with `password`.
pub fn decrypt(data: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    match detect(data) {
        Encryption::Nacl => {
            let body = &data[NACL_PREFIX.len()..];
            if body.len() < NONCE_LEN + 16 {
                return Err(CipherError::Malformed {
                    format: "$NACL",
                    reason: format!("{} bytes after the prefix", body.len()),
                });
            }
            let (nonce, sealed) = body.split_at(NONCE_LEN);
            let key = nacl_key(password)?;
            XSalsa20Poly1305::new(Key::from_slice(&key[..]))
                .decrypt(Nonce::from_slice(nonce), sealed)
                .map(Zeroizing::new)
                .map_err(|_| CipherError::WrongPassword)
        }
        Encryption::AnsibleVault => ansible_vault::decrypt_vault(data, password)
            .map(Zeroizing::new)
            .map_err(|e| {
                // The crate does not export its error kinds; their names are stable.
                if format!("{:?}", e.kind) == "IncorrectSecret" {
                    CipherError::WrongPassword
                } else {
                    CipherError::Malformed {
                        format: "Ansible Vault",
                        reason: e.to_string(),
                    }
                }
            }),
        Encryption::LegacyFernet => Err(CipherError::Unsupported(
            "legacy Fernet key file, which bittensor-wallet no longer decrypts either: \
             regenerate it from its mnemonic with btcli",
        )),
        Encryption::None => Ok(Zeroizing::new(data.to_vec())),
    }
}
