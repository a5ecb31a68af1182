//! Parsing the dataset's `(instruction_id, kwargs)` pairs into
//! [`Instruction`]s, with an error naming the id and field for anything
//! Python would reject or replace with a random draw.

use serde_json::{json, Map, Value};

use super::error::IfevalError;
use super::instruction::{Instruction, Relation};
use super::language::LANGUAGE_CODES;

impl Instruction {
    /// Parses one instruction; null arguments are ignored, as in Python.
    pub fn parse(id: &str, kwargs: &Map<String, Value>) -> Result<Self, IfevalError> {
        use Instruction as I;
        let mut a = Args::new(id, kwargs);
        let ins = match id {
            "keywords:existence" => I::KeywordsExistence {
                keywords: a.patterns("keywords", "(?i)", "")?,
            },
            "keywords:frequency" => I::KeywordsFrequency {
                keyword: a.pattern("keyword", "(?i)", "")?,
                frequency: a.count("frequency")?,
                relation: a.relation("relation")?,
            },
            "keywords:forbidden_words" => I::ForbiddenWords {
                forbidden_words: a.patterns("forbidden_words", r"(?i)\b", r"\b")?,
            },
            "keywords:letter_frequency" => I::LetterFrequency {
                letter: a.letter("letter")?,
                frequency: a.count("let_frequency")?,
                relation: a.relation("let_relation")?,
            },
            "language:response_language" => I::ResponseLanguage {
                language: a.language("language")?,
            },
            "length_constraints:number_sentences" => I::NumberSentences {
                num_sentences: a.count("num_sentences")?,
                relation: a.relation("relation")?,
            },
            "length_constraints:number_paragraphs" => I::NumberParagraphs {
                num_paragraphs: a.count("num_paragraphs")?,
            },
            "length_constraints:number_words" => I::NumberWords {
                num_words: a.count("num_words")?,
                relation: a.relation("relation")?,
            },
            "length_constraints:nth_paragraph_first_word" => {
                let num_paragraphs = a.count("num_paragraphs")?;
                let nth_paragraph = a.count("nth_paragraph")?;
                if nth_paragraph == 0 || nth_paragraph > num_paragraphs {
                    return Err(a.bad("nth_paragraph", "must be between 1 and num_paragraphs"));
                }
                I::NthParagraphFirstWord {
                    num_paragraphs,
                    nth_paragraph,
                    first_word: a.string("first_word")?.to_lowercase(),
                }
            }
            "detectable_content:number_placeholders" => I::NumberPlaceholders {
                num_placeholders: a.count("num_placeholders")?,
            },
            "detectable_content:postscript" => {
                let marker = a.string("postscript_marker")?.trim().to_owned();
                if marker != "P.S." && marker != "P.P.S" {
                    a.check_pattern(
                        "postscript_marker",
                        &format!(r"(?m)\s*{}.*$", marker.to_lowercase()),
                    )?;
                }
                I::Postscript {
                    postscript_marker: marker,
                }
            }
            "detectable_format:number_bullet_lists" => I::NumberBulletLists {
                num_bullets: a.count("num_bullets")?,
            },
            "detectable_format:constrained_response" => I::ConstrainedResponse,
            "detectable_format:number_highlighted_sections" => I::NumberHighlightedSections {
                num_highlights: a.count("num_highlights")?,
            },
            "detectable_format:multiple_sections" => {
                let spliter = a.string("section_spliter")?.trim().to_owned();
                a.check_pattern("section_spliter", &format!(r"\s?{spliter}\s?\d+\s?"))?;
                I::MultipleSections {
                    section_spliter: spliter,
                    num_sections: a.count("num_sections")?,
                }
            }
            "detectable_format:json_format" => I::JsonFormat,
            "detectable_format:title" => I::Title,
            "combination:two_responses" => I::TwoResponses,
            "combination:repeat_prompt" => {
                let prompt = a.string("prompt_to_repeat")?;
                if prompt.is_empty() {
                    return Err(a.bad("prompt_to_repeat", "must not be empty"));
                }
                I::RepeatPrompt {
                    prompt_to_repeat: prompt,
                }
            }
            "startend:end_checker" => I::EndChecker {
                end_phrase: a.string("end_phrase")?.trim().to_owned(),
            },
            "change_case:capital_word_frequency" => I::CapitalWordFrequency {
                capital_frequency: a.count("capital_frequency")?,
                capital_relation: a.relation("capital_relation")?,
            },
            "change_case:english_capital" => I::EnglishCapital,
            "change_case:english_lowercase" => I::EnglishLowercase,
            "punctuation:no_comma" => I::NoComma,
            "startend:quotation" => I::Quotation,
            _ => return Err(IfevalError::UnknownInstruction { id: id.to_owned() }),
        };
        a.finish()?;
        Ok(ins)
    }
}

impl Instruction {
    /// The dataset's kwargs of this instruction: what [`Instruction::parse`]
    /// reads back into the same instruction.
    pub fn kwargs(&self) -> Map<String, Value> {
        use Instruction as I;
        let relation = |r: &Relation| match r {
            Relation::LessThan => "less than",
            Relation::AtLeast => "at least",
        };
        let v = match self {
            I::KeywordsExistence { keywords } => json!({ "keywords": keywords }),
            I::KeywordsFrequency {
                keyword,
                frequency,
                relation: r,
            } => json!({ "keyword": keyword, "frequency": frequency, "relation": relation(r) }),
            I::ForbiddenWords { forbidden_words } => json!({ "forbidden_words": forbidden_words }),
            I::LetterFrequency {
                letter,
                frequency,
                relation: r,
            } => json!({
                "letter": letter.to_string(),
                "let_frequency": frequency,
                "let_relation": relation(r),
            }),
            I::ResponseLanguage { language } => json!({ "language": language }),
            I::NumberSentences {
                num_sentences,
                relation: r,
            } => json!({ "num_sentences": num_sentences, "relation": relation(r) }),
            I::NumberParagraphs { num_paragraphs } => json!({ "num_paragraphs": num_paragraphs }),
            I::NumberWords {
                num_words,
                relation: r,
            } => json!({ "num_words": num_words, "relation": relation(r) }),
            I::NthParagraphFirstWord {
                num_paragraphs,
                nth_paragraph,
                first_word,
            } => json!({
                "num_paragraphs": num_paragraphs,
                "nth_paragraph": nth_paragraph,
                "first_word": first_word,
            }),
            I::NumberPlaceholders { num_placeholders } => {
                json!({ "num_placeholders": num_placeholders })
            }
            I::Postscript { postscript_marker } => {
                json!({ "postscript_marker": postscript_marker })
            }
            I::NumberBulletLists { num_bullets } => json!({ "num_bullets": num_bullets }),
            I::NumberHighlightedSections { num_highlights } => {
                json!({ "num_highlights": num_highlights })
            }
            I::MultipleSections {
                section_spliter,
                num_sections,
            } => json!({ "section_spliter": section_spliter, "num_sections": num_sections }),
            I::RepeatPrompt { prompt_to_repeat } => json!({ "prompt_to_repeat": prompt_to_repeat }),
            I::EndChecker { end_phrase } => json!({ "end_phrase": end_phrase }),
            I::CapitalWordFrequency {
                capital_frequency,
                capital_relation,
            } => json!({
                "capital_frequency": capital_frequency,
                "capital_relation": relation(capital_relation),
            }),
            I::ConstrainedResponse
            | I::JsonFormat
            | I::Title
            | I::TwoResponses
            | I::EnglishCapital
            | I::EnglishLowercase
            | I::NoComma
            | I::Quotation => json!({}),
        };
        match v {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Checks an instruction that did not come from [`Instruction::parse`]
    /// (one deserialised from a job or a published item) as `parse` would
    /// have: it must be exactly what `parse` makes of its own kwargs.
    pub fn validate(&self) -> Result<(), IfevalError> {
        let again = Instruction::parse(self.id(), &self.kwargs())?;
        if &again == self {
            Ok(())
        } else {
            Err(IfevalError::BadArgument {
                id: self.id().to_owned(),
                field: "kwargs".to_owned(),
                reason: "are not in the form the dataset's parser gives".to_owned(),
            })
        }
    }
}

/// Typed access to one instruction's kwargs, remembering which were read.
struct Args<'a> {
    id: &'a str,
    map: &'a Map<String, Value>,
    used: Vec<&'static str>,
}

impl<'a> Args<'a> {
    fn new(id: &'a str, map: &'a Map<String, Value>) -> Self {
        Self {
            id,
            map,
            used: Vec::new(),
        }
    }

    fn bad(&self, field: &str, reason: &str) -> IfevalError {
        IfevalError::BadArgument {
            id: self.id.to_owned(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }

    fn get(&mut self, field: &'static str) -> Result<&'a Value, IfevalError> {
        self.used.push(field);
        match self.map.get(field) {
            Some(v) if !v.is_null() => Ok(v),
            _ => Err(IfevalError::MissingArgument {
                id: self.id.to_owned(),
                field: field.to_owned(),
            }),
        }
    }

    fn string(&mut self, field: &'static str) -> Result<String, IfevalError> {
        let v = self.get(field)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.bad(field, "must be a string"))
    }

    /// A non-negative integer (an integral float is accepted, as Python compares it).
    fn count(&mut self, field: &'static str) -> Result<usize, IfevalError> {
        let v = self.get(field)?;
        let n = v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        });
        n.and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.bad(field, "must be a non-negative integer"))
    }

    fn relation(&mut self, field: &'static str) -> Result<Relation, IfevalError> {
        match self.string(field)?.as_str() {
            "less than" => Ok(Relation::LessThan),
            "at least" => Ok(Relation::AtLeast),
            _ => Err(self.bad(field, "must be \"less than\" or \"at least\"")),
        }
    }

    fn letter(&mut self, field: &'static str) -> Result<char, IfevalError> {
        let s = self.string(field)?;
        let mut cs = s.trim().chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => {
                let mut lower = c.to_lowercase();
                Ok(match (lower.next(), lower.next()) {
                    (Some(l), None) => l,
                    _ => c,
                })
            }
            _ => Err(self.bad(field, "must be a single character")),
        }
    }

    fn language(&mut self, field: &'static str) -> Result<String, IfevalError> {
        let code = self.string(field)?;
        if LANGUAGE_CODES.iter().any(|&(c, _)| c == code) {
            Ok(code)
        } else {
            Err(self.bad(field, "is not one of IFEval's 30 language codes"))
        }
    }

    fn check_pattern(&self, field: &str, pattern: &str) -> Result<(), IfevalError> {
        // Compiled into the checkers' cache, so checking reuses it.
        super::check::pattern(pattern)
            .map(|_| ())
            .ok_or_else(|| self.bad(field, "is not a valid regular expression"))
    }

    fn pattern(
        &mut self,
        field: &'static str,
        pre: &str,
        post: &str,
    ) -> Result<String, IfevalError> {
        let p = self.string(field)?.trim().to_owned();
        if p.is_empty() {
            return Err(self.bad(field, "must not be empty"));
        }
        self.check_pattern(field, &format!("{pre}{p}{post}"))?;
        Ok(p)
    }

    fn patterns(
        &mut self,
        field: &'static str,
        pre: &str,
        post: &str,
    ) -> Result<Vec<String>, IfevalError> {
        let v = self.get(field)?;
        let list = v
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| self.bad(field, "must be a non-empty list"))?;
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let p = item
                .as_str()
                .ok_or_else(|| self.bad(field, "must hold strings"))?;
            self.check_pattern(field, &format!("{pre}{p}{post}"))?;
            out.push(p.to_owned());
        }
        Ok(out)
    }

    /// Rejects non-null arguments the instruction does not take.
    fn finish(self) -> Result<(), IfevalError> {
        match self
            .map
            .iter()
            .find(|(k, v)| !v.is_null() && !self.used.contains(&k.as_str()))
        {
            Some((k, _)) => Err(IfevalError::UnexpectedArgument {
                id: self.id.to_owned(),
                field: k.clone(),
            }),
            None => Ok(()),
        }
    }
}
