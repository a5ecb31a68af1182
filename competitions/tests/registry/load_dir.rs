//! A competition author adds a competition by adding a file to a directory.

use gauntlet_competitions::{CompetitionError, Registry};
use gauntlet_constants::{Block, CompetitionId};

use crate::validation::{assert_names, GOOD};

#[test]
fn a_new_competition_file_in_a_directory_joins_the_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mine = GOOD
        .replace("id = 7", "id = 42")
        .replace("\"TINY\"", "\"MY_COMPETITION\"");
    std::fs::write(dir.path().join("my_competition.toml"), mine).expect("write");
    // The author copies the builtin schedule and appends an entry.
    let builtin_schedule = include_str!("../../defs/schedule.toml");
    let schedule = format!(
        "{builtin_schedule}\n[[entry]]\nstart_block = 6_000_000\ncompetitions = [\n    \
         {{ competition = \"DISTILLED_REASONING_3B\", reward_share = 0.6, task_set = 1 }},\n    \
         {{ competition = \"my_competition\", reward_share = 0.4, task_set = 1 }},\n]\n"
    );
    std::fs::write(dir.path().join("schedule.toml"), schedule).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");

    let r = Registry::load_dir(dir.path()).expect("loads");
    assert_eq!(r.competitions().len(), 5);
    let mine = r.by_name("MY_COMPETITION").expect("added");
    assert!(mine.source.ends_with("my_competition.toml"));
    assert!(r.competition_at(mine.id, Block(5_999_999)).is_none());
    let active = r
        .competition_at(CompetitionId(42), Block(6_000_000))
        .expect("scheduled");
    assert_eq!(active.reward_share, 0.4);
    assert_eq!(
        r.schedule_at(Block(5_200_000)).start_block,
        Block(5_158_632)
    );
}

#[test]
fn a_directory_without_schedule_keeps_the_builtin_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mine = GOOD.replace("id = 7", "id = 42");
    std::fs::write(dir.path().join("tiny.toml"), mine).expect("write");
    let r = Registry::load_dir(dir.path()).expect("loads");
    assert!(r.get(CompetitionId(42)).is_some());
    assert_eq!(r.schedule().len(), 3);
    assert_eq!(r.schedule_source(), "builtin:schedule.toml");
}

#[test]
fn a_directory_file_colliding_with_a_builtin_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("clash.toml"),
        GOOD.replace("id = 7", "id = 3"),
    )
    .expect("write");
    let msg = Registry::load_dir(dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_names(&msg, &["clash.toml", "`id`", "INSTRUCT_8B"]);
    let missing = Registry::load_dir(&dir.path().join("nope"));
    assert!(matches!(missing, Err(CompetitionError::Io { .. })));
}
