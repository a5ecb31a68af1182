//! Google IFEval checkers against the Python reference (`if-verifiable`
//! 0.1.2): every expected verdict below was produced by running the Python
//! checkers (with NLTK's English Punkt model and `langdetect`) on the same
//! instruction and response.

use gauntlet_evals::google_ifeval::{
    check, check_loose, judge, loose_variants, parse_jsonl, score, strip_thinking, IfevalError,
    IfevalPrompt, Instruction, INSTRUCTION_IDS,
};
use serde_json::{Map, Value};

/// (instruction id, kwargs, response, strict verdict, loose verdict).
#[rustfmt::skip]
const CASES: &[(&str, &str, &str, bool, bool)] = &[
    ("keywords:existence", "{\"keywords\": [\"cat\", \"Dog\"]}", "My CAT chased the dog.", true, true),
    ("keywords:existence", "{\"keywords\": [\"cat\", \"Dog\"]}", "My cat sleeps all day.", false, false),
    ("keywords:existence", "{\"keywords\": [\"cat\"]}", "Concatenate the strings.", true, true),
    ("keywords:frequency", "{\"keyword\": \"fake\", \"frequency\": 2, \"relation\": \"at least\"}", "Fake news is fake.", true, true),
    ("keywords:frequency", "{\"keyword\": \"fake\", \"frequency\": 2, \"relation\": \"at least\"}", "This is fake.", false, false),
    ("keywords:frequency", "{\"keyword\": \"the\", \"frequency\": 3, \"relation\": \"less than\"}", "the cat and the hat", true, true),
    ("keywords:frequency", "{\"keyword\": \"the\", \"frequency\": 3, \"relation\": \"less than\"}", "There is the other one.", false, false),
    ("keywords:forbidden_words", "{\"forbidden_words\": [\"rock\", \"can\"]}", "I like rocks and cannons.", true, true),
    ("keywords:forbidden_words", "{\"forbidden_words\": [\"rock\", \"can\"]}", "Let's ROCK tonight.", false, false),
    ("keywords:letter_frequency", "{\"letter\": \"q\", \"let_frequency\": 2, \"let_relation\": \"at least\"}", "Quick quiz.", true, true),
    ("keywords:letter_frequency", "{\"letter\": \"q\", \"let_frequency\": 2, \"let_relation\": \"at least\"}", "A quick test.", false, false),
    ("keywords:letter_frequency", "{\"letter\": \"e\", \"let_frequency\": 3, \"let_relation\": \"less than\"}", "A bee.", true, true),
    ("keywords:letter_frequency", "{\"letter\": \"e\", \"let_frequency\": 3, \"let_relation\": \"less than\"}", "EEEE", false, false),
    ("language:response_language", "{\"language\": \"de\"}", "Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.", true, true),
    ("language:response_language", "{\"language\": \"de\"}", "The quick brown fox jumps over the lazy dog near the river bank.", false, false),
    ("language:response_language", "{\"language\": \"sw\"}", "Mimi ni mwanafunzi katika chuo kikuu cha Nairobi na ninapenda kusoma vitabu.", true, true),
    ("language:response_language", "{\"language\": \"ko\"}", "12345 !!!", true, true),
    ("length_constraints:number_sentences", "{\"num_sentences\": 3, \"relation\": \"less than\"}", "Dr. Smith arrived at 5 p.m. on Monday. He sat down.", true, true),
    ("length_constraints:number_sentences", "{\"num_sentences\": 3, \"relation\": \"less than\"}", "One. Two! Three?", false, false),
    ("length_constraints:number_sentences", "{\"num_sentences\": 2, \"relation\": \"at least\"}", "Mr. Jones went to Washington, D.C. yesterday.", false, false),
    ("length_constraints:number_sentences", "{\"num_sentences\": 2, \"relation\": \"at least\"}", "He said \"Stop.\" Then he left.", true, true),
    ("length_constraints:number_paragraphs", "{\"num_paragraphs\": 3}", "First.\n***\nSecond.\n***\nThird.", true, true),
    ("length_constraints:number_paragraphs", "{\"num_paragraphs\": 3}", "***\nFirst.\n***\nSecond.\n***\nThird.\n***", true, true),
    ("length_constraints:number_paragraphs", "{\"num_paragraphs\": 2}", "First.\n***\n\n***\nSecond.", false, false),
    ("length_constraints:number_paragraphs", "{\"num_paragraphs\": 2}", "Only one paragraph here.", false, false),
    ("length_constraints:number_words", "{\"num_words\": 5, \"relation\": \"less than\"}", "Hello there, my friend.", true, true),
    ("length_constraints:number_words", "{\"num_words\": 5, \"relation\": \"less than\"}", "It's a fine day today.", false, false),
    ("length_constraints:number_words", "{\"num_words\": 3, \"relation\": \"at least\"}", "well-known e-mail", true, true),
    ("length_constraints:nth_paragraph_first_word", "{\"num_paragraphs\": 2, \"nth_paragraph\": 2, \"first_word\": \"Jasper\"}", "Intro here.\n\n\"Jasper, come here.\"", true, true),
    ("length_constraints:nth_paragraph_first_word", "{\"num_paragraphs\": 2, \"nth_paragraph\": 2, \"first_word\": \"jasper\"}", "Intro here.\n\nJaspers are stones.", false, false),
    ("length_constraints:nth_paragraph_first_word", "{\"num_paragraphs\": 2, \"nth_paragraph\": 2, \"first_word\": \"jasper\"}", "Intro.\n\nJasper.\n\nThird.", false, true),
    ("length_constraints:nth_paragraph_first_word", "{\"num_paragraphs\": 2, \"nth_paragraph\": 2, \"first_word\": \"jasper\"}", "\n\nIntro.\n\nJasper is here.", true, true),
    ("detectable_content:number_placeholders", "{\"num_placeholders\": 2}", "Dear [name], I live at [address].", true, true),
    ("detectable_content:number_placeholders", "{\"num_placeholders\": 2}", "Dear [name], see [the\nnote].", false, false),
    ("detectable_content:postscript", "{\"postscript_marker\": \"P.S.\"}", "Bye for now.\nP.S. See you soon.", true, true),
    ("detectable_content:postscript", "{\"postscript_marker\": \"P.S.\"}", "Bye for now. PS see you soon.", false, false),
    ("detectable_content:postscript", "{\"postscript_marker\": \"P.P.S\"}", "Bye.\n\np. p. s. One more thing.", true, true),
    ("detectable_content:postscript", "{\"postscript_marker\": \"P.P.S\"}", "Bye.\n\nP.S. One more thing.", false, false),
    ("detectable_format:number_bullet_lists", "{\"num_bullets\": 2}", "**Bold intro**\n* one\n* two", true, true),
    ("detectable_format:number_bullet_lists", "{\"num_bullets\": 2}", "* one\n- two\n  * three", false, true),
    ("detectable_format:constrained_response", "{}", "  My answer is maybe. It depends.", true, true),
    ("detectable_format:constrained_response", "{}", "My answer is yes", false, false),
    ("detectable_format:number_highlighted_sections", "{\"num_highlights\": 2}", "*one* and **two**", true, true),
    ("detectable_format:number_highlighted_sections", "{\"num_highlights\": 2}", "*one* and * * and **", false, false),
    ("detectable_format:multiple_sections", "{\"section_spliter\": \"SECTION\", \"num_sections\": 2}", "SECTION 1\nIntro.\nSECTION 2\nBody.", true, true),
    ("detectable_format:multiple_sections", "{\"section_spliter\": \"SECTION\", \"num_sections\": 2}", "Section 1\nIntro.\nSection 2\nBody.", false, false),
    ("detectable_format:json_format", "{}", "```json\n{\"a\": [1, 2.5, null]}\n```", true, true),
    ("detectable_format:json_format", "{}", "Here it is: {\"a\": 1}", false, false),
    ("detectable_format:json_format", "{}", "```JSON\n[\"x\"]```", true, true),
    ("detectable_format:title", "{}", "<<Poem of Joy>>\nRoses are red.", true, true),
    ("detectable_format:title", "{}", "<<   >> untitled", false, false),
    ("detectable_format:title", "{}", "<<split\ntitle>>", false, false),
    ("combination:two_responses", "{}", "Answer one.\n******\nAnswer two.", true, true),
    ("combination:two_responses", "{}", "Same.\n******\nSame.", false, false),
    ("combination:two_responses", "{}", "A ****** B ****** C", false, false),
    ("combination:two_responses", "{}", "******\nA\n******\nB\n******", true, true),
    ("combination:repeat_prompt", "{\"prompt_to_repeat\": \"Write a poem about cats.\"}", "write a poem about CATS. Cats are soft.", true, true),
    ("combination:repeat_prompt", "{\"prompt_to_repeat\": \"Write a poem about cats.\"}", "Sure! Write a poem about cats.", false, false),
    ("startend:end_checker", "{\"end_phrase\": \"Is there anything else I can help with?\"}", "Done.\nis there anything else I can help with?\"", true, true),
    ("startend:end_checker", "{\"end_phrase\": \"Is there anything else I can help with?\"}", "Is there anything else I can help with? Thanks.", false, false),
    ("change_case:capital_word_frequency", "{\"capital_frequency\": 3, \"capital_relation\": \"at least\"}", "I LOVE NEW York", true, true),
    ("change_case:capital_word_frequency", "{\"capital_frequency\": 3, \"capital_relation\": \"at least\"}", "I Love New York", false, false),
    ("change_case:capital_word_frequency", "{\"capital_frequency\": 2, \"capital_relation\": \"less than\"}", "DON'T stop", false, false),
    ("change_case:capital_word_frequency", "{\"capital_frequency\": 2, \"capital_relation\": \"less than\"}", "I don't stop", true, true),
    ("change_case:english_capital", "{}", "THIS IS AN ENGLISH SENTENCE WRITTEN ENTIRELY IN CAPITAL LETTERS.", true, true),
    ("change_case:english_capital", "{}", "THIS IS MOSTLY IN CAPITAL LETTERS but not all.", false, false),
    ("change_case:english_capital", "{}", "DER SCHNELLE BRAUNE FUCHS SPRINGT ÜBER DEN FAULEN HUND AM FLUSSUFER.", false, false),
    ("change_case:english_lowercase", "{}", "this is an english sentence written entirely in lower case letters.", true, true),
    ("change_case:english_lowercase", "{}", "this is an English sentence.", false, false),
    ("punctuation:no_comma", "{}", "No commas here at all.", true, true),
    ("punctuation:no_comma", "{}", "One, two.", false, false),
    ("startend:quotation", "{}", "  \"Wrapped in quotes.\"\n", true, true),
    ("startend:quotation", "{}", "\"Open only.", false, false),
    ("startend:quotation", "{}", "\"", false, false),
    ("startend:quotation", "{}", "Sure, here it is:\n\"Wrapped answer.\"", false, true),
    ("change_case:english_lowercase", "{}", "Here is my answer:\nthis is an english sentence written entirely in lower case letters.", false, true),
    ("detectable_format:json_format", "{}", "Here is the JSON:\n{\"a\": 1}\nHope it helps!", false, true),
    ("punctuation:no_comma", "{}", "Sure, here you go:\nNo commas in the answer", false, true),
    ("detectable_format:title", "{}", "<<*Title*>>\ntext", true, true),
    ("combination:repeat_prompt", "{\"prompt_to_repeat\": \"Write a poem.\"}", "**Write a poem.** Roses are red.", false, true),
    ("length_constraints:number_words", "{\"num_words\": 4, \"relation\": \"less than\"}", "Here is my short answer:\nYes indeed.", false, true),
    ("punctuation:no_comma", "{}", "   \n ", false, false),
    ("punctuation:no_comma", "{}", "<think>Hmm, commas, commas.</think>\nNo commas here", true, true),
    ("punctuation:no_comma", "{}", "<think>still thinking", false, false),
];

fn kwargs(json: &str) -> Map<String, Value> {
    serde_json::from_str(json).expect("test kwargs are JSON objects")
}

fn prompt(key: i64, instructions: Vec<Instruction>) -> IfevalPrompt {
    IfevalPrompt {
        key,
        prompt: String::new(),
        instructions,
    }
}

#[test]
fn every_checker_matches_python_on_passing_and_failing_responses() {
    let mut failures = Vec::new();
    for &(id, kw, response, strict, loose) in CASES {
        let ins = Instruction::parse(id, &kwargs(kw)).expect("case parses");
        // `judge` strips reasoning first, as Python's evaluate_instructions does.
        let outcome = judge(&prompt(0, vec![ins]), response);
        if outcome.strict != [strict] || outcome.loose != [loose] {
            failures.push(format!(
                "{id} {kw} {response:?}: got {:?}/{:?}",
                outcome.strict, outcome.loose
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_cases_cover_every_checker_both_ways() {
    for id in INSTRUCTION_IDS {
        let verdicts: Vec<bool> = CASES.iter().filter(|c| c.0 == id).map(|c| c.3).collect();
        assert!(
            verdicts.contains(&true) && verdicts.contains(&false),
            "{id}"
        );
    }
    assert!(
        CASES.iter().any(|c| !c.3 && c.4),
        "some case passes only loosely"
    );
}

#[test]
fn check_is_strict_and_check_loose_tries_the_python_variants() {
    let quotation = Instruction::parse("startend:quotation", &Map::new()).expect("parses");
    let framed = "Sure:\n\"The answer.\"";
    assert!(!check(&quotation, framed));
    assert!(check_loose(&quotation, framed));
    // Blank text fails both ways, whatever the instruction.
    let no_comma = Instruction::parse("punctuation:no_comma", &Map::new()).expect("parses");
    assert!(!check(&no_comma, " \n") && !check_loose(&no_comma, " \n"));
    assert!(check(&no_comma, "fine"));
}

#[test]
fn loose_variants_follow_get_loose_transformations() {
    assert_eq!(
        loose_variants("Intro:\n*a*\nbye "),
        [
            "Intro:\n*a*\nbye ",
            "Intro:\na\nbye ",
            "*a*\nbye",
            "Intro:\n*a*",
            "*a*",
            "a\nbye",
            "Intro:\na",
            "a",
        ]
    );
    // One line: removing the first or last leaves nothing.
    assert_eq!(loose_variants("x*")[2..5], ["", "", ""]);
}

#[test]
fn reasoning_blocks_are_removed_before_judging() {
    assert_eq!(
        strip_thinking("  <think>a, b</think>\n answer \n"),
        "answer"
    );
    assert_eq!(strip_thinking("<think>never closed"), "");
    assert_eq!(strip_thinking(" plain "), "plain");
}

#[test]
fn parse_reports_the_id_and_field() {
    let err = |id: &str, kw: &str| {
        Instruction::parse(id, &kwargs(kw))
            .expect_err("must fail")
            .to_string()
    };
    assert!(err("keywords:nonexistent", "{}").contains("keywords:nonexistent"));
    let missing = err(
        "length_constraints:number_words",
        r#"{"relation": "at least"}"#,
    );
    assert!(
        missing.contains("length_constraints:number_words") && missing.contains("num_words"),
        "{missing}"
    );
    let typed = err(
        "length_constraints:number_words",
        r#"{"relation": "at least", "num_words": "ten"}"#,
    );
    assert!(
        typed.contains("num_words") && typed.contains("integer"),
        "{typed}"
    );
    let negative = err(
        "detectable_format:number_bullet_lists",
        r#"{"num_bullets": -1}"#,
    );
    assert!(negative.contains("num_bullets"), "{negative}");
    let relation = err(
        "keywords:frequency",
        r#"{"keyword": "a", "frequency": 1, "relation": "at most"}"#,
    );
    assert!(relation.contains("relation"), "{relation}");
    let extra = err("punctuation:no_comma", r#"{"num_words": 3}"#);
    assert!(
        extra.contains("unexpected") && extra.contains("num_words"),
        "{extra}"
    );
    let lang = err("language:response_language", r#"{"language": "xx"}"#);
    assert!(lang.contains("language"), "{lang}");
    let nth = r#"{"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "a"}"#;
    assert!(err("length_constraints:nth_paragraph_first_word", nth).contains("nth_paragraph"));
    let regex = err("keywords:existence", r#"{"keywords": ["(unclosed"]}"#);
    assert!(regex.contains("regular expression"), "{regex}");
}

#[test]
fn null_kwargs_are_ignored_as_in_python() {
    // The Hub export lists every argument name, null where unused.
    let kw = r#"{"num_words": 3, "relation": "less than", "keywords": null, "language": null}"#;
    let ins = Instruction::parse("length_constraints:number_words", &kwargs(kw)).expect("parses");
    assert_eq!(ins.id(), "length_constraints:number_words");
    assert!(check(&ins, "two words") && !check(&ins, "three words here"));
    let err = Instruction::parse("keywords:existence", &kwargs(r#"{"keywords": null}"#));
    assert!(matches!(err, Err(IfevalError::MissingArgument { .. })));
}

#[test]
fn letter_frequency_counts_the_given_character() {
    // Python draws a random letter for "#"; Gauntlet counts "#" itself.
    let kw = r##"{"letter": "#", "let_frequency": 2, "let_relation": "at least"}"##;
    let ins = Instruction::parse("keywords:letter_frequency", &kwargs(kw)).expect("parses");
    assert!(check(&ins, "# Title\n## Part"));
    assert!(!check(&ins, "# Title only"));
}

#[test]
fn score_aggregates_prompt_and_instruction_levels() {
    let ins = |id: &str, kw: &str| Instruction::parse(id, &kwargs(kw)).expect("parses");
    let no_comma = || ins("punctuation:no_comma", "{}");
    let lower = || ins("change_case:english_lowercase", "{}");
    let prompts = vec![
        prompt(1, vec![no_comma(), lower()]),
        prompt(2, vec![no_comma()]),
        prompt(3, vec![no_comma(), ins("startend:quotation", "{}")]),
        prompt(4, vec![no_comma()]),
    ];
    let responses = [
        "this is an english sentence written entirely in lower case letters",
        "Yes, indeed.",
        "Here you go:\n\"No commas at all\"",
        "",
    ];
    let s = score(&prompts, &responses).expect("scores");
    assert_eq!(s.per_prompt[0].strict, [true, true]);
    assert_eq!(s.per_prompt[1].strict, [false]);
    assert_eq!(s.per_prompt[2].strict, [true, false]);
    assert_eq!(s.per_prompt[2].loose, [true, true]);
    assert_eq!(s.per_prompt[3].loose, [false]);
    assert_eq!(s.prompt_strict, 1.0 / 4.0);
    assert_eq!(s.prompt_loose, 2.0 / 4.0);
    assert_eq!(s.instruction_strict, 3.0 / 6.0);
    assert_eq!(s.instruction_loose, 4.0 / 6.0);
    assert_eq!(
        s.per_prompt[2].instruction_ids,
        ["punctuation:no_comma", "startend:quotation"]
    );

    assert!(matches!(
        score(&prompts, &responses[..3]),
        Err(IfevalError::LengthMismatch { .. })
    ));
    assert!(matches!(score::<&str>(&[], &[]), Err(IfevalError::Empty)));
}

#[test]
fn jsonl_rows_parse_and_bad_rows_name_their_line() {
    let good = r#"{"key": 7, "prompt": "Say hi, in lower case.", "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]}"#;
    let rows = parse_jsonl(&format!("{good}\n\n{good}\n")).expect("parses");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].key, 7);
    assert_eq!(
        rows[0].instructions[0].id(),
        "change_case:english_lowercase"
    );

    let bad_id = good.replace("english_lowercase", "english_shouting");
    let e = parse_jsonl(&format!("{good}\n{bad_id}")).expect_err("unknown id");
    assert!(matches!(e, IfevalError::Row { line: 2, .. }), "{e}");
    assert!(e.to_string().contains("english_shouting"), "{e}");
    let e = parse_jsonl("{\"key\": 1}").expect_err("missing fields");
    assert!(matches!(e, IfevalError::BadRow { line: 1, .. }), "{e}");
    let short = good.replace("[{}]", "[]");
    assert!(matches!(
        parse_jsonl(&short),
        Err(IfevalError::BadRow { .. })
    ));
}

#[test]
fn the_whole_dataset_parses_with_known_ids() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ifeval/input_data.jsonl"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and the IFEval dataset is missing");
        }
        eprintln!("note: {path} absent; skipping the IFEval dataset check");
        return;
    };
    let prompts = parse_jsonl(&text).expect("every row parses");
    assert_eq!(prompts.len(), 541);
    let ids: Vec<&str> = prompts
        .iter()
        .flat_map(|p| p.instructions.iter().map(Instruction::id))
        .collect();
    assert_eq!(ids.len(), 834);
    for id in INSTRUCTION_IDS {
        assert!(ids.contains(&id), "{id} unused");
    }
}

/// Every prompt answered with itself: Python (if-verifiable 0.1.2, seeded
/// langdetect) passes 134 prompts strictly and 161 loosely, and 301 / 343 of
/// the 834 instructions. Gauntlet differs on exactly two instructions, both
/// documented deviations: key 1122 asks for 4 `#` (Python swaps `#` for a
/// random letter, which happened to pass, strictly and loosely) and key 3456's
/// `english_capital` (the loose variant that keeps only the upper-case list
/// lines is too short for whatlang to call English). Neither prompt passes as
/// a whole either way.
#[test]
fn echoing_every_prompt_scores_as_python_does() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ifeval/input_data.jsonl"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and the IFEval dataset is missing");
        }
        eprintln!("note: {path} absent; skipping the IFEval echo check");
        return;
    };
    let prompts = parse_jsonl(&text).expect("every row parses");
    let echoes: Vec<&str> = prompts.iter().map(|p| p.prompt.as_str()).collect();
    let s = score(&prompts, &echoes).expect("scores");
    let passed = |strict: bool| {
        let flags = s
            .per_prompt
            .iter()
            .flat_map(|o| if strict { &o.strict } else { &o.loose });
        flags.filter(|&&b| b).count()
    };
    assert_eq!(s.per_prompt.iter().filter(|o| o.all_strict()).count(), 134);
    assert_eq!(s.per_prompt.iter().filter(|o| o.all_loose()).count(), 161);
    assert_eq!(passed(true), 301 - 1);
    assert_eq!(passed(false), 343 - 2);
    assert_eq!(s.prompt_strict, 134.0 / 541.0);
    assert_eq!(s.instruction_loose, 341.0 / 834.0);
}

#[test]
fn every_instruction_survives_json_and_a_hostile_one_is_refused() {
    // Each case's instruction, serialised (as a job or a published item
    // carries it) and read back, is the same instruction.
    for &(id, kw, ..) in CASES {
        let ins = Instruction::parse(id, &kwargs(kw)).expect("case parses");
        assert_eq!(
            Instruction::parse(id, &ins.kwargs()).ok(),
            Some(ins.clone())
        );
        let p = prompt(1, vec![ins]);
        let json = serde_json::to_string(&p).expect("serialises");
        let back: IfevalPrompt = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, p, "{json}");
    }
    // What the parser refuses, the JSON form refuses too, naming the field:
    // paragraph 0 (would index before the first paragraph), a pattern that
    // does not compile, a language IFEval has no checker for.
    let refused = |instruction: &str| {
        let json = format!(r#"{{"key": 1, "prompt": "p", "instructions": [{instruction}]}}"#);
        serde_json::from_str::<IfevalPrompt>(&json)
            .expect_err("a hostile instruction")
            .to_string()
    };
    let zeroth = refused(
        r#"{"kind": "nth_paragraph_first_word", "num_paragraphs": 2, "nth_paragraph": 0, "first_word": "a"}"#,
    );
    assert!(zeroth.contains("nth_paragraph"), "{zeroth}");
    let pattern = refused(r#"{"kind": "keywords_existence", "keywords": ["(unclosed"]}"#);
    assert!(pattern.contains("regular expression"), "{pattern}");
    let language = refused(r#"{"kind": "response_language", "language": "xx"}"#);
    assert!(language.contains("language"), "{language}");
    // Not in the parser's normal form (a capital first word is lower-cased
    // by the parser, never stored as is).
    let capital = refused(
        r#"{"kind": "nth_paragraph_first_word", "num_paragraphs": 2, "nth_paragraph": 1, "first_word": "Jasper"}"#,
    );
    assert!(capital.contains("form"), "{capital}");
}
