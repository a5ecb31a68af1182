//! The 25 IFEval instructions as data, with the arguments
//! `build_description` takes in `if_verifiable/ifeval/instructions.py`
//! (parsing is in `parse.rs`).

use serde::{Deserialize, Serialize};

/// How a count compares with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `"less than"`: actual < threshold.
    LessThan,
    /// `"at least"`: actual ≥ threshold.
    AtLeast,
}

impl Relation {
    /// Whether `actual` satisfies the relation to `threshold`.
    pub fn holds(self, actual: usize, threshold: usize) -> bool {
        match self {
            Relation::LessThan => actual < threshold,
            Relation::AtLeast => actual >= threshold,
        }
    }
}

/// One verifiable instruction with its arguments.
///
/// Patterns (`keywords`, `keyword`, `forbidden_words`, `section_spliter` and
/// a custom `postscript_marker`) are regular expressions, as in Python, and
/// are checked to compile when parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Instruction {
    /// `keywords:existence`: every keyword pattern occurs (case-insensitive).
    KeywordsExistence {
        /// The keyword patterns.
        keywords: Vec<String>,
    },
    /// `keywords:frequency`: occurrences of the keyword pattern.
    KeywordsFrequency {
        /// The keyword pattern.
        keyword: String,
        /// The threshold.
        frequency: usize,
        /// How the count compares with the threshold.
        relation: Relation,
    },
    /// `keywords:forbidden_words`: no `\bword\b` occurs (case-insensitive).
    ForbiddenWords {
        /// The forbidden word patterns.
        forbidden_words: Vec<String>,
    },
    /// `keywords:letter_frequency`: occurrences of one (lower-cased) character.
    LetterFrequency {
        /// The (lower-cased) character counted in the lower-cased response.
        letter: char,
        /// The threshold.
        frequency: usize,
        /// How the count compares with the threshold.
        relation: Relation,
    },
    /// `language:response_language`: the whole response is in `language`.
    ResponseLanguage {
        /// The ISO 639-1 code.
        language: String,
    },
    /// `length_constraints:number_sentences`: Punkt sentence count.
    NumberSentences {
        /// The threshold.
        num_sentences: usize,
        /// How the count compares with the threshold.
        relation: Relation,
    },
    /// `length_constraints:number_paragraphs`: exactly `n` `***`-separated paragraphs.
    NumberParagraphs {
        /// The required number of paragraphs.
        num_paragraphs: usize,
    },
    /// `length_constraints:number_words`: `\w+` word count.
    NumberWords {
        /// The threshold.
        num_words: usize,
        /// How the count compares with the threshold.
        relation: Relation,
    },
    /// `length_constraints:nth_paragraph_first_word`: `\n\n`-separated
    /// paragraphs, and paragraph `nth_paragraph` (1-based) starts with `first_word`.
    NthParagraphFirstWord {
        /// The required number of paragraphs.
        num_paragraphs: usize,
        /// Which paragraph (1-based) must start with `first_word`.
        nth_paragraph: usize,
        /// The required first word, lower-cased.
        first_word: String,
    },
    /// `detectable_content:number_placeholders`: at least `n` `[...]`.
    NumberPlaceholders {
        /// The minimum.
        num_placeholders: usize,
    },
    /// `detectable_content:postscript`: a line starting with the marker.
    Postscript {
        /// The marker: `P.S.`, `P.P.S` or a pattern.
        postscript_marker: String,
    },
    /// `detectable_format:number_bullet_lists`: exactly `n` `*` or `-` bullets.
    NumberBulletLists {
        /// The exact number.
        num_bullets: usize,
    },
    /// `detectable_format:constrained_response`: contains "My answer is yes./no./maybe.".
    ConstrainedResponse,
    /// `detectable_format:number_highlighted_sections`: at least `n` `*...*` or `**...**`.
    NumberHighlightedSections {
        /// The minimum.
        num_highlights: usize,
    },
    /// `detectable_format:multiple_sections`: at least `n` "`{spliter} {number}`" markers.
    MultipleSections {
        /// The section keyword pattern (`Section`, `SECTION`, ...).
        section_spliter: String,
        /// The minimum.
        num_sections: usize,
    },
    /// `detectable_format:json_format`: the response (minus ``` fences) is JSON.
    JsonFormat,
    /// `detectable_format:title`: a non-empty `<<title>>`.
    Title,
    /// `combination:two_responses`: two different responses split by `******`.
    TwoResponses,
    /// `combination:repeat_prompt`: starts with the request, case-insensitive.
    RepeatPrompt {
        /// The request to repeat.
        prompt_to_repeat: String,
    },
    /// `startend:end_checker`: ends with the phrase, case-insensitive.
    EndChecker {
        /// The phrase, trimmed.
        end_phrase: String,
    },
    /// `change_case:capital_word_frequency`: all-capital NLTK word tokens.
    CapitalWordFrequency {
        /// The threshold.
        capital_frequency: usize,
        /// How the count compares with the threshold.
        capital_relation: Relation,
    },
    /// `change_case:english_capital`: all capitals, and English.
    EnglishCapital,
    /// `change_case:english_lowercase`: all lower case, and English.
    EnglishLowercase,
    /// `punctuation:no_comma`: no `,`.
    NoComma,
    /// `startend:quotation`: wrapped in double quotation marks.
    Quotation,
}

/// Every instruction id, in the registry's order.
pub const INSTRUCTION_IDS: [&str; 25] = [
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "startend:quotation",
];

impl Instruction {
    /// The dataset's id of this instruction.
    pub fn id(&self) -> &'static str {
        use Instruction as I;
        let i = match self {
            I::KeywordsExistence { .. } => 0,
            I::KeywordsFrequency { .. } => 1,
            I::ForbiddenWords { .. } => 2,
            I::LetterFrequency { .. } => 3,
            I::ResponseLanguage { .. } => 4,
            I::NumberSentences { .. } => 5,
            I::NumberParagraphs { .. } => 6,
            I::NumberWords { .. } => 7,
            I::NthParagraphFirstWord { .. } => 8,
            I::NumberPlaceholders { .. } => 9,
            I::Postscript { .. } => 10,
            I::NumberBulletLists { .. } => 11,
            I::ConstrainedResponse => 12,
            I::NumberHighlightedSections { .. } => 13,
            I::MultipleSections { .. } => 14,
            I::JsonFormat => 15,
            I::Title => 16,
            I::TwoResponses => 17,
            I::RepeatPrompt { .. } => 18,
            I::EndChecker { .. } => 19,
            I::CapitalWordFrequency { .. } => 20,
            I::EnglishCapital => 21,
            I::EnglishLowercase => 22,
            I::NoComma => 23,
            I::Quotation => 24,
        };
        INSTRUCTION_IDS[i]
    }
}
