//! The payout of one period, as a pure function of the leaderboard and the
//! pool's balance.

use gauntlet_evals::weights::arithmetic_decrease;
use serde::{Deserialize, Serialize};

/// How a pool splits its funds over the ranked entrants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// K = min(n, 10); rank r gets funds·(K+1−r)/(K(K+1)/2), the integer
    /// remainder to rank 1 (REFERENCE.md §6).
    ArithmeticDecrease,
}

impl Rule {
    /// The rule's name on the command line and in the pools file.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ArithmeticDecrease => "arithmetic-decrease",
        }
    }

    /// Parses [`Rule::name`].
    pub fn parse(name: &str) -> Option<Rule> {
        match name {
            "arithmetic-decrease" => Some(Rule::ArithmeticDecrease),
            _ => None,
        }
    }
}

/// One model's place on a leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// The model's hotkey (SS58): where its share is paid.
    pub hotkey: String,
    /// Its uid.
    pub uid: u16,
    /// Its rank (1 = best); `None` when it is not ranked (disqualified, a
    /// copy, failed).
    pub rank: Option<u32>,
}

/// A competition's leaderboard as taken at `block`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standings {
    /// The block the snapshot was taken at.
    pub block: u64,
    /// The models.
    pub rows: Vec<Standing>,
}

/// One transfer of a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The model's rank among the entrants (1 = best).
    pub rank: u32,
    /// Its hotkey, the receiving account.
    pub hotkey: String,
    /// The amount, in rao.
    pub rao: u64,
}

/// The payments of `funds` rao over the ranked standings (restricted to
/// `entrants` when given) by `rule`: unranked models get nothing, ranks are
/// renumbered among the entrants in leaderboard order, payments of 0 are
/// left out, and the payments sum to exactly `funds` unless nobody is
/// ranked (then nothing is paid).
pub fn plan_payout(
    standings: &Standings,
    entrants: Option<&[String]>,
    funds: u64,
    rule: Rule,
) -> Vec<Payment> {
    let mut ranked: Vec<&Standing> = standings
        .rows
        .iter()
        .filter(|s| s.rank.is_some())
        .filter(|s| entrants.is_none_or(|e| e.contains(&s.hotkey)))
        .collect();
    ranked.sort_by_key(|s| (s.rank, s.uid));
    // One payment per hotkey: a hotkey listed twice keeps its best place.
    let mut seen = std::collections::HashSet::new();
    ranked.retain(|s| seen.insert(s.hotkey.as_str()));
    let amounts = match rule {
        Rule::ArithmeticDecrease => arithmetic_decrease(funds, ranked.len()),
    };
    ranked
        .iter()
        .zip(amounts)
        .enumerate()
        .filter(|(_, (_, rao))| *rao > 0)
        .map(|(i, (s, rao))| Payment {
            rank: i as u32 + 1,
            hotkey: s.hotkey.clone(),
            rao,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn board(ranks: &[Option<u32>]) -> Standings {
        Standings {
            block: 10,
            rows: ranks
                .iter()
                .enumerate()
                .map(|(i, &rank)| Standing {
                    hotkey: format!("h{i}"),
                    uid: i as u16,
                    rank,
                })
                .collect(),
        }
    }

    #[test]
    fn pays_by_rank_and_nothing_to_the_unranked() {
        let b = board(&[Some(2), None, Some(1), Some(3)]);
        let p = plan_payout(&b, None, 600, Rule::ArithmeticDecrease);
        let got: Vec<(u32, &str, u64)> = p
            .iter()
            .map(|x| (x.rank, x.hotkey.as_str(), x.rao))
            .collect();
        assert_eq!(got, vec![(1, "h2", 300), (2, "h0", 200), (3, "h3", 100)]);
        // Only those who joined, ranks renumbered among them.
        let joined = vec!["h3".to_string(), "h0".to_string()];
        let p = plan_payout(&b, Some(&joined), 600, Rule::ArithmeticDecrease);
        let got: Vec<(u32, &str, u64)> = p
            .iter()
            .map(|x| (x.rank, x.hotkey.as_str(), x.rao))
            .collect();
        assert_eq!(got, vec![(1, "h0", 400), (2, "h3", 200)]);
        assert!(plan_payout(&board(&[None, None]), None, 600, Rule::ArithmeticDecrease).is_empty());
    }

    proptest! {
        /// n = 0…25 entrants, any funds: the payments sum to exactly the
        /// funds (or nothing without entrants), never increase with rank, go
        /// to at most 10 models, and never to an unranked one.
        #[test]
        fn payouts_sum_exactly_in_rank_order(
            ranks in proptest::collection::vec(proptest::option::weighted(0.8, 1u32..100), 0..=25),
            funds in 1u64..=u64::MAX / 2,
        ) {
            // Distinct ranks in leaderboard order.
            let mut next = 0;
            let ranks: Vec<Option<u32>> = ranks.iter().map(|r| r.map(|_| { next += 1; next })).collect();
            let b = board(&ranks);
            let p = plan_payout(&b, None, funds, Rule::ArithmeticDecrease);
            let ranked = ranks.iter().filter(|r| r.is_some()).count();
            if ranked == 0 {
                prop_assert!(p.is_empty());
            } else {
                prop_assert_eq!(p.iter().map(|x| x.rao as u128).sum::<u128>(), funds as u128);
                prop_assert!(p.len() <= 10.min(ranked));
            }
            for w in p.windows(2) {
                prop_assert!(w[0].rank < w[1].rank && w[0].rao >= w[1].rao);
            }
            for x in &p {
                let row = b.rows.iter().find(|r| r.hotkey == x.hotkey).expect("row");
                prop_assert!(row.rank.is_some());
            }
        }
    }
}
