//! Runs the real hybridtls binary as a child and measures it from outside: wall time and peak
//! resident memory (the child's own `ru_maxrss`, from `wait4`), as a user would see them.

use std::ffi::OsStr;
use std::time::Duration;

pub struct Run {
    pub elapsed: Duration,
    /// User and system time of the child: unlike wall time, not inflated by other work on
    /// the machine.
    pub cpu: Duration,
    pub peak_rss_bytes: u64,
    pub success: bool,
}

/// The benches measure with `wait4`, which Windows lacks; they say so instead of measuring
/// something else under the same name.
#[cfg(not(unix))]
pub fn hybridtls<S: AsRef<OsStr>>(_args: &[S], _env: &[(&str, &str)]) -> Run {
    panic!("the benches measure the child's cpu time and peak memory with wait4: run them on Linux")
}

/// `hybridtls ARGS` with stdout and stderr discarded and `env` set.
#[cfg(unix)]
pub fn hybridtls<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Run {
    use std::process::{Command, Stdio};
    use std::time::Instant;
    // std spawns with vfork, and Linux carries the spawning process's peak RSS into the child's
    // ru_maxrss at exec: reset this process's peak to its (small) current size first, so the
    // figure is the child's own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    // Reaped by wait4 below, which std's Child::wait cannot do while returning the rusage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_hybridtls"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run hybridtls");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills; pid is our own child, not yet waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let seconds = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Run {
        elapsed: start.elapsed(),
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

/// The fastest of `runs` (the least disturbed by the rest of the machine), with the highest
/// peak memory seen.
pub fn best(runs: Vec<Run>) -> Run {
    assert!(runs.iter().all(|r| r.success), "hybridtls failed");
    let peak = runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0);
    let fastest = runs.into_iter().min_by_key(|r| r.elapsed).expect("one run");
    Run {
        peak_rss_bytes: peak,
        ..fastest
    }
}

pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

pub fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
