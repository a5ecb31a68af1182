//! Each validation error, triggered by a small bad file, names the file and
//! the field.

use gauntlet_competitions::{CompetitionError, Registry};
use gauntlet_constants::{Block, CompetitionId};

/// A small valid competition file; tests break it one field at a time.
pub(crate) const GOOD: &str = r#"
id = 7
name = "TINY"

[constraints]
max_params = 1000
sequence_length = 128
architectures = ["LlamaForCausalLM"]
tokenizer = "own"
eval_block_delay = 10
max_repo_bytes = 1000000
epsilon = { kind = "fixed", value = 0.01 }
weight_norm = { soft = 200.0, soft_share = 0.15, hard = 1000.0 }

[[task_sets]]
version = 1

[[task_sets.tasks]]
name = "MMLU"
method = "multiple_choice"
dataset = "SYNTHETIC_MMLU"
dataset_kwargs = { samples = 10 }
weight = 0.5

[[task_sets.tasks]]
name = "IFEVAL"
method = "if_eval"
dataset = "IF_EVAL"
dataset_kwargs = { samples = 4, if_eval_version = "v1" }
weight = 0.5
"#;

/// A schedule running only [`GOOD`].
const SCHEDULE: &str = r#"
[[entry]]
start_block = 0
competitions = [{ competition = "TINY", reward_share = 1.0, task_set = 1 }]
"#;

/// Loads one competition file `tiny.toml` and a schedule `sched.toml`, expecting failure.
fn error_of(competition: &str, schedule: &str) -> String {
    match Registry::from_toml(&[("tiny.toml", competition)], ("sched.toml", schedule)) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` mentions every needle.
pub(crate) fn assert_names(message: &str, needles: &[&str]) {
    for n in needles {
        assert!(message.contains(n), "{message:?} should mention {n:?}");
    }
}

#[test]
fn the_small_good_file_loads() {
    let r = Registry::from_toml(&[("tiny.toml", GOOD)], ("sched.toml", SCHEDULE)).expect("valid");
    assert_eq!(
        r.competition_at(CompetitionId(7), Block(5))
            .map(|a| a.tasks().len()),
        Some(2)
    );
}

#[test]
fn misspelt_field_is_rejected() {
    let bad = GOOD.replace(
        "weight = 0.5\n\n[[task_sets.tasks]]",
        "weigth = 0.5\n\n[[task_sets.tasks]]",
    );
    let msg = error_of(&bad, SCHEDULE);
    assert_names(&msg, &["tiny.toml", "weigth"]);
    let bad = GOOD.replace("tokenizer = \"own\"", "tokeniser = \"own\"");
    assert_names(&error_of(&bad, SCHEDULE), &["tiny.toml", "tokeniser"]);
}

#[test]
fn weights_not_summing_to_one_are_rejected() {
    let bad = GOOD.replacen("weight = 0.5", "weight = 0.4", 1);
    let msg = error_of(&bad, SCHEDULE);
    assert_names(&msg, &["tiny.toml", "task_sets[0].tasks[].weight", "0.9"]);
    let bad = GOOD.replacen("weight = 0.5", "weight = -0.5", 1);
    assert_names(
        &error_of(&bad, SCHEDULE),
        &["tiny.toml", "task_sets[0].tasks[0].weight"],
    );
}

#[test]
fn unknown_method_and_dataset_are_rejected() {
    let bad = GOOD.replace("\"multiple_choice\"", "\"multi_choice\"");
    assert_names(
        &error_of(&bad, SCHEDULE),
        &[
            "tiny.toml",
            "task_sets[0].tasks[0].method",
            "multi_choice",
            "known:",
        ],
    );
    let bad = GOOD.replace("\"SYNTHETIC_MMLU\"", "\"MMLU_PRO\"");
    assert_names(
        &error_of(&bad, SCHEDULE),
        &["tiny.toml", "task_sets[0].tasks[0].dataset", "MMLU_PRO"],
    );
    let bad = GOOD.replace("\"SYNTHETIC_MMLU\"", "\"FINEWEB\"");
    assert_names(
        &error_of(&bad, SCHEDULE),
        &["task_sets[0].tasks[0].dataset", "cannot run"],
    );
    // The log-likelihood variant of multiple choice runs on the same data only.
    let likelihood = GOOD.replace("\"multiple_choice\"", "\"multiple_choice_likelihood\"");
    Registry::from_toml(&[("tiny.toml", &likelihood)], ("sched.toml", SCHEDULE))
        .expect("multiple_choice_likelihood on SYNTHETIC_MMLU loads");
    let bad = likelihood.replace("\"SYNTHETIC_MMLU\"", "\"WORD_SORTING\"");
    assert_names(
        &error_of(&bad, SCHEDULE),
        &["task_sets[0].tasks[0].dataset", "cannot run"],
    );
    let bad = GOOD.replace(", if_eval_version = \"v1\"", "");
    assert_names(
        &error_of(&bad, SCHEDULE),
        &["task_sets[0].tasks[1].dataset_kwargs.if_eval_version"],
    );
}

#[test]
fn duplicate_ids_and_names_are_rejected() {
    let other = GOOD.replace("name = \"TINY\"", "name = \"OTHER\"");
    let r = Registry::from_toml(
        &[("tiny.toml", GOOD), ("other.toml", &other)],
        ("sched.toml", SCHEDULE),
    );
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert_names(&msg, &["other.toml", "`id`", "tiny.toml"]);

    let same_name = GOOD
        .replace("id = 7", "id = 8")
        .replace("\"TINY\"", "\"tiny\"");
    let r = Registry::from_toml(
        &[("tiny.toml", GOOD), ("dup.toml", &same_name)],
        ("sched.toml", SCHEDULE),
    );
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert_names(&msg, &["dup.toml", "`name`"]);
}

#[test]
fn schedule_errors_name_the_field() {
    let shares = SCHEDULE.replace("reward_share = 1.0", "reward_share = 0.5");
    assert_names(
        &error_of(GOOD, &shares),
        &["sched.toml", "entry[0].competitions[].reward_share"],
    );
    let unknown = SCHEDULE.replace("\"TINY\"", "\"HUGE\"");
    assert_names(
        &error_of(GOOD, &unknown),
        &["sched.toml", "entry[0].competitions[0].competition", "HUGE"],
    );
    let no_set = SCHEDULE.replace("task_set = 1", "task_set = 2");
    assert_names(
        &error_of(GOOD, &no_set),
        &["sched.toml", "entry[0].competitions[0].task_set"],
    );
    let late_start = SCHEDULE.replace("start_block = 0", "start_block = 5");
    assert_names(
        &error_of(GOOD, &late_start),
        &["sched.toml", "entry[0].start_block"],
    );
    let twice = format!("{SCHEDULE}\n{SCHEDULE}");
    assert_names(
        &error_of(GOOD, &twice),
        &["sched.toml", "entry[1].start_block"],
    );
    let typo = SCHEDULE.replace("start_block", "start_blok");
    assert_names(&error_of(GOOD, &typo), &["sched.toml", "start_blok"]);
}

#[test]
fn constraint_errors_name_the_field() {
    let eps = GOOD.replace("value = 0.01", "value = 1.5");
    assert_names(
        &error_of(&eps, SCHEDULE),
        &["tiny.toml", "constraints.epsilon"],
    );
    let eps_field = GOOD.replace("value = 0.01", "valeu = 0.01");
    assert_names(&error_of(&eps_field, SCHEDULE), &["tiny.toml", "valeu"]);
    let eps_kind = GOOD.replace("kind = \"fixed\"", "kind = \"exponential\"");
    assert_names(
        &error_of(&eps_kind, SCHEDULE),
        &["tiny.toml", "exponential"],
    );
    let norm = GOOD.replace(
        "dataset_kwargs = { samples = 10 }",
        "normalization = \"inverse_exponential\"\ndataset_kwargs = { samples = 10 }",
    );
    assert_names(
        &error_of(&norm, SCHEDULE),
        &["tiny.toml", "normalization_kwargs.ceiling"],
    );
    let min = GOOD.replace("max_params = 1000", "max_params = 1000\nmin_params = 2000");
    assert_names(
        &error_of(&min, SCHEDULE),
        &["tiny.toml", "constraints.min_params"],
    );
}

#[test]
fn parse_errors_carry_a_line_number() {
    let bad = GOOD.replacen("weight = 0.5", "weight = \"half\"", 1);
    match Registry::from_toml(&[("tiny.toml", &bad)], ("sched.toml", SCHEDULE)) {
        Err(CompetitionError::Parse { file, line, .. }) => {
            assert_eq!(file, "tiny.toml");
            let expected = bad
                .lines()
                .position(|l| l.contains("\"half\""))
                .map(|i| i + 1);
            assert_eq!(Some(line), expected);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn reference_entrants_load_and_bad_ones_name_the_field() {
    let with = |refs: &str| format!("{GOOD}\n{refs}");
    let good = with(
        r#"
[[references]]
name = "gpt"
model = "openai:https://api.example/v1#gpt-x"
api_key_env = "EXAMPLE_KEY"
price_prompt = 0.15
price_completion = 0.6

[[references]]
name = "local"
model = "openai:http://127.0.0.1:8000/v1#smollm2"
dialect = "gauntlet"
chat_template = "/models/smollm2"
"#,
    );
    let r = Registry::from_toml(&[("tiny.toml", &good)], ("sched.toml", SCHEDULE)).expect("valid");
    let refs = &r.by_name("TINY").expect("TINY").references;
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].dialect, "openai", "the default dialect");
    assert_eq!(refs[0].api_key_env.as_deref(), Some("EXAMPLE_KEY"));
    assert_eq!(refs[0].prices, Some((0.15, 0.6)));
    assert_eq!(
        refs[1].chat_template.as_deref(),
        Some(std::path::Path::new("/models/smollm2"))
    );
    let bad = |refs: &str, needles: &[&str]| {
        assert_names(&error_of(&with(refs), SCHEDULE), needles);
    };
    bad(
        "[[references]]\nname = \"x\"\nmodel = \"/models/dir\"\n",
        &["tiny.toml", "references[0].model", "openai:BASE_URL#MODEL"],
    );
    bad(
        "[[references]]\nname = \"x\"\nmodel = \"openai:http://h/v1#m\"\ndialect = \"tgi\"\n",
        &["references[0].dialect"],
    );
    bad(
        "[[references]]\nname = \"x\"\nmodel = \"openai:http://h/v1#m\"\n\n[[references]]\nname = \"X\"\nmodel = \"openai:http://h/v1#n\"\n",
        &["references[1].name", "another reference"],
    );
    bad(
        "[[references]]\nname = \"x\"\nmodel = \"openai:http://h/v1#m\"\napi_key = \"sk-1\"\n",
        &["tiny.toml", "api_key"],
    );
}

#[test]
fn significance_is_a_confidence_level_and_absent_by_default() {
    let r = Registry::from_toml(&[("tiny.toml", GOOD)], ("sched.toml", SCHEDULE)).expect("valid");
    let c = r
        .competition_at(CompetitionId(7), Block(5))
        .expect("active");
    assert_eq!(c.competition.constraints.significance, None);
    let with = |level: &str| {
        GOOD.replace(
            "weight_norm = {",
            &format!("significance = {level}\nweight_norm = {{"),
        )
    };
    let r = Registry::from_toml(&[("tiny.toml", &with("0.95"))], ("sched.toml", SCHEDULE))
        .expect("valid");
    let c = r
        .competition_at(CompetitionId(7), Block(5))
        .expect("active");
    assert_eq!(c.competition.constraints.significance, Some(0.95));
    for bad in ["0.5", "1.5", "-0.9", "95"] {
        let msg = error_of(&with(bad), SCHEDULE);
        assert_names(&msg, &["tiny.toml", "constraints.significance", bad]);
    }
    assert_eq!(c.competition.constraints.early_stop, None);
    let early = GOOD.replace("weight_norm = {", "early_stop = 0.99\nweight_norm = {");
    let r = Registry::from_toml(&[("tiny.toml", &early)], ("sched.toml", SCHEDULE)).expect("valid");
    let c = r
        .competition_at(CompetitionId(7), Block(5))
        .expect("active");
    assert_eq!(c.competition.constraints.early_stop, Some(0.99));
    let msg = error_of(
        &GOOD.replace("weight_norm = {", "early_stop = 1.5\nweight_norm = {"),
        SCHEDULE,
    );
    assert_names(&msg, &["tiny.toml", "constraints.early_stop", "1.5"]);
}
