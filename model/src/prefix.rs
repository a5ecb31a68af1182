//! Prompt prefixes shared by a whole batch.
//!
//! The prompts of one task batch often start with the same tokens — a chat
//! template's system turn, a task's instruction. The runtime computes such a
//! prefix once ([`crate::decoder::Decoder::prefill_prefix`]) and runs only the
//! rest of each sequence against it.

/// Shortest common prefix worth computing once.
pub const MIN_SHARED_PREFIX: usize = 8;

/// Length of the prefix that every sequence starts with, at most each
/// sequence's own limit (the positions it needs no hidden state of); 0 for
/// fewer than two sequences or a prefix shorter than [`MIN_SHARED_PREFIX`].
pub fn shared_prefix_len<'a>(seqs: impl IntoIterator<Item = (&'a [u32], usize)>) -> usize {
    let mut seqs = seqs.into_iter();
    let Some((first, first_limit)) = seqs.next() else {
        return 0;
    };
    let mut len = first_limit.min(first.len());
    let mut count = 1;
    for (s, limit) in seqs {
        let common = first.iter().zip(s).take_while(|(a, b)| a == b).count();
        len = len.min(common).min(limit);
        count += 1;
    }
    if count < 2 || len < MIN_SHARED_PREFIX {
        0
    } else {
        len
    }
}

/// [`shared_prefix_len`] for prompts that each keep at least their last token
/// (whose hidden state gives the next-token logits).
pub fn shared_prompt_prefix(prompts: &[Vec<u32>]) -> usize {
    shared_prefix_len(
        prompts
            .iter()
            .map(|p| (p.as_slice(), p.len().saturating_sub(1))),
    )
}
