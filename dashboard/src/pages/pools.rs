//! The funding pools page.

use gauntlet_pools::Tao;
use maud::{html, Markup};

use super::{layout, short_key};
use crate::api::PoolsPage;

/// Renders the pools page.
pub fn pools(p: &PoolsPage, block: u64, fingerprint: &str) -> Markup {
    let body = html! {
        h1 { "Funding pools" }
        @if p.pools.is_empty() {
            p.muted { "No pools. A funder creates one with " code { "gauntlet pool create" } " (docs/POOLS.md)." }
        }
        @for v in &p.pools {
            div.card {
                h2 { "Pool " (v.pool.id) " · competition " a href={ "/competitions/" (v.pool.competition) } { (v.pool.competition) } }
                table {
                    tr { th { "balance" } td.num { (v.balance_tao) " TAO" } }
                    tr { th { "deposited" } td.num { (v.deposited_tao) " TAO" } }
                    tr { th { "rule" } td { (v.pool.rule.name()) } }
                    tr { th { "period" } td { (v.pool.period_blocks) " blocks from block " (v.pool.start_block) } }
                    tr { th { "funder" } td { (short_key(&v.pool.funder)) } }
                    tr { th { "account" } td.mono { (v.account) } }
                    @if !v.entrants.is_empty() {
                        tr { th { "joined" } td { @for e in &v.entrants { (short_key(e)) " " } } }
                    }
                }
                @if !v.payouts.is_empty() {
                    table {
                        tr { th.num { "period" } th.num { "settled at" } th.num { "snapshot" } th { "status" } th { "payments" } }
                        @for x in &v.payouts {
                            tr {
                                td.num { (x.period) }
                                td.num { (x.block) }
                                td.num { (x.snapshot_block) }
                                td { (format!("{:?}", x.status).to_lowercase()) }
                                td {
                                    @for pay in &x.payments {
                                        "#" (pay.rank) " " (short_key(&pay.hotkey)) " " (Tao::from_rao(pay.rao).to_string()) " TAO" br;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Pools", Some(block), fingerprint, body)
}
