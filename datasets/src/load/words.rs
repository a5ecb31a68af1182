//! The word list of the word-sorting task: Debian's `wamerican`
//! (`/usr/share/dict/american-english`, SCOWL, 104,334 entries) reduced to
//! lower-case ASCII alphabetic words of at least [`MIN_WORD_LEN`] letters,
//! de-duplicated and sorted.
//!
//! The reference draws from the 850 words of Ogden's Basic English (NLTK's
//! `en-basic`), lower-cased, length ≥ 3. That list is not in any package
//! registry reachable here, so Gauntlet uses this much larger list: prompts
//! contain rarer words, which makes the task somewhat harder for a model;
//! the rule (n uniform in 2..=20, drawn without replacement, sorted by byte
//! order) is the same. Capitalised entries (proper nouns) and possessives
//! are dropped rather than lower-cased.

use std::path::Path;

use super::jsonl::read_text;
use crate::DatasetError;

/// The shortest word kept (as the reference's `min_word_length`).
pub const MIN_WORD_LEN: usize = 3;

/// Whether a word-list entry is kept.
pub fn keep_word(w: &str) -> bool {
    w.len() >= MIN_WORD_LEN && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// Reads a one-word-per-line list, filtered by [`keep_word`], sorted, unique.
pub fn read_word_list(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = read_text(path)?;
    let mut words: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|w| keep_word(w))
        .map(str::to_string)
        .collect();
    words.sort_unstable();
    words.dedup();
    if words.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn keeps_lower_case_alphabetic_words() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("words");
        std::fs::write(
            &p,
            "Aaron\nzebra\nab\napple's\napple\nzebra\ncafé\n  dog \n",
        )
        .unwrap();
        assert_eq!(read_word_list(&p).unwrap(), ["apple", "dog", "zebra"]);
        std::fs::write(&p, "A\nb\n").unwrap();
        assert!(matches!(
            read_word_list(&p),
            Err(DatasetError::Empty { .. })
        ));
    }
}
