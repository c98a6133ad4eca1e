//! The text plan in a real terminal: tmux runs `hybridtls plan` in a window of a fixed width,
//! and no line of what it shows is wider than the window, while every word of the piped output
//! is still there. Piped, the plan is not folded (the goldens of tests/examples.rs hold it).
//! Without tmux this test says SKIPPED and passes, unless `HYBRIDTLS_REQUIRE_TOOLS` is set (as
//! `.ci/run` sets it), where a missing tmux fails the run (tests/support/tools.rs).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

mod support;

const WIDTH: usize = 72;
const DONE: &str = "__hybridtls_done__";

fn tmux_found() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        support::tools::missing(
            "the text plan in a terminal: no tmux on PATH",
            "apt-get install tmux",
        );
    }
    found
}

/// Runs `tmux` on the test's own server (`socket`), so that nothing else's sessions are touched.
fn tmux(socket: &Path, args: &[&str]) -> String {
    let output = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Ends the test's tmux server however the test ends.
struct Server<'a>(&'a Path);

impl Drop for Server<'_> {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.0)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn the_text_plan_folds_to_the_width_of_the_terminal() {
    if !tmux_found() {
        return;
    }
    let example = "examples/seed000-null-tlscertname";
    let piped = Command::new(cargo_bin("hybridtls"))
        .args(["plan", "--now", "2026-11-24T00:00:00Z", example])
        .output()
        .unwrap();
    let piped = String::from_utf8(piped.stdout).unwrap();
    assert!(
        piped.lines().any(|line| line.chars().count() > WIDTH),
        "nothing to fold"
    );

    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tmux.sock");
    let command = format!(
        "{} plan --now 2026-11-24T00:00:00Z {example}; echo {DONE}; sleep 60",
        cargo_bin("hybridtls").display()
    );
    let _server = Server(&socket);
    tmux(
        &socket,
        &[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &WIDTH.to_string(),
            "-y",
            "40",
            "-c",
            env!("CARGO_MANIFEST_DIR"),
            &command,
        ],
    );
    // The whole history, with the lines the terminal itself wrapped joined again (-J), so that
    // a line the plan did not fold shows as wider than the window.
    let started = Instant::now();
    let shown = loop {
        let shown = tmux(&socket, &["capture-pane", "-p", "-J", "-S", "-"]);
        if shown.contains(DONE) {
            break shown;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the plan did not finish: {shown}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let shown = &shown[..shown.find(DONE).unwrap()];
    let shown = &shown[shown.find("hybridtls plan, evaluated at").expect(shown)..];
    for line in shown.lines() {
        assert!(
            line.trim_end().chars().count() <= WIDTH,
            "wider than {WIDTH} columns: {line:?}\n{shown}"
        );
    }
    let words = |text: &str| text.split_whitespace().collect::<String>();
    assert_eq!(words(shown), words(&piped), "folding lost or changed text");
    // Four columns of indent and `evidence: `: a folded evidence line hangs under its value.
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with(&" ".repeat(14)) && !l.starts_with(&" ".repeat(15))),
        "no evidence line hangs under its value:\n{shown}"
    );
}
