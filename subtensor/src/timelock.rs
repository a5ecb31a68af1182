//! Commit–reveal v4's payload and its timelock encryption to a drand quicknet
//! round, byte for byte as the chain and the Python SDK's `bittensor-drand` do it.
//!
//! The payload is the SCALE encoding of subtensor's `WeightsTlockPayload`
//! `{hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}`; it is
//! encrypted with Boneh–Franklin identity-based encryption on BLS12-381 to the
//! identity `sha256(round as u64 big-endian)` under quicknet's public key, the
//! body sealed with AES-GCM, and the ciphertext serialised compressed with
//! arkworks. The cryptography is the `timelock` crate (ideal-lab5), the same code
//! as the `tle` revision both subtensor and `bittensor-drand` build with; this
//! module only wires it up. Decrypting needs the round's BLS signature, which
//! drand publishes when the round comes: the chain does it, and tests do it with
//! a published signature.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use sha2::Digest;
use subxt::ext::codec::{Decode, Encode};
use timelock::curves::drand::TinyBLS381;
use timelock::ibe::fullident::Identity;
use timelock::stream_ciphers::AESGCMStreamCipherProvider;
use timelock::tlock::{tld, tle, EngineBLS, TLECiphertext};

/// The drand quicknet beacon's BLS public key (G2, compressed), hex.
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// Unix time of quicknet's round 1, in seconds.
pub const QUICKNET_GENESIS_SECS: u64 = 1_692_803_367;
/// Seconds between quicknet rounds.
pub const QUICKNET_PERIOD_SECS: u64 = 3;

/// The plaintext of a commit: whose weights, and the weights themselves.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[codec(crate = subxt::ext::codec)]
pub struct WeightsPayload {
    /// The committing hotkey's 32-byte public key (the chain checks it is the
    /// signer's account).
    pub hotkey: Vec<u8>,
    /// The uids.
    pub uids: Vec<u16>,
    /// Their weights.
    pub values: Vec<u16>,
    /// The version key.
    pub version_key: u64,
}

/// Why a timelock operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timelock {operation}: {detail}")]
pub struct TimelockError {
    /// What was being done.
    pub operation: &'static str,
    /// What went wrong.
    pub detail: String,
}

fn fail(operation: &'static str, detail: impl std::fmt::Debug) -> TimelockError {
    TimelockError {
        operation,
        detail: format!("{detail:?}"),
    }
}

/// The identity of drand round `round`: `sha256(round.to_be_bytes())`.
fn identity(round: u64) -> Identity {
    let message = sha2::Sha256::digest(round.to_be_bytes()).to_vec();
    Identity::new(b"", vec![message])
}

/// Encrypts `plaintext` so that only drand quicknet's signature of `round`
/// decrypts it; returns the compressed ciphertext the chain expects.
pub fn encrypt(plaintext: &[u8], round: u64) -> Result<Vec<u8>, TimelockError> {
    const OP: &str = "encryption";
    let key_bytes = hex::decode(QUICKNET_PUBLIC_KEY).map_err(|e| fail(OP, e))?;
    let public_key =
        <TinyBLS381 as EngineBLS>::PublicKeyGroup::deserialize_compressed(&key_bytes[..])
            .map_err(|e| fail(OP, e))?;
    // The ephemeral secret that AES-GCM seals the body with; the IBE header
    // carries it to whoever holds the round's signature.
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::getrandom(&mut secret[..]).map_err(|e| fail(OP, e))?;
    let ciphertext = tle::<TinyBLS381, AESGCMStreamCipherProvider, _>(
        public_key,
        *secret,
        plaintext,
        identity(round),
        rand_core::OsRng,
    )
    .map_err(|e| fail(OP, e))?;
    let mut out = Vec::new();
    ciphertext
        .serialize_compressed(&mut out)
        .map_err(|e| fail(OP, e))?;
    Ok(out)
}

/// Decrypts a ciphertext from [`encrypt`] (or `bittensor-drand`) with drand
/// quicknet's BLS signature (G1, compressed, 48 bytes) of its round.
pub fn decrypt(ciphertext: &[u8], signature: &[u8]) -> Result<Vec<u8>, TimelockError> {
    const OP: &str = "decryption";
    let ciphertext =
        TLECiphertext::<TinyBLS381>::deserialize_compressed(ciphertext).map_err(|e| fail(OP, e))?;
    let signature = <TinyBLS381 as EngineBLS>::SignatureGroup::deserialize_compressed(signature)
        .map_err(|e| fail(OP, e))?;
    tld::<TinyBLS381, AESGCMStreamCipherProvider>(ciphertext, signature).map_err(|e| fail(OP, e))
}

/// Encodes and encrypts `payload` to `round`: the `commit` argument of
/// `commit_timelocked_weights`.
pub fn encrypt_weights(payload: &WeightsPayload, round: u64) -> Result<Vec<u8>, TimelockError> {
    encrypt(&payload.encode(), round)
}

/// Decrypts a commit with its round's signature and decodes its payload.
pub fn decrypt_weights(
    ciphertext: &[u8],
    signature: &[u8],
) -> Result<WeightsPayload, TimelockError> {
    let plaintext = decrypt(ciphertext, signature)?;
    let mut input = &plaintext[..];
    let payload = WeightsPayload::decode(&mut input).map_err(|e| fail("payload decoding", e))?;
    if !input.is_empty() {
        return Err(fail(
            "payload decoding",
            format!("{} trailing bytes", input.len()),
        ));
    }
    Ok(payload)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// Quicknet's published signature of round 1000.
    const ROUND_1000: &str = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

    fn payload() -> WeightsPayload {
        WeightsPayload {
            hotkey: vec![7; 32],
            uids: vec![0, 5, 300],
            values: vec![65535, 1200, 7],
            version_key: 4_020,
        }
    }

    #[test]
    fn a_commit_decrypts_only_with_its_rounds_signature() {
        let signature = hex::decode(ROUND_1000).unwrap();
        let blob = encrypt_weights(&payload(), 1_000).unwrap();
        assert_eq!(decrypt_weights(&blob, &signature).unwrap(), payload());
        // Fresh randomness every time.
        assert_ne!(encrypt_weights(&payload(), 1_000).unwrap(), blob);
        let other_round = encrypt_weights(&payload(), 1_001).unwrap();
        assert!(decrypt_weights(&other_round, &signature).is_err());
        assert!(decrypt_weights(&blob[..blob.len() - 1], &signature).is_err());
        assert!(decrypt_weights(&blob, &signature[1..]).is_err());
    }

    #[test]
    fn the_payload_is_scale_by_hand() {
        let mut expected = vec![32 << 2];
        expected.extend([7; 32]);
        expected.extend([3 << 2, 0, 0, 5, 0, 0x2c, 0x01]);
        expected.extend([3 << 2, 0xff, 0xff, 0xb0, 0x04, 7, 0]);
        expected.extend(4_020u64.to_le_bytes());
        assert_eq!(payload().encode(), expected);
    }
}
