//! The validator's side of the sandbox: run one [`Job`] in a child process
//! of the `gauntlet` binary under an address-space limit and a wall-clock
//! deadline, and turn however it ends into an outcome.
//!
//! The child gets its own process group, no core dumps, and dies with the
//! thread that started it (`PR_SET_PDEATHSIG`), so a validator killed with
//! SIGKILL leaves no evaluation running. How it ended:
//!
//! | end | before the checks passed | after |
//! |---|---|---|
//! | a `done` line | its outcome | its outcome |
//! | deadline passed (killed) | `timed_out` | `timed_out` |
//! | allocation failed (marker file) or SIGKILL from outside | `out_of_memory` | validator's fault |
//! | any other exit or signal | `crashed` | `crashed` |

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::job::{ChildLine, ChildOutcome, Job};
use super::oom;
use crate::fault::Fault;
use crate::verdict::Verdict;

/// Bytes of the child's stdout read at most: per-sample scores and outputs
/// (DISTILLED_REASONING_3B's 240 references of up to 16,384 tokens are at
/// most 3.9 M losses, some 45 MB at about 11 bytes an f32 in JSON).
const MAX_STDOUT_BYTES: u64 = 256 << 20;
/// Characters of the child's stderr kept to explain a crash.
const STDERR_TAIL_CHARS: usize = 600;
/// How often the parent looks at the child while waiting.
const POLL: Duration = Duration::from_millis(25);

/// Where and how sandboxed children run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSandbox {
    /// The `gauntlet` executable (it runs `validator evaluate-one --job FILE`).
    pub exe: PathBuf,
    /// The child's address-space limit (`RLIMIT_AS`) in bytes; `None`: none
    /// (needed on CUDA, whose driver reserves huge virtual ranges).
    pub memory_bytes: Option<u64>,
    /// Extra leading arguments before `validator evaluate-one` (tests).
    pub args: Vec<String>,
}

impl ProcessSandbox {
    /// Children of `exe` limited to `memory_bytes` of address space.
    pub fn new(exe: impl Into<PathBuf>, memory_bytes: Option<u64>) -> Self {
        ProcessSandbox {
            exe: exe.into(),
            memory_bytes,
            args: Vec::new(),
        }
    }

    /// Runs `job` in a child, killing it after `deadline`; `gpu` pins it to
    /// one CUDA device (`CUDA_VISIBLE_DEVICES`).
    pub fn run(&self, job: &Job, deadline: Duration, gpu: Option<u32>) -> ChildOutcome {
        let scratch = match Scratch::new() {
            Ok(s) => s,
            Err(e) => return fault(format!("cannot create a scratch directory: {e}")),
        };
        let marker = scratch.0.join("oom");
        let job_path = scratch.0.join("job.json");
        let mut job = job.clone();
        job.oom_marker = Some(marker.clone());
        let written = serde_json::to_vec(&job)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&job_path, bytes));
        if let Err(e) = written {
            return fault(format!("cannot write {}: {e}", job_path.display()));
        }
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.args)
            .args(["validator", "evaluate-one", "--job"])
            .arg(&job_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(g) = gpu {
            cmd.env("CUDA_VISIBLE_DEVICES", g.to_string());
        }
        limit(&mut cmd, self.memory_bytes);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return fault(format!("cannot start {}: {e}", self.exe.display())),
        };
        let ended = watch(child, deadline);
        classify(ended, oom::reported(&marker), self.memory_bytes, deadline)
    }
}

fn fault(why: String) -> ChildOutcome {
    ChildOutcome::Fault {
        fault: Fault::Sandbox(why),
    }
}

/// A private directory for one child's job and marker, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Self> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gauntlet-sandbox-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sets the child's limits between fork and exec.
fn limit(cmd: &mut Command, memory_bytes: Option<u64>) {
    // SAFETY: getpid is async-signal-safe.
    let parent = unsafe { libc::getpid() };
    let pre_exec = move || -> std::io::Result<()> {
        // SAFETY: only async-signal-safe calls (prctl, getppid, setrlimit,
        // _exit) between fork and exec, on values copied into the closure.
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died between fork and prctl: nobody waits for us.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &none) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(bytes) = memory_bytes {
                let cap = libc::rlimit {
                    rlim_cur: bytes as libc::rlim_t,
                    rlim_max: bytes as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &cap) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
        }
        Ok(())
    };
    // SAFETY: the closure is async-signal-safe (see above).
    unsafe {
        cmd.pre_exec(pre_exec);
    }
}

/// What the parent saw of a child.
struct Ended {
    status: Option<ExitStatus>,
    timed_out: bool,
    checked: bool,
    done: Option<ChildOutcome>,
    stdout_error: Option<String>,
    stderr_tail: String,
}

/// Reads the child's output and waits for it, killing its process group at
/// the deadline.
fn watch(mut child: Child, deadline: Duration) -> Ended {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out = std::thread::spawn(move || read_lines(stdout));
    let err = std::thread::spawn(move || tail_stderr(stderr));
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= deadline => {
                timed_out = true;
                kill_group(&child);
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => {
                kill_group(&child);
                break child.wait().ok();
            }
        }
    };
    let (checked, done, stdout_error) =
        out.join()
            .unwrap_or((false, None, Some("the stdout reader panicked".into())));
    let stderr_tail = err.join().unwrap_or_default();
    Ended {
        status,
        timed_out,
        checked,
        done,
        stdout_error,
        stderr_tail,
    }
}

/// SIGKILL to the child's process group (it leads it: `process_group(0)`).
fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on a process group this process created.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The `checked` flag and `done` outcome from the child's stdout.
fn read_lines(
    stdout: Option<std::process::ChildStdout>,
) -> (bool, Option<ChildOutcome>, Option<String>) {
    let Some(stdout) = stdout else {
        return (false, None, Some("no stdout".into()));
    };
    let mut checked = false;
    let mut done = None;
    let mut error = None;
    let reader = BufReader::new(stdout.take(MAX_STDOUT_BYTES));
    for line in reader.lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        };
        match serde_json::from_str::<ChildLine>(&line) {
            Ok(ChildLine::Checked) => checked = true,
            Ok(ChildLine::Done { outcome }) => done = Some(outcome),
            Err(e) => error = Some(format!("unreadable line from the child: {e}")),
        }
    }
    (checked, done, error)
}

/// Copies the child's stderr to ours (its logs), keeping the tail.
fn tail_stderr(stderr: Option<std::process::ChildStderr>) -> String {
    let Some(mut stderr) = stderr else {
        return String::new();
    };
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    let mut ours = std::io::stderr();
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = ours.write_all(&buf[..n]);
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 4 * STDERR_TAIL_CHARS {
                    tail.drain(..tail.len() - 2 * STDERR_TAIL_CHARS);
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&tail);
    let chars: Vec<char> = text.trim().chars().collect();
    chars[chars.len().saturating_sub(STDERR_TAIL_CHARS)..]
        .iter()
        .collect()
}

/// Turns how the child ended into an outcome (see the module's table).
fn classify(e: Ended, oom: bool, memory: Option<u64>, deadline: Duration) -> ChildOutcome {
    if e.timed_out {
        return ChildOutcome::Rejected {
            verdict: Verdict::TimedOut {
                seconds: deadline.as_secs(),
            },
        };
    }
    let status = e.status;
    if let (Some(done), Some(s)) = (e.done.clone(), status) {
        if s.success() {
            return done;
        }
    }
    let limit = memory.map_or("no limit".to_string(), |b| {
        format!("a limit of {} MiB", b >> 20)
    });
    let killed_from_outside = status.and_then(|s| s.signal()) == Some(libc::SIGKILL);
    if oom || killed_from_outside {
        let how = if oom {
            "an allocation failed"
        } else {
            "killed by SIGKILL (the kernel's out-of-memory killer?)"
        };
        let reason = format!("{how} with {limit} of address space");
        return if e.checked {
            ChildOutcome::Fault {
                fault: Fault::OutOfMemory(reason),
            }
        } else {
            ChildOutcome::Rejected {
                verdict: Verdict::OutOfMemory { reason },
            }
        };
    }
    let how = match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (_, Some(sig)) => format!("killed by signal {sig}"),
            _ => "ended".to_string(),
        },
        None => "could not be waited for".to_string(),
    };
    if let Some(why) = &e.stdout_error {
        if status.is_some_and(|s| s.success()) {
            return fault(format!(
                "the child {how} but its report is unreadable: {why}"
            ));
        }
    }
    let mut reason = format!("the evaluating process {how}");
    if !e.stderr_tail.is_empty() {
        reason.push_str(": …");
        reason.push_str(&e.stderr_tail);
    }
    ChildOutcome::Rejected {
        verdict: Verdict::Crashed { reason },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// A sandbox whose "gauntlet" is `sh -c SCRIPT` (the job arguments land
    /// in `$0…`, ignored).
    fn shell(script: &str, memory: Option<u64>) -> ProcessSandbox {
        ProcessSandbox {
            exe: "/bin/sh".into(),
            memory_bytes: memory,
            args: vec!["-c".into(), script.into()],
        }
    }

    fn job() -> Job {
        Job {
            model_dir: "/nonexistent".into(),
            tokenizer_dir: None,
            definitions: gauntlet_competitions::Registry::builtin()
                .unwrap()
                .definitions()
                .clone(),
            competition: 3,
            block: 0,
            seed: "00".repeat(32),
            sample_cap: None,
            data_root: "/nonexistent".into(),
            device: "cpu".into(),
            precision: None,
            oom_marker: None,
            only: None,
            private: Default::default(),
            early_stop: None,
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_done_line_is_the_outcome() {
        let sb = shell(
            r#"echo '{"line":"checked"}'; echo '{"line":"done","outcome":{"outcome":"rejected","verdict":{"kind":"disqualified","reason":"x"}}}'"#,
            None,
        );
        let out = sb.run(&job(), 10 * SECOND, None);
        assert_eq!(
            out,
            ChildOutcome::Rejected {
                verdict: Verdict::Disqualified { reason: "x".into() }
            }
        );
    }

    #[test]
    fn a_signal_is_a_crash_with_the_stderr_tail() {
        let sb = shell("echo 'about to die' >&2; kill -SEGV $$", None);
        match sb.run(&job(), 10 * SECOND, None) {
            ChildOutcome::Rejected {
                verdict: Verdict::Crashed { reason },
            } => {
                assert!(reason.contains("signal 11"), "{reason}");
                assert!(reason.contains("about to die"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_deadline_kills_the_whole_group() {
        let start = Instant::now();
        let sb = shell("sleep 30 & sleep 30", None);
        let out = sb.run(&job(), SECOND, None);
        assert_eq!(
            out,
            ChildOutcome::Rejected {
                verdict: Verdict::TimedOut { seconds: 1 }
            }
        );
        // The backgrounded sleep held stderr open: it was killed too, or
        // the reader would still be waiting.
        assert!(start.elapsed() < 10 * SECOND);
    }

    #[test]
    fn running_out_of_memory_before_or_after_the_checks() {
        // The marker path is the job's `oom_marker`: the script finds it in
        // the job file and writes it, as the allocator would.
        let write_marker =
            r#"m=$(sed 's/.*"oom_marker":"\([^"]*\)".*/\1/' "$3"); echo oom > "$m";"#;
        let before = shell(&format!("{write_marker} kill -ABRT $$"), Some(1 << 30));
        match before.run(&job(), 10 * SECOND, None) {
            ChildOutcome::Rejected {
                verdict: Verdict::OutOfMemory { reason },
            } => assert!(reason.contains("1024 MiB"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let after = shell(
            &format!(r#"echo '{{"line":"checked"}}'; {write_marker} kill -ABRT $$"#),
            None,
        );
        assert!(matches!(
            after.run(&job(), 10 * SECOND, None),
            ChildOutcome::Fault {
                fault: Fault::OutOfMemory(_)
            }
        ));
    }

    #[test]
    fn the_address_space_limit_applies_to_the_child() {
        // 64 MiB of address space is too little for `sh` to run `dd` with a
        // 256 MiB buffer.
        let sb = shell(
            "dd if=/dev/zero of=/dev/null bs=256M count=1 2>&1 || exit 42",
            Some(64 << 20),
        );
        match sb.run(&job(), 10 * SECOND, None) {
            ChildOutcome::Rejected {
                verdict: Verdict::Crashed { reason },
            } => assert!(
                reason.contains("42") || reason.contains("memory"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_executable_is_the_validators_fault() {
        let sb = ProcessSandbox::new("/nonexistent/gauntlet", None);
        assert!(matches!(
            sb.run(&job(), SECOND, None),
            ChildOutcome::Fault {
                fault: Fault::Sandbox(_)
            }
        ));
    }
}
