//! Tests of hotkeys and key files: test vectors, round trips, every refusal.

use super::*;
use std::fs;
use std::path::Path;
use zeroize::Zeroizing;

const ALICE_SEED: &str = "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a";
const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const DEV_PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

#[test]
fn alice_seed_gives_alice_address() {
    let alice = Hotkey::from_seed_hex(ALICE_SEED).expect("seed");
    assert_eq!(alice.ss58(), ALICE_SS58);
    // Same key as subxt-signer's //Alice (hard derivation of the dev phrase).
    assert_eq!(alice.public_key(), sr25519::dev::alice().public_key().0);
    // The 0x prefix is optional.
    let bare = Hotkey::from_seed_hex(&ALICE_SEED[2..]).expect("seed");
    assert_eq!(bare, alice);
}

#[test]
fn phrase_derivation_matches_subxt_signer() {
    let ours = Hotkey::from_phrase(DEV_PHRASE).expect("phrase");
    let mnemonic = Mnemonic::parse(DEV_PHRASE).expect("mnemonic");
    let theirs = Keypair::from_phrase(&mnemonic, None).expect("keypair");
    assert_eq!(ours.public_key(), theirs.public_key().0);
    // Extra whitespace does not change the key.
    let spaced = format!("  {}  ", DEV_PHRASE.replace(' ', "   "));
    assert_eq!(Hotkey::from_phrase(&spaced).expect("phrase"), ours);
}

#[test]
fn bad_seeds_and_phrases_are_refused() {
    assert!(matches!(
        Hotkey::from_seed_hex("0x1234"),
        Err(WalletError::InvalidSeed { .. })
    ));
    let not_hex = format!("0x{}", "zz".repeat(32));
    assert!(matches!(
        Hotkey::from_seed_hex(&not_hex),
        Err(WalletError::InvalidSeed { .. })
    ));
    let bad_checksum = DEV_PHRASE.replace("walk", "bottom");
    assert!(matches!(
        Hotkey::from_phrase(&bad_checksum),
        Err(WalletError::InvalidPhrase { .. })
    ));
    assert!(matches!(
        Hotkey::from_phrase("not a phrase"),
        Err(WalletError::InvalidPhrase { .. })
    ));
}

#[test]
fn sign_and_verify() {
    let (key, phrase) = Hotkey::generate();
    assert_eq!(phrase.split(' ').count(), 12);
    assert_eq!(Hotkey::from_phrase(&phrase).expect("phrase"), key);
    let sig = key.sign(b"weights");
    assert!(Hotkey::verify(&key.public_key(), b"weights", &sig));
    assert!(!Hotkey::verify(&key.public_key(), b"weightz", &sig));
    let other = Hotkey::from_seed_hex(ALICE_SEED).expect("seed");
    assert!(!Hotkey::verify(&other.public_key(), b"weights", &sig));
    // The subxt keypair signs for the same key.
    assert_eq!(key.keypair().public_key().0, key.public_key());
}

#[test]
fn debug_never_shows_the_secret() {
    let alice = Hotkey::from_seed_hex(ALICE_SEED).expect("seed");
    let shown = format!("{alice:?} {alice:#?}");
    assert!(shown.contains(ALICE_SS58));
    assert!(!shown.contains(&ALICE_SEED[2..10]), "{shown}");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("read")).expect("json")
}

#[test]
fn create_then_load_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, phrase) = Wallet::create(dir.path(), "miner", "default", false).expect("create");
    let loaded = Wallet::load(dir.path(), "miner", "default").expect("load");
    assert_eq!(loaded, key);
    assert_eq!(loaded.seed(), key.seed());

    let path = dir.path().join("miner/hotkeys/default");
    let json = read_json(&path);
    assert_eq!(json["ss58Address"], key.ss58());
    assert_eq!(json["secretPhrase"], phrase.as_str());
    let public = format!("0x{}", hex::encode(key.public_key()));
    assert_eq!(json["publicKey"], public.as_str());
    assert_eq!(json["accountId"], public.as_str());
    assert_eq!(
        json["secretSeed"],
        format!("0x{}", hex::encode(key.seed())).as_str()
    );
    let private = json["privateKey"].as_str().expect("privateKey");
    assert_eq!(private.len(), 2 + 128);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn create_never_overwrites_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, _) = Wallet::create(dir.path(), "w", "h", false).expect("create");
    let again = Wallet::create(dir.path(), "w", "h", false);
    assert!(matches!(again, Err(WalletError::AlreadyExists { .. })));
    assert_eq!(Wallet::load(dir.path(), "w", "h").expect("load"), first);
    let (second, _) = Wallet::create(dir.path(), "w", "h", true).expect("overwrite");
    assert_ne!(second, first);
    assert_eq!(Wallet::load(dir.path(), "w", "h").expect("load"), second);
}

#[test]
fn a_file_with_only_the_seed_or_only_the_phrase_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hotkeys = dir.path().join("w/hotkeys");
    fs::create_dir_all(&hotkeys).expect("mkdir");
    fs::write(
        hotkeys.join("seed"),
        format!(r#"{{"secretSeed": "{ALICE_SEED}"}}"#),
    )
    .expect("w");
    assert_eq!(
        Wallet::load(dir.path(), "w", "seed").expect("load").ss58(),
        ALICE_SS58
    );
    fs::write(
        hotkeys.join("phrase"),
        format!(r#"{{"secretPhrase": "{DEV_PHRASE}"}}"#),
    )
    .expect("w");
    let from_phrase = Hotkey::from_phrase(DEV_PHRASE).expect("phrase");
    assert_eq!(
        Wallet::load(dir.path(), "w", "phrase").expect("load"),
        from_phrase
    );
}

#[test]
fn wrong_or_corrupt_files_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    assert!(matches!(
        Wallet::load(root, "w", "none"),
        Err(WalletError::NotFound { .. })
    ));
    let hotkeys = root.join("w/hotkeys");
    fs::create_dir_all(&hotkeys).expect("mkdir");

    // Another key's address next to Alice's seed.
    let other = Hotkey::from_phrase(DEV_PHRASE).expect("phrase").ss58();
    let wrong = format!(r#"{{"secretSeed": "{ALICE_SEED}", "ss58Address": "{other}"}}"#);
    fs::write(hotkeys.join("wrong"), wrong).expect("w");
    match Wallet::load(root, "w", "wrong") {
        Err(e @ WalletError::Mismatch { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&other) && text.contains(ALICE_SS58), "{text}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let wrong_public = format!(
        r#"{{"secretSeed": "{ALICE_SEED}", "publicKey": "0x{}"}}"#,
        "00".repeat(32)
    );
    fs::write(hotkeys.join("wrong_public"), wrong_public).expect("w");
    assert!(matches!(
        Wallet::load(root, "w", "wrong_public"),
        Err(WalletError::Mismatch { .. })
    ));

    fs::write(hotkeys.join("corrupt"), b"{\"secretSeed\": ").expect("w");
    assert!(matches!(
        Wallet::load(root, "w", "corrupt"),
        Err(WalletError::Malformed { .. })
    ));
    fs::write(hotkeys.join("empty"), b"{}").expect("w");
    assert!(matches!(
        Wallet::load(root, "w", "empty"),
        Err(WalletError::Malformed { .. })
    ));
    fs::write(hotkeys.join("short"), br#"{"secretSeed": "0x12"}"#).expect("w");
    assert!(matches!(
        Wallet::load(root, "w", "short"),
        Err(WalletError::Malformed { .. })
    ));
    fs::write(hotkeys.join("nacl"), b"$NACL\x01\x02").expect("w");
    assert!(matches!(
        Wallet::load(root, "w", "nacl"),
        Err(WalletError::Encrypted { .. })
    ));
}

#[test]
fn names_cannot_escape_the_wallet_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (wallet, hotkey) in [
        ("..", "h"),
        ("w", "../x"),
        ("", "h"),
        ("w", "a/b"),
        ("w", ""),
    ] {
        let r = Wallet::create(dir.path(), wallet, hotkey, false);
        assert!(
            matches!(r, Err(WalletError::InvalidName { .. })),
            "{wallet:?}/{hotkey:?}"
        );
    }
}

const PASSWORD: &str = "correct horse battery staple";

fn given(password: &'static str) -> impl Fn(&Path) -> Result<Zeroizing<String>, WalletError> {
    move |_: &Path| Ok(Zeroizing::new(password.to_owned()))
}

#[test]
fn encrypted_keys_round_trip_and_refuse_wrong_or_missing_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (key, _) = Hotkey::generate();
    let path = Wallet::save_with(root, "w", "h", &key, None, Some(PASSWORD), false).expect("save");
    let bytes = fs::read(&path).expect("read");
    assert_eq!(cipher::detect(&bytes), cipher::Encryption::Nacl);
    // Nothing secret or identifying is in clear.
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&key.ss58()) && !text.contains(&hex::encode(key.seed())));
    // The public twin is in clear.
    let public = read_json(&root.join("w/hotkeys/hpub.txt"));
    assert_eq!(public["ss58Address"], key.ss58());
    assert!(public.get("secretSeed").is_none() && public.get("privateKey").is_none());

    assert_eq!(
        Wallet::load_with(root, "w", "h", &given(PASSWORD)).expect("load"),
        key
    );
    assert!(matches!(
        Wallet::load_with(root, "w", "h", &given("wrong")),
        Err(WalletError::WrongPassword { .. })
    ));
    assert!(matches!(
        Wallet::load(root, "w", "h"),
        Err(WalletError::Encrypted { .. })
    ));
}

#[test]
fn coldkeys_are_created_encrypted_with_a_public_address_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (key, phrase) =
        Wallet::create_coldkey(root, "cold", Some(PASSWORD), false).expect("create");
    assert_eq!(Hotkey::from_phrase(&phrase).expect("phrase"), key);
    assert_eq!(
        Wallet::coldkey_address(root, "cold").expect("address"),
        key.ss58()
    );
    let loaded = Wallet::load_coldkey(root, "cold", &given(PASSWORD)).expect("load");
    assert_eq!(loaded, key);
    assert!(matches!(
        Wallet::create_coldkey(root, "cold", None, false),
        Err(WalletError::AlreadyExists { .. })
    ));
    // In clear when no password is given.
    let (clear, _) = Wallet::create_coldkey(root, "cold", None, true).expect("overwrite");
    assert_eq!(
        Wallet::load_coldkey(root, "cold", &NoPassword).expect("load"),
        clear
    );
}

#[test]
fn ansible_vault_files_are_read_and_fernet_ones_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let json = format!(r#"{{"secretSeed": "{ALICE_SEED}", "ss58Address": "{ALICE_SS58}"}}"#);
    let vault = ansible_vault::encrypt_vault(json.as_bytes(), PASSWORD).expect("vault");
    fs::create_dir_all(root.join("v")).expect("mkdir");
    fs::write(root.join("v/coldkey"), vault).expect("write");
    let key = Wallet::load_coldkey(root, "v", &given(PASSWORD)).expect("load");
    assert_eq!(key.ss58(), ALICE_SS58);
    assert!(matches!(
        Wallet::load_coldkey(root, "v", &given("nope")),
        Err(WalletError::WrongPassword { .. })
    ));

    fs::write(root.join("v/coldkey"), b"gAAAAABfernet").expect("write");
    let err = Wallet::load_coldkey(root, "v", &given(PASSWORD)).expect_err("Fernet refused");
    assert!(err.to_string().contains("Fernet"), "{err}");
    fs::write(root.join("v/coldkey"), b"$NACLshort").expect("write");
    assert!(matches!(
        Wallet::load_coldkey(root, "v", &given(PASSWORD)),
        Err(WalletError::Malformed { .. })
    ));
}
