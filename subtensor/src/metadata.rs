//! Finney's runtime metadata, shipped with the crate, and the offline check that
//! every call and storage entry this crate uses exists with the shapes it expects.
//!
//! Online, [`SubtensorChain`](crate::SubtensorChain) uses the node's live metadata
//! and runs the same check against it when it connects, so a runtime upgrade that
//! renames or retypes something fails with a clear error instead of sending
//! garbage. Regenerate the file with `subxt metadata --url wss://<node> -f bytes`.

use subxt::client::OfflineClientAtBlock;
use subxt::config::substrate::SpecVersionForRange;
use subxt::{ArcMetadata, Metadata, OfflineClient, SubstrateConfig};

use crate::{calls, storage, SubtensorError};

/// SCALE-encoded metadata of Bittensor's finney runtime (`RuntimeMetadataPrefixed`, V16).
pub const FINNEY_METADATA: &[u8] = include_bytes!("../metadata/finney.scale");

/// Decodes [`FINNEY_METADATA`].
pub fn finney_metadata() -> Result<ArcMetadata, SubtensorError> {
    Metadata::decode_from(FINNEY_METADATA)
        .map(Metadata::arc)
        .map_err(|e| SubtensorError::Decode {
            what: "shipped finney metadata".into(),
            detail: e.to_string(),
        })
}

/// A client that encodes calls and storage keys against `metadata` with no node.
pub fn offline_client(
    metadata: ArcMetadata,
) -> Result<OfflineClientAtBlock<SubstrateConfig>, SubtensorError> {
    // The spec version is only the key under which the metadata is looked up here.
    const SPEC: u32 = 0;
    let config = SubstrateConfig::builder()
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: SPEC,
            transaction_version: 0,
        }])
        .set_metadata_for_spec_versions([(SPEC, metadata)])
        .build();
    // Block 0 lies in the one range configured and its metadata was just set.
    OfflineClient::new_with_config(config)
        .at_block(0u64)
        .map_err(|e| SubtensorError::Node {
            operation: "open an offline client",
            detail: e.to_string(),
        })
}

/// Checks that `metadata` has every call and storage entry this crate uses, with
/// arguments and keys that encode: builds each call's data and each storage key
/// from sample values. The error names the first thing that does not fit.
pub fn check_metadata(metadata: &ArcMetadata) -> Result<(), SubtensorError> {
    let client = offline_client(metadata.clone())?;
    let fail = |what: String, e: &dyn std::fmt::Display| SubtensorError::Node {
        operation: "check metadata",
        detail: format!("{what}: {e}"),
    };
    let account = [0u8; 32];
    let sample_calls = [
        calls::set_weights(1, &[0, 1], &[65535, 1], 1),
        calls::commit_timelocked_weights(1, &[0; 300], 1_000, 4),
        calls::set_commitment(1, &[b'x'; 60])?,
        calls::set_commitment(1, &[b'x'; calls::MAX_RAW_COMMITMENT_BYTES])?,
    ];
    for call in &sample_calls {
        let name = format!("{}.{}", call.pallet_name(), call.call_name());
        client.tx().call_data(call).map_err(|e| fail(name, &e))?;
    }
    storage::check_keys(&client, &account).map_err(|(what, e)| fail(what, &e))
}
