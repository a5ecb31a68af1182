//! The Merkle tree over a round's item hashes, and inclusion proofs.
//!
//! Construction (also in `docs/LEDGER.md`): the leaves are the item hashes in the round's
//! order; a leaf node is `sha256(0x00 ‖ item_hash)`; an inner node is
//! `sha256(0x01 ‖ left ‖ right)`; at each level, nodes pair left to right and a last node
//! without a partner is promoted unchanged to the next level. The root of one item is its leaf
//! node; the root of no items is `sha256("")`. The domain bytes keep a leaf from ever being
//! mistaken for an inner node.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// The leaf node of an item hash: `sha256(0x00 ‖ item_hash)`.
pub fn leaf(item_hash: &Digest) -> Digest {
    Digest::of_parts(&[&[0x00], &item_hash.0])
}

/// An inner node: `sha256(0x01 ‖ left ‖ right)`.
pub fn node(left: &Digest, right: &Digest) -> Digest {
    Digest::of_parts(&[&[0x01], &left.0, &right.0])
}

/// The Merkle root of `item_hashes`, in order.
pub fn root(item_hashes: &[Digest]) -> Digest {
    if item_hashes.is_empty() {
        return Digest::of(b"");
    }
    let mut level: Vec<Digest> = item_hashes.iter().map(leaf).collect();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

fn next_level(level: &[Digest]) -> Vec<Digest> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node(l, r),
            [only] => *only,
            _ => unreachable!("chunks(2) yields one or two"),
        })
        .collect()
}

/// Which side a proof step's sibling is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The sibling is the left child: `node(sibling, current)`.
    Left,
    /// The sibling is the right child: `node(current, sibling)`.
    Right,
}

/// One step of an inclusion proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    /// The sibling node.
    pub sibling: Digest,
    /// Its side.
    pub side: Side,
}

/// That the item at `index` is in the tree: the siblings from its leaf up to the root
/// (levels where the node was promoted have no step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The item's position among the round's items.
    pub index: usize,
    /// The steps, leaf first.
    pub steps: Vec<ProofStep>,
}

impl InclusionProof {
    /// The root this proof leads to from `item_hash`.
    pub fn root_from(&self, item_hash: &Digest) -> Digest {
        self.steps
            .iter()
            .fold(leaf(item_hash), |acc, step| match step.side {
                Side::Left => node(&step.sibling, &acc),
                Side::Right => node(&acc, &step.sibling),
            })
    }

    /// Whether `item_hash` is in the tree of `root` by this proof.
    pub fn verify(&self, item_hash: &Digest, root: &Digest) -> bool {
        self.root_from(item_hash) == *root
    }
}

/// The inclusion proof of the item at `index`, or `None` when there is no such item.
pub fn prove(item_hashes: &[Digest], index: usize) -> Option<InclusionProof> {
    if index >= item_hashes.len() {
        return None;
    }
    let mut level: Vec<Digest> = item_hashes.iter().map(leaf).collect();
    let mut at = index;
    let mut steps = Vec::new();
    while level.len() > 1 {
        let sibling = at ^ 1;
        if let Some(s) = level.get(sibling) {
            let side = if sibling < at {
                Side::Left
            } else {
                Side::Right
            };
            steps.push(ProofStep { sibling: *s, side });
        }
        level = next_level(&level);
        at /= 2;
    }
    Some(InclusionProof { index, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Digest> {
        (0..n).map(|i| Digest::of(&i.to_le_bytes())).collect()
    }

    #[test]
    fn small_trees_follow_the_stated_construction() {
        let h = items(3);
        assert_eq!(root(&[]), Digest::of(b""));
        assert_eq!(root(&h[..1]), leaf(&h[0]));
        assert_eq!(root(&h[..2]), node(&leaf(&h[0]), &leaf(&h[1])));
        // The third leaf is promoted, then paired with the first pair's node.
        assert_eq!(
            root(&h),
            node(&node(&leaf(&h[0]), &leaf(&h[1])), &leaf(&h[2]))
        );
    }

    #[test]
    fn every_proof_verifies_and_no_other_item_does() {
        for n in 1..=17 {
            let h = items(n);
            let r = root(&h);
            for i in 0..n {
                let p = prove(&h, i).expect("in range");
                assert!(p.verify(&h[i], &r), "n={n} i={i}");
                let other = Digest::of(b"not an item");
                assert!(!p.verify(&other, &r));
            }
            assert!(prove(&h, n).is_none());
        }
    }

    #[test]
    fn order_matters() {
        let mut h = items(4);
        let r = root(&h);
        h.swap(1, 2);
        assert_ne!(root(&h), r);
    }
}
