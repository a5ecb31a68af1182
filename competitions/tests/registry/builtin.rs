//! The builtin definitions carry the reference's numbers; schedule lookups at
//! the boundary blocks.

use gauntlet_competitions::{
    DatasetId, Epsilon, EvalMethod, FixedTokenizer, IfEvalVersion, Normalization, Registry,
    TokenizerPolicy,
};
use gauntlet_constants::{Block, CompetitionId};

const B7: CompetitionId = CompetitionId(2);
const INSTRUCT: CompetitionId = CompetitionId(3);
const DISTILLED: CompetitionId = CompetitionId(4);

fn builtin() -> Registry {
    match Registry::builtin() {
        Ok(r) => r,
        Err(e) => panic!("builtin definitions must load: {e}"),
    }
}

#[test]
fn every_builtin_loads_with_reference_numbers() {
    let r = builtin();
    let ids: Vec<u16> = r.competitions().iter().map(|c| c.id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let sn9 = r.get(CompetitionId(1)).expect("SN9_MODEL");
    assert!(sn9.retired);
    assert_eq!(sn9.constraints.eval_block_delay, 1200);

    let b7 = r.by_name("B7_MULTI_CHOICE").expect("B7");
    assert_eq!(b7.constraints.max_params, 6_900_000_000);
    assert_eq!(b7.constraints.max_repo_bytes, 15 * 1024 * 1024 * 1024);
    assert_eq!(
        b7.constraints.tokenizer,
        TokenizerPolicy::Fixed(FixedTokenizer::unpinned("Xenova/gpt-4"))
    );
    assert_eq!(b7.constraints.architectures.len(), 7);
    let eps = Epsilon::LinearDecay {
        start: 0.05,
        end: 0.01,
        blocks: 7200 * 5,
    };
    assert_eq!(b7.constraints.epsilon, eps);

    let instruct = r.get(INSTRUCT).expect("INSTRUCT_8B");
    assert_eq!(instruct.constraints.tokenizer, TokenizerPolicy::Own);
    assert_eq!(instruct.constraints.eval_block_delay, 1600);
    assert!(instruct.constraints.allows_architecture("Phi3ForCausalLM"));
    assert!(!b7.constraints.allows_architecture("Phi3ForCausalLM"));
    assert_eq!(instruct.constraints.max_repo_bytes, 20 * 1024 * 1024 * 1024);

    let distilled = r.get(DISTILLED).expect("DISTILLED_REASONING_3B");
    assert_eq!(distilled.constraints.sequence_length, 16384);
    assert!(distilled.constraints.allows_params(3_300_000_000));
    assert!(!distilled.constraints.allows_params(3_100_000_000));
    let norm = distilled.constraints.weight_norm;
    assert_eq!(
        (norm.soft, norm.soft_share, norm.hard),
        (200.0, 0.15, 1000.0)
    );
}

#[test]
fn lookup_by_id_or_name_is_case_insensitive() {
    let r = builtin();
    assert_eq!(r.by_name("instruct_8b").map(|c| c.id), Some(INSTRUCT));
    assert_eq!(r.find(" Instruct_8B ").map(|c| c.id), Some(INSTRUCT));
    assert_eq!(r.find("4").map(|c| c.id), Some(DISTILLED));
    assert!(r.find("99").is_none());
    assert!(r.find("NOPE").is_none());
}

#[test]
fn schedule_boundaries() {
    let r = builtin();
    let starts = |b: u64| r.schedule_at(Block(b)).start_block.0;
    assert_eq!(starts(0), 0);
    assert_eq!(starts(4_675_162), 0);
    assert_eq!(starts(4_675_163), 4_675_163);
    assert_eq!(starts(5_158_631), 4_675_163);
    assert_eq!(starts(5_158_632), 5_158_632);
    assert_eq!(starts(u64::MAX), 5_158_632);

    let at0 = r.active_at(Block(0));
    let shares: Vec<(u16, f64)> = at0
        .iter()
        .map(|a| (a.competition.id.0, a.reward_share))
        .collect();
    assert_eq!(shares, [(2, 0.75), (3, 0.25)]);

    let weights = |id, block| -> Vec<(String, f64)> {
        let active = r.competition_at(id, Block(block)).expect("scheduled");
        active
            .tasks()
            .iter()
            .map(|t| (t.name.clone(), t.weight))
            .collect()
    };
    let w = |pairs: &[(&str, f64)]| -> Vec<(String, f64)> {
        pairs.iter().map(|(n, x)| ((*n).to_owned(), *x)).collect()
    };
    let block0 = w(&[
        ("SYNTHETIC_MMLU", 0.75),
        ("WORD_SORTING", 0.05),
        ("FINEWEB", 0.10),
        ("IF_EVAL_V2", 0.10),
    ]);
    assert_eq!(weights(B7, 4_675_162), block0);
    assert_eq!(weights(INSTRUCT, 4_675_162), block0);
    let later = w(&[
        ("SYNTHETIC_MMLU", 0.30),
        ("WORD_SORTING", 0.05),
        ("FINEWEB", 0.35),
        ("IF_EVAL_V2", 0.30),
    ]);
    assert_eq!(weights(INSTRUCT, 4_675_163), later);
    assert!(r.competition_at(B7, Block(4_675_163)).is_none());
    assert!(r.competition_at(INSTRUCT, Block(5_158_632)).is_none());
    let reasoning = w(&[("SYNTHETIC_1_SFT", 0.5), ("CODEFORCES_COTS", 0.5)]);
    assert_eq!(weights(DISTILLED, 5_158_632), reasoning);
}

#[test]
fn task_details_match_the_reference() {
    let r = builtin();
    let active = r.competition_at(INSTRUCT, Block(0)).expect("scheduled");
    let by_name = |n: &str| active.tasks().iter().find(|t| t.name == n).expect(n);
    let mmlu = by_name("SYNTHETIC_MMLU");
    assert_eq!(
        (mmlu.method, mmlu.dataset, mmlu.dataset_kwargs.samples),
        (EvalMethod::MultipleChoice, DatasetId::SyntheticMmlu, 700)
    );
    assert_eq!(mmlu.normalization, Normalization::None);
    let ws = by_name("WORD_SORTING");
    assert_eq!(
        ws.normalization,
        Normalization::InverseExponential { ceiling: 40.0 }
    );
    assert_eq!(
        (ws.method, ws.dataset_kwargs.samples),
        (EvalMethod::ReferenceLoss, 400)
    );
    let fw = by_name("FINEWEB");
    assert_eq!(
        fw.normalization,
        Normalization::InverseExponential { ceiling: 20.0 }
    );
    assert_eq!(
        (fw.method, fw.dataset_kwargs.samples),
        (EvalMethod::TextLoss, 400)
    );
    let ife = by_name("IF_EVAL_V2");
    assert_eq!(ife.dataset_kwargs.if_eval_version, Some(IfEvalVersion::V2));
    assert_eq!(ife.dataset_kwargs.samples, 20);
    let d = r
        .competition_at(DISTILLED, Block(6_000_000))
        .expect("scheduled");
    assert!(d
        .tasks()
        .iter()
        .all(|t| t.method == EvalMethod::ReferenceLoss && t.dataset_kwargs.samples == 120));
}

#[test]
fn latest_run_finds_the_most_recent_entry_of_a_competition() {
    let registry = Registry::builtin().expect("builtin");
    let instruct = registry.by_name("INSTRUCT_8B").expect("exists");
    let (start, active) = registry.latest_run(instruct.id).expect("scheduled");
    assert_eq!(start, Block(4_675_163));
    assert_eq!(active.reward_share, 1.0);
    assert_eq!(active.task_set.version, 2);
    let sn9 = registry.by_name("SN9_MODEL").expect("exists");
    assert!(registry.latest_run(sn9.id).is_none(), "retired");
    let reasoning = registry.by_name("DISTILLED_REASONING_3B").expect("exists");
    assert_eq!(
        registry.latest_run(reasoning.id).expect("scheduled").0,
        Block(5_158_632)
    );
}
