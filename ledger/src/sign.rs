//! Signing records with the validator's sr25519 hotkey, and the ledger's line format.
//!
//! A record's signed bytes are its canonical JSON ([`crate::canonical`]); the signature is
//! sr25519 under Substrate's signing context `b"substrate"` (what `subxt-signer` and
//! `bittensor_wallet.Keypair.sign` use), so `Keypair(ss58_address=…).verify(bytes, sig)`
//! accepts it. A ledger line is the canonical JSON of
//! `{"hash": sha256(bytes) hex, "record": <the record>, "signature": "0x" + 128 hex}`: the
//! record appears there in exactly its signed bytes.

use blake2::{Blake2b512, Digest as _};
use schnorrkel::{signing_context, PublicKey, Signature};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::canonical::to_canonical_of;
use crate::digest::Digest;
use crate::error::{LedgerError, Locus};
use crate::record::{LedgerRecord, ValidatorRef};

/// Substrate's sr25519 signing context.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// Something holding a validator's sr25519 secret: the validator's hotkey.
pub trait Signer {
    /// The 32-byte public key.
    fn public_key(&self) -> [u8; 32];
    /// The 64-byte sr25519 signature of `msg` under [`SIGNING_CONTEXT`].
    fn sign(&self, msg: &[u8]) -> [u8; 64];
}

/// A [`Signer`] over a `schnorrkel` keypair (tests, tools without a wallet).
pub struct KeypairSigner(schnorrkel::Keypair);

impl KeypairSigner {
    /// The keypair of a 32-byte mini secret, expanded as Substrate does (the `secretSeed` of a
    /// Bittensor key file gives the same key).
    pub fn from_seed(seed: &[u8; 32]) -> Result<KeypairSigner, LedgerError> {
        let mini = schnorrkel::MiniSecretKey::from_bytes(seed)
            .map_err(|e| LedgerError::Encode(format!("seed: {e}")))?;
        Ok(KeypairSigner(
            mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519),
        ))
    }
}

impl Signer for KeypairSigner {
    fn public_key(&self) -> [u8; 32] {
        self.0.public.to_bytes()
    }

    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0
            .sign(signing_context(SIGNING_CONTEXT).bytes(msg))
            .to_bytes()
    }
}

/// Whether `sig` is `public`'s sr25519 signature of `msg` under [`SIGNING_CONTEXT`].
pub fn verify_signature(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let (Ok(public), Ok(sig)) = (PublicKey::from_bytes(public), Signature::from_bytes(sig)) else {
        return false;
    };
    public
        .verify(signing_context(SIGNING_CONTEXT).bytes(msg), &sig)
        .is_ok()
}

/// The SS58 address (prefix 42) of a public key: base58 of `42 ‖ key ‖ checksum`, the
/// checksum the first two bytes of `blake2b-512("SS58PRE" ‖ 42 ‖ key)`. (The same as
/// `gauntlet-chain`'s, repeated so this crate needs no chain.)
pub fn ss58(public: &[u8; 32]) -> String {
    let mut data = vec![42u8];
    data.extend_from_slice(public);
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(&data);
    let sum = h.finalize();
    data.extend_from_slice(&sum[..2]);
    bs58::encode(data).into_string()
}

/// A record with its signed bytes and signature, as one ledger line holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedRecord {
    /// The record.
    pub record: LedgerRecord,
    /// The exact bytes signed (the record's canonical JSON).
    pub bytes: Vec<u8>,
    /// The sr25519 signature.
    pub signature: [u8; 64],
    /// What the line's `hash` field says (equal to [`SignedRecord::hash`] for a record this
    /// crate wrote).
    pub line_hash: String,
}

#[derive(Deserialize)]
struct Line<'a> {
    hash: String,
    #[serde(borrow)]
    record: &'a RawValue,
    signature: String,
}

impl SignedRecord {
    /// Signs `record` with `signer`, after filling its `validator` from the signer's key.
    pub fn sign(
        mut record: LedgerRecord,
        signer: &dyn Signer,
    ) -> Result<SignedRecord, LedgerError> {
        let public = signer.public_key();
        record.validator = ValidatorRef {
            hotkey: ss58(&public),
            public_key: hex::encode(public),
        };
        let bytes = to_canonical_of(&record).map_err(LedgerError::encode)?;
        let signature = signer.sign(&bytes);
        let line_hash = Digest::of(&bytes).hex();
        Ok(SignedRecord {
            record,
            bytes,
            signature,
            line_hash,
        })
    }

    /// SHA-256 of the signed bytes: what the next record's `prev_hash` must be.
    pub fn hash(&self) -> Digest {
        Digest::of(&self.bytes)
    }

    /// The ledger line (no newline).
    pub fn to_line(&self) -> String {
        format!(
            "{{\"hash\":\"{}\",\"record\":{},\"signature\":\"0x{}\"}}",
            self.line_hash,
            String::from_utf8_lossy(&self.bytes),
            hex::encode(self.signature)
        )
    }

    /// Reads one ledger line; `source_name` and `line` (1-based) name it in errors. Nothing is
    /// verified here but the shape: see [`SignedRecord::verify`].
    pub fn from_line(
        text: &str,
        source_name: &str,
        line: usize,
    ) -> Result<SignedRecord, LedgerError> {
        let malformed = |reason: String| LedgerError::Malformed {
            source_name: source_name.to_string(),
            line,
            reason,
        };
        let parsed: Line<'_> = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
        let record: LedgerRecord = serde_json::from_str(parsed.record.get())
            .map_err(|e| malformed(format!("record: {e}")))?;
        let digits = parsed
            .signature
            .strip_prefix("0x")
            .unwrap_or(&parsed.signature);
        let mut signature = [0u8; 64];
        hex::decode_to_slice(digits, &mut signature)
            .map_err(|_| malformed("signature: expected 0x and 128 hex digits".into()))?;
        Ok(SignedRecord {
            record,
            bytes: parsed.record.get().as_bytes().to_vec(),
            signature,
            line_hash: parsed.hash,
        })
    }

    /// Where this record is, for errors.
    pub fn locus(&self, source_name: &str, line: usize) -> Locus {
        Locus {
            source_name: source_name.to_string(),
            line,
            sync_block: self.record.round.sync_block,
            competition: self.record.competition.id,
            uid: self.record.model.uid,
            hotkey: self.record.model.hotkey.clone(),
        }
    }

    /// Checks the line's hash, that the validator's SS58 is its public key's, and the
    /// signature of the bytes by that key.
    pub fn verify(&self, at: &Locus) -> Result<(), LedgerError> {
        let computed = self.hash();
        if self.line_hash != computed.hex() {
            return Err(LedgerError::HashField {
                at: Box::new(at.clone()),
                recorded: self.line_hash.clone(),
                computed,
            });
        }
        let v = &self.record.validator;
        let mut public = [0u8; 32];
        if hex::decode_to_slice(&v.public_key, &mut public).is_err() {
            return Err(LedgerError::WrongValidator {
                at: Box::new(at.clone()),
                field: "validator.public_key",
                expected: "64 hex digits".into(),
                found: v.public_key.clone(),
            });
        }
        let derived = ss58(&public);
        if derived != v.hotkey {
            return Err(LedgerError::WrongValidator {
                at: Box::new(at.clone()),
                field: "validator.hotkey",
                expected: derived,
                found: v.hotkey.clone(),
            });
        }
        if !verify_signature(&public, &self.bytes, &self.signature) {
            return Err(LedgerError::BadSignature {
                at: Box::new(at.clone()),
                hotkey: v.hotkey.clone(),
            });
        }
        Ok(())
    }
}
