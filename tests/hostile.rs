//! The hostile corpus, one test per kind: each repository of
//! `gauntlet_validator::testing::hostile` is written in place (its "huge"
//! files 2 GB and sparse) and handed to the sandbox exactly as `validator
//! run` does, a child `gauntlet validator evaluate-one` under an address-space
//! limit and a deadline. Each must come back as its named verdict, well
//! within the deadline: never a crash, a hang, or a fault of the validator's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use gauntlet_validator::sandbox::{ChildOutcome, Job, ProcessSandbox};
use gauntlet_validator::testing::{self, hostile, hostile::Kind, COMPETITION, START};
use gauntlet_validator::Verdict;

/// The address-space limit of the hostile tests' children: ample for a tiny
/// model, far below what the hostile files would need.
const MEMORY_LIMIT: u64 = 2 << 30;
/// The deadline of each child: every kind must be judged well before it.
const DEADLINE: Duration = Duration::from_secs(120);

/// The sandbox's verdict on kind `kind` written in place.
fn judge(kind: Kind, sizes: hostile::Sizes) -> Verdict {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    hostile::write(kind, &dir, &tmp.path().join("outside"), sizes).unwrap();
    let data = testing::data(&tmp.path().join("data"));
    let job = Job {
        model_dir: dir,
        tokenizer_dir: None,
        definitions: testing::registry().definitions().clone(),
        competition: COMPETITION.0,
        block: START,
        seed: "ab".repeat(32),
        sample_cap: Some(2),
        data_root: data.path(""),
        device: "cpu".into(),
        precision: None,
        oom_marker: None,
        only: None,
        private: Default::default(),
        early_stop: None,
    };
    let sandbox = ProcessSandbox::new(env!("CARGO_BIN_EXE_gauntlet"), Some(MEMORY_LIMIT));
    let start = Instant::now();
    let outcome = sandbox.run(&job, DEADLINE, None);
    let took = start.elapsed();
    assert!(
        took < DEADLINE / 2,
        "{}: judged in {took:?}, too close to the deadline",
        kind.name()
    );
    match outcome {
        ChildOutcome::Rejected { verdict } => verdict,
        other => panic!("{}: not a verdict: {other:?}", kind.name()),
    }
}

/// Asserts that `kind` gets its expected verdict, with the expected words
/// in its reason (`in_place` overrides [`Kind::expected`], which describes
/// the repository after a hub copied it).
fn assert_judged(kind: Kind, in_place: Option<(&str, &str)>) {
    assert_judged_sized(kind, in_place, hostile::Sizes::IN_PLACE);
}

/// [`assert_judged`] with the "huge" files `sizes` large.
fn assert_judged_sized(kind: Kind, in_place: Option<(&str, &str)>, sizes: hostile::Sizes) {
    let (label, fragment) = in_place.unwrap_or_else(|| kind.expected());
    let verdict = judge(kind, sizes);
    let reason = verdict.reason().unwrap_or_default();
    assert_eq!(verdict.label(), label, "{}: {reason}", kind.name());
    assert!(
        reason.contains(fragment),
        "{}: {fragment:?} not in {reason:?}",
        kind.name()
    );
}

#[test]
fn absurd_dimensions_are_disqualified() {
    assert_judged(Kind::AbsurdDimensions, None);
}

#[test]
fn a_config_implying_too_many_parameters_is_disqualified_before_the_weights() {
    assert_judged(Kind::ParameterCountBeyondLimit, None);
}

#[test]
fn a_deeply_nested_config_is_disqualified() {
    assert_judged(Kind::DeeplyNestedConfig, None);
}

#[test]
fn a_binary_config_is_disqualified() {
    assert_judged(Kind::BinaryConfig, None);
}

#[test]
fn a_two_gigabyte_shard_index_is_refused_unread() {
    assert_judged(Kind::HugeIndex, None);
}

#[test]
fn a_two_gigabyte_tokenizer_config_is_refused_unread() {
    // 2 GB break the repository's size cap first: a disqualification
    // without a byte of the file read.
    assert_judged(
        Kind::HugeTokenizerConfig,
        Some(("disqualified", "model files total")),
    );
    // Under the repository's cap (20 MB), the file's own 16 MiB cap refuses it.
    assert_judged_sized(
        Kind::HugeTokenizerConfig,
        None,
        hostile::Sizes::THROUGH_A_HUB,
    );
}

#[test]
fn a_runaway_chat_template_runs_out_of_fuel() {
    assert_judged(Kind::RunawayTemplate, None);
}

#[test]
fn a_chat_template_rendering_100_mb_is_cut_short() {
    assert_judged(Kind::HugeRender, None);
}

#[test]
fn a_hostile_normalizer_runs_out_of_the_sandboxs_memory() {
    assert_judged(Kind::HostileNormalizer, None);
}

#[test]
fn nan_weights_are_disqualified() {
    assert_judged(Kind::NanWeights, None);
}

#[test]
fn infinite_weights_are_disqualified() {
    assert_judged(Kind::InfiniteWeights, None);
}

#[test]
fn a_dtype_lie_is_disqualified() {
    assert_judged(Kind::DtypeLie, None);
}

#[test]
fn a_shape_lie_is_disqualified() {
    assert_judged(Kind::ShapeLie, None);
}

#[test]
fn an_oversized_projection_is_refused_from_its_header() {
    assert_judged(Kind::HugeProjection, None);
}

#[test]
fn a_shard_name_escaping_the_directory_is_disqualified() {
    assert_judged(Kind::EscapingShardName, None);
}

#[test]
fn a_symlinked_config_is_refused() {
    // In place the link itself is refused; through a hub, its target is
    // copied and is not a config.
    assert_judged(Kind::Symlink, Some(("disqualified", "link")));
}

#[test]
fn too_many_files_are_refused() {
    // In place the file walk refuses them; a hub refuses the download.
    assert_judged(
        Kind::TooManyFiles,
        Some(("disqualified", "more than 1000 files")),
    );
}
