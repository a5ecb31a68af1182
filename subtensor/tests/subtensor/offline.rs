//! Offline checks against the shipped finney metadata: every call and storage
//! entry exists, pallet indices, and call data and storage keys byte for byte
//! against encodings assembled by hand from the SCALE rules.

use gauntlet_subtensor::{calls, check_metadata, finney_metadata, offline_client};
use subxt::ext::codec::{Compact, Encode};
use subxt::{ArcMetadata, Metadata};

fn metadata() -> ArcMetadata {
    finney_metadata().unwrap()
}

fn call_data(call: &calls::Call) -> Vec<u8> {
    offline_client(metadata())
        .unwrap()
        .tx()
        .call_data(call)
        .unwrap()
}

fn call_index(metadata: &Metadata, pallet: &str, call: &str) -> u8 {
    metadata
        .pallet_by_name(pallet)
        .unwrap()
        .call_variant_by_name(call)
        .unwrap()
        .index
}

/// SCALE `Vec<u16>`: compact length, then little-endian items.
fn vec_u16(items: &[u16]) -> Vec<u8> {
    let mut out = Compact(items.len() as u32).encode();
    for item in items {
        out.extend_from_slice(&item.to_le_bytes());
    }
    out
}

#[test]
fn shipped_metadata_has_every_call_and_entry_used() {
    check_metadata(&metadata()).unwrap();
}

#[test]
fn pallet_indices_match_the_reference() {
    let metadata = metadata();
    assert_eq!(
        metadata
            .pallet_by_name("SubtensorModule")
            .unwrap()
            .call_index(),
        7
    );
    assert_eq!(
        metadata.pallet_by_name("Commitments").unwrap().call_index(),
        18
    );
}

#[test]
fn set_weights_call_data_is_scale_by_hand() {
    let metadata = metadata();
    let data = call_data(&calls::set_weights(
        37,
        &[0, 5, 300],
        &[65535, 1200, 7],
        4020,
    ));
    let mut expected = vec![7, call_index(&metadata, "SubtensorModule", "set_weights")];
    expected.extend_from_slice(&37u16.to_le_bytes());
    expected.extend(vec_u16(&[0, 5, 300]));
    expected.extend(vec_u16(&[65535, 1200, 7]));
    expected.extend_from_slice(&4020u64.to_le_bytes());
    assert_eq!(data, expected);
    // The Vec<u16> of three items starts with compact 3 = 0x0c.
    assert_eq!(data[4], 0x0c);
}

#[test]
fn timelocked_commit_call_data_is_scale_by_hand() {
    let metadata = metadata();
    let commit: Vec<u8> = (0..=255u8).chain(0..44).collect(); // 300 bytes
    let data = call_data(&calls::commit_timelocked_weights(
        37, &commit, 34_533_783, 4,
    ));
    let mut expected = vec![
        7,
        call_index(&metadata, "SubtensorModule", "commit_timelocked_weights"),
    ];
    expected.extend_from_slice(&37u16.to_le_bytes());
    // BoundedVec<u8>: compact 300 = (300 << 2) | 1 in two bytes.
    expected.extend_from_slice(&((300u16 << 2) | 1).to_le_bytes());
    expected.extend_from_slice(&commit);
    expected.extend_from_slice(&34_533_783u64.to_le_bytes());
    expected.extend_from_slice(&4u16.to_le_bytes());
    assert_eq!(data, expected);
}

#[test]
fn a_60_byte_commitment_is_data_raw60_variant_61() {
    let metadata = metadata();
    let text: Vec<u8> = (0..60u8).map(|i| b'a' + i % 26).collect();
    let data = call_data(&calls::set_commitment(37, &text).unwrap());
    let mut expected = vec![18, call_index(&metadata, "Commitments", "set_commitment")];
    expected.extend_from_slice(&37u16.to_le_bytes());
    expected.push(0x04); // fields: BoundedVec of one Data (compact 1)
    expected.push(61); // Data::Raw60 is variant N + 1
    expected.extend_from_slice(&text);
    assert_eq!(data, expected);

    // The bounds: Raw0 is variant 1, Raw128 variant 129.
    let empty = call_data(&calls::set_commitment(37, b"").unwrap());
    assert_eq!(empty[4..], [0x04, 1]);
    let full = call_data(&calls::set_commitment(37, &[b'z'; 128]).unwrap());
    assert_eq!(full[4..6], [0x04, 129]);
    assert_eq!(full.len(), 6 + 128);
}

#[test]
fn storage_keys_are_twox_prefixes_and_hashed_keys() {
    use sp_crypto_hashing::{twox_128, twox_64};
    let client = offline_client(metadata()).unwrap();
    let storage = client.storage();
    let prefix = |pallet: &str, entry: &str| {
        [twox_128(pallet.as_bytes()), twox_128(entry.as_bytes())].concat()
    };

    let addr = subxt::dynamic::storage::<(u16,), u16>("SubtensorModule", "SubnetworkN");
    let key = storage.entry(addr).unwrap().fetch_key((37,)).unwrap();
    let netuid = 37u16.to_le_bytes();
    assert_eq!(
        key,
        [prefix("SubtensorModule", "SubnetworkN"), netuid.to_vec()].concat()
    );

    let account = [0x42; 32];
    let addr = subxt::dynamic::storage::<(u16, [u8; 32]), subxt::dynamic::Value>(
        "Commitments",
        "CommitmentOf",
    );
    let key = storage
        .entry(addr)
        .unwrap()
        .fetch_key((37, account))
        .unwrap();
    // (Identity netuid, Twox64Concat account)
    let expected = [
        prefix("Commitments", "CommitmentOf"),
        netuid.to_vec(),
        twox_64(&account).to_vec(),
        account.to_vec(),
    ]
    .concat();
    assert_eq!(key, expected);
}
