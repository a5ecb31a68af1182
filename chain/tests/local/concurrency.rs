//! Several handles — threads of one process, and other processes — writing one
//! chain file at once, with no busy-database error escaping.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use gauntlet_chain::{Chain, Genesis, LocalChain, SubnetParams};
use gauntlet_constants::{Block, Uid};

use crate::{hotkey, NET};

const PER_WORKER: u16 = 15;

/// Registers, stakes and commits `PER_WORKER` hotkeys of `group` through `chain`.
fn work(chain: &LocalChain, group: u8) {
    for i in 0..PER_WORKER {
        let key = hotkey(group, i);
        chain.register(NET, &key.ss58()).expect("register");
        chain
            .add_stake(NET, &key.ss58(), u64::from(i) + 1)
            .expect("stake");
        chain
            .commit_as(&key.ss58(), NET, &format!("g{group}:{i}"))
            .expect("commit");
        chain.read_metagraph(NET).expect("read");
    }
}

fn setup(dir: &Path) -> (PathBuf, LocalChain) {
    let path = dir.join("shared.db");
    let chain = LocalChain::open_with(&path, &Genesis::manual(Block(0))).expect("open");
    let params = SubnetParams {
        tempo: 3,
        ..SubnetParams::default()
    };
    chain.create_subnet(NET, &params).expect("subnet");
    (path, chain)
}

/// Every hotkey of `groups` is registered once, uids are dense, stakes and
/// commitments all landed.
async fn check(chain: &LocalChain, groups: &[u8]) {
    let m = chain.metagraph(NET).await.expect("metagraph");
    let n = groups.len() * usize::from(PER_WORKER);
    assert_eq!(m.neurons.len(), n);
    let uids: Vec<Uid> = m.neurons.iter().map(|x| x.uid).collect();
    let dense: Vec<Uid> = (0..n as u16).map(Uid).collect();
    assert_eq!(uids, dense);
    let total: u64 = m.neurons.iter().map(|x| x.stake).sum();
    let per_group: u64 = (1..=u64::from(PER_WORKER)).sum();
    assert_eq!(total, per_group * groups.len() as u64);
    assert_eq!(chain.commitments(NET).await.expect("commitments").len(), n);
    for &g in groups {
        for i in 0..PER_WORKER {
            assert!(
                m.by_hotkey(&hotkey(g, i).ss58()).is_some(),
                "group {g} key {i}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_and_many_threads_share_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, a) = setup(dir.path());
    let b = LocalChain::open(&path).expect("second handle");
    let groups: Vec<u8> = (100..106).collect();
    thread::scope(|s| {
        for (k, &g) in groups.iter().enumerate() {
            let handle = if k % 2 == 0 { a.clone() } else { b.clone() };
            s.spawn(move || work(&handle, g));
        }
        // The clock moves meanwhile, so epochs run between the writes.
        let clock = b.clone();
        s.spawn(move || {
            for _ in 0..20 {
                clock.advance(1).expect("advance");
            }
        });
    });
    check(&a, &groups).await;
    assert_eq!(b.current_block().await.expect("block"), Block(20));
    assert_eq!(a.epochs(NET).expect("epochs").len(), 6);
}

/// Child-process side of `other_processes_share_one_file`; does nothing unless
/// started by it.
#[test]
#[ignore = "run by other_processes_share_one_file in a child process"]
fn child_writer() {
    let (Ok(path), Ok(group)) = (
        std::env::var("GAUNTLET_CHILD_CHAIN"),
        std::env::var("GAUNTLET_CHILD_GROUP"),
    ) else {
        return;
    };
    let chain = LocalChain::open(Path::new(&path)).expect("open in child");
    work(&chain, group.parse().expect("group"));
}

#[tokio::test]
async fn other_processes_share_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, chain) = setup(dir.path());
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = [110u8, 111]
        .iter()
        .map(|g| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::child_writer",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env("GAUNTLET_CHILD_CHAIN", &path)
                .env("GAUNTLET_CHILD_GROUP", g.to_string())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    work(&chain, 112);
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "a child failed");
    }
    check(&chain, &[110, 111, 112]).await;
}
