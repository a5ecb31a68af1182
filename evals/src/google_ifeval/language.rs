//! Language identification for `language:response_language` and the two
//! `change_case:english_*` checkers. Python uses `langdetect` (a randomised
//! naive-Bayes over character n-grams, 55 languages); Gauntlet uses the
//! pure-Rust `whatlang` restricted to the languages both know, so the answer
//! is deterministic but can differ from langdetect on short or mixed texts.
//! whatlang has no Swahili model; Swahili is recognised by its function
//! words instead ([`is_swahili`]). On short texts whatlang's guesses are
//! often unreliable where langdetect still says English; there an unreliable
//! guess gives way to English when English function words are frequent
//! ([`looks_english`]).

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// langdetect's codes (ISO 639-1, `zh-cn` for Chinese) of the languages
/// whatlang also detects. langdetect's `cy`, `so`, `sq`, `sw` and `zh-tw`
/// have no whatlang model.
#[rustfmt::skip]
const SHARED: [(&str, Lang); 50] = [
    ("af", Lang::Afr), ("ar", Lang::Ara), ("bg", Lang::Bul), ("bn", Lang::Ben),
    ("ca", Lang::Cat), ("cs", Lang::Ces), ("da", Lang::Dan), ("de", Lang::Deu),
    ("el", Lang::Ell), ("en", Lang::Eng), ("es", Lang::Spa), ("et", Lang::Est),
    ("fa", Lang::Pes), ("fi", Lang::Fin), ("fr", Lang::Fra), ("gu", Lang::Guj),
    ("he", Lang::Heb), ("hi", Lang::Hin), ("hr", Lang::Hrv), ("hu", Lang::Hun),
    ("id", Lang::Ind), ("it", Lang::Ita), ("ja", Lang::Jpn), ("kn", Lang::Kan),
    ("ko", Lang::Kor), ("lt", Lang::Lit), ("lv", Lang::Lav), ("mk", Lang::Mkd),
    ("ml", Lang::Mal), ("mr", Lang::Mar), ("ne", Lang::Nep), ("nl", Lang::Nld),
    ("no", Lang::Nob), ("pa", Lang::Pan), ("pl", Lang::Pol), ("pt", Lang::Por),
    ("ro", Lang::Ron), ("ru", Lang::Rus), ("sk", Lang::Slk), ("sl", Lang::Slv),
    ("sv", Lang::Swe), ("ta", Lang::Tam), ("te", Lang::Tel), ("th", Lang::Tha),
    ("tl", Lang::Tgl), ("tr", Lang::Tur), ("uk", Lang::Ukr), ("ur", Lang::Urd),
    ("vi", Lang::Vie), ("zh-cn", Lang::Cmn),
];

/// The ISO 639-1 codes `language:response_language` accepts, with their
/// names (`instructions_util.LANGUAGE_CODES`; any other code is a `KeyError`
/// in Python).
#[rustfmt::skip]
pub const LANGUAGE_CODES: [(&str, &str); 30] = [
    ("en", "English"), ("es", "Spanish"), ("pt", "Portuguese"), ("ar", "Arabic"),
    ("hi", "Hindi"), ("fr", "French"), ("ru", "Russian"), ("de", "German"),
    ("ja", "Japanese"), ("it", "Italian"), ("bn", "Bengali"), ("uk", "Ukrainian"),
    ("th", "Thai"), ("ur", "Urdu"), ("ta", "Tamil"), ("te", "Telugu"),
    ("bg", "Bulgarian"), ("ko", "Korean"), ("pl", "Polish"), ("he", "Hebrew"),
    ("fa", "Persian"), ("vi", "Vietnamese"), ("ne", "Nepali"), ("sw", "Swahili"),
    ("kn", "Kannada"), ("mr", "Marathi"), ("gu", "Gujarati"), ("pa", "Punjabi"),
    ("ml", "Malayalam"), ("fi", "Finnish"),
];

static DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(SHARED.iter().map(|&(_, l)| l).collect()));

/// The outcome of identifying a response's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// No letters at all: langdetect raises, and the checkers count the
    /// instruction as followed.
    NoFeatures,
    /// The language, as langdetect's code.
    Lang(&'static str),
    /// Letters of a language neither detector shares (never a match).
    Other,
}

/// Frequent Swahili function words (conjunctions, the `-a` of association,
/// pronouns, common adverbs) that are rare as words in other languages.
#[rustfmt::skip]
const SWAHILI_FUNCTION_WORDS: [&str; 44] = [
    "na", "ya", "wa", "kwa", "ni", "za", "katika", "cha", "vya", "hii", "hizi", "huu",
    "hiyo", "kuwa", "lakini", "sana", "kama", "pia", "wao", "yake", "yako", "yangu", "wangu", "mimi",
    "wewe", "yeye", "sisi", "ninyi", "kila", "bila", "baada", "kabla", "hadi", "au", "kwamba", "ambao",
    "ambayo", "zaidi", "watu", "mtu", "sasa", "leo", "hivyo", "tu",
];

/// Whether at least a fifth of the words (of three or more) are Swahili
/// function words; in running Swahili text they are a quarter to a third.
pub fn is_swahili(text: &str) -> bool {
    function_word_share(text, &SWAHILI_FUNCTION_WORDS) >= 0.2
}

/// Frequent English function words.
#[rustfmt::skip]
const ENGLISH_FUNCTION_WORDS: [&str; 50] = [
    "the", "a", "an", "of", "and", "to", "in", "is", "are", "was", "were", "be",
    "it", "that", "this", "for", "on", "with", "as", "at", "by", "from", "or", "not",
    "but", "you", "your", "i", "my", "we", "our", "he", "she", "they", "his", "her",
    "their", "all", "about", "have", "has", "will", "can", "do", "if", "so", "what", "which",
    "there", "me",
];

/// Share of the words of `text` in `list` (0 for fewer than three words).
fn function_word_share(text: &str, list: &[&str]) -> f64 {
    let lower = text.to_lowercase();
    let words: Vec<&str> = WORDS.find_iter(&lower).map(|m| m.as_str()).collect();
    if words.len() < 3 {
        return 0.0;
    }
    words.iter().filter(|w| list.contains(w)).count() as f64 / words.len() as f64
}

/// Whether at least a quarter of the words are English function words (a
/// third to a half of running English text).
pub fn looks_english(text: &str) -> bool {
    function_word_share(text, &ENGLISH_FUNCTION_WORDS) >= 0.25
}

static WORDS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(&format!("{}+", super::text::PY_WORD_CLASS)).expect("static regex compiles")
});

/// Identifies the language of `text`.
pub fn detect(text: &str) -> Detection {
    if !text.chars().any(char::is_alphabetic) {
        return Detection::NoFeatures;
    }
    if is_swahili(text) {
        return Detection::Lang("sw");
    }
    let Some(info) = DETECTOR.detect(text) else {
        return Detection::Other;
    };
    if !info.is_reliable() && info.lang() != Lang::Eng && looks_english(text) {
        return Detection::Lang("en");
    }
    SHARED
        .iter()
        .find(|&&(_, l)| l == info.lang())
        .map_or(Detection::Other, |&(code, _)| Detection::Lang(code))
}

/// Whether `text` is in the language `code`, as the Python checkers decide:
/// a detection failure counts as a match.
pub fn is_language(text: &str, code: &str) -> bool {
    match detect(text) {
        Detection::NoFeatures => true,
        Detection::Lang(found) => found == code,
        Detection::Other => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_dataset_languages() {
        let cases = [
            (
                "en",
                "The quick brown fox jumps over the lazy dog near the river bank.",
            ),
            (
                "de",
                "Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.",
            ),
            (
                "it",
                "La volpe veloce salta sopra il cane pigro vicino alla riva del fiume.",
            ),
            (
                "pt",
                "A rápida raposa marrom pula sobre o cão preguiçoso perto da margem do rio.",
            ),
            (
                "fi",
                "Nopea ruskea kettu hyppää laiskan koiran yli joen rannalla tänään.",
            ),
            (
                "ru",
                "Быстрая коричневая лиса прыгает через ленивую собаку у реки.",
            ),
            (
                "bg",
                "Бързата кафява лисица прескача мързеливото куче край реката днес.",
            ),
            ("hi", "तेज़ भूरी लोमड़ी नदी के किनारे आलसी कुत्ते के ऊपर कूदती है।"),
            (
                "ko",
                "빠른 갈색 여우가 강둑 근처에서 게으른 개를 뛰어넘습니다.",
            ),
            ("th", "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจใกล้ริมแม่น้ำ"),
            (
                "ar",
                "الثعلب البني السريع يقفز فوق الكلب الكسول بالقرب من ضفة النهر.",
            ),
            (
                "vi",
                "Con cáo nâu nhanh nhẹn nhảy qua con chó lười gần bờ sông.",
            ),
            (
                "sw",
                "Mimi ni mwanafunzi katika chuo kikuu cha Nairobi na ninapenda kusoma vitabu.",
            ),
            (
                "sw",
                "Leo ni siku nzuri sana. Watoto wanacheza nje na wazazi wao wanapika chakula.",
            ),
        ];
        for (code, text) in cases {
            assert_eq!(detect(text), Detection::Lang(code), "{text}");
        }
    }

    #[test]
    fn swahili_words_do_not_capture_other_latin_languages() {
        for text in [
            "Dies ist ein kurzer Satz auf Deutsch, der nichts Besonderes sagt.",
            "Ya no quiero ir a la playa porque hace mucho calor en la tarde.",
            "Na cidade há muitas pessoas que trabalham na praia durante o verão.",
            "I went to the shop and bought some bread, milk and eggs for breakfast.",
        ] {
            assert!(!is_swahili(text), "{text}");
            assert!(text.starts_with("I went") || !looks_english(text), "{text}");
        }
    }

    #[test]
    fn short_english_falls_back_on_function_words() {
        // whatlang alone guesses Italian here, with confidence 0.02;
        // langdetect says English.
        let text = "compose a poem all in lowercase letters about my friend barnet.";
        assert_eq!(detect(text), Detection::Lang("en"));
    }

    #[test]
    fn texts_without_letters_count_as_followed() {
        assert_eq!(detect("123 456 !!!"), Detection::NoFeatures);
        assert!(is_language("42.", "ko"));
        assert!(!is_language("This is clearly written in English.", "de"));
        // A script none of the shared languages uses is never a match.
        assert_eq!(detect("ეს არის ქართული ტექსტი"), Detection::Other);
    }
}
