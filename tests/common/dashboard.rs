//! `gauntlet dashboard` as a child process on a free port, for the tests that
//! read it over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The dashboard child, killed when dropped.
pub struct Dashboard {
    child: Child,
    /// Its base URL, without a trailing slash.
    pub base: String,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `gauntlet dashboard --listen 127.0.0.1:0` with `args` and waits
/// until it says where it listens.
pub fn start_dashboard(args: &[&str]) -> Dashboard {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .arg("dashboard")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the dashboard");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the dashboard exited before listening")
            .expect("stderr");
        if let Some(rest) = line.strip_prefix("dashboard on ") {
            break rest
                .split_whitespace()
                .next()
                .expect("an address")
                .trim_end_matches('/')
                .to_string();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Dashboard { child, base }
}
