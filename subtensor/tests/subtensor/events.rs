//! `System.Events` of a block holding one extrinsic, encoded against the shipped
//! metadata: `ExtrinsicSuccess`, or `ExtrinsicFailed` with a `SubtensorModule`
//! error, as the runtime would deposit them.

use subxt::dynamic::Value;
use subxt::ext::scale_encode::EncodeAsType;
use subxt::Metadata;

use crate::double::Outcome;

/// The index of `SubtensorModule`'s error variant `name`.
pub fn subtensor_error_index(metadata: &Metadata, name: &str) -> u8 {
    metadata
        .pallet_by_name("SubtensorModule")
        .unwrap()
        .error_variants()
        .unwrap()
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no SubtensorModule error {name}"))
        .index
}

/// `Vec<EventRecord>` with the one event of `outcome` for extrinsic 0.
pub fn encode(metadata: &Metadata, outcome: &Outcome) -> Vec<u8> {
    let info = Value::named_composite([
        (
            "weight",
            Value::named_composite([
                ("ref_time", Value::u128(1_000_000)),
                ("proof_size", Value::u128(0)),
            ]),
        ),
        ("class", Value::unnamed_variant("Normal", [])),
        ("pays_fee", Value::unnamed_variant("No", [])),
    ]);
    let event = match outcome {
        Outcome::Failed(name) => {
            let index = subtensor_error_index(metadata, name);
            let pallet = metadata
                .pallet_by_name("SubtensorModule")
                .unwrap()
                .error_index();
            let module = Value::named_composite([
                ("index", Value::u128(u128::from(pallet))),
                ("error", Value::from_bytes([index, 0, 0, 0])),
            ]);
            Value::named_variant(
                "ExtrinsicFailed",
                [
                    ("dispatch_error", Value::unnamed_variant("Module", [module])),
                    ("dispatch_info", info),
                ],
            )
        }
        _ => Value::named_variant("ExtrinsicSuccess", [("dispatch_info", info)]),
    };
    let record = Value::named_composite([
        (
            "phase",
            Value::unnamed_variant("ApplyExtrinsic", [Value::u128(0)]),
        ),
        ("event", Value::unnamed_variant("System", [event])),
        ("topics", Value::unnamed_composite([])),
    ]);
    let events_type = metadata
        .pallet_by_name("System")
        .unwrap()
        .storage()
        .unwrap()
        .entry_by_name("Events")
        .unwrap()
        .value_ty();
    Value::unnamed_composite([record])
        .encode_as_type(events_type, metadata.types())
        .unwrap()
}
