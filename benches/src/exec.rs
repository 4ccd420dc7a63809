//! Running one program and measuring it: wall time, CPU time and peak
//! resident memory from `wait4`, stdout captured for the checksum check,
//! a watchdog that kills a run past its time limit.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// What one finished run measured.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Wall-clock seconds from spawn to exit.
    pub wall: f64,
    /// User plus system CPU seconds of the process (and its threads).
    pub cpu: f64,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
    /// Exit status, or 128 + signal.
    pub status: i32,
    /// Whether the watchdog killed it.
    pub timed_out: bool,
    /// Everything the program wrote to stdout.
    pub stdout: String,
    /// The last part of what it wrote to stderr.
    pub stderr_tail: String,
}

/// Runs `cmd` to completion with stdout and stderr in files under
/// `scratch`, killing it after `limit`.
pub fn run_measured(mut cmd: Command, scratch: &Path, limit: Duration) -> Result<RunResult> {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?);
    let start = Instant::now();
    let child = cmd.spawn().with_context(|| format!("spawning {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            // SAFETY: plain kill(2) of the child we spawned and have not
            // reaped yet, so its pid is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let (raw_status, usage) = wait4(pid)?;
    let wall = start.elapsed().as_secs_f64();
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    Ok(RunResult {
        wall,
        cpu: timeval_secs(usage.ru_utime) + timeval_secs(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
        status: decode_status(raw_status),
        timed_out,
        stdout: read_lossy(&out_path)?,
        stderr_tail: tail(&read_lossy(&err_path)?, 800),
    })
}

/// Waits for `pid` with `wait4`, retrying on EINTR.
fn wait4(pid: libc::pid_t) -> Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid out-pointers for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err).context("wait4");
        }
    }
}

/// Exit code, or 128 + signal number for a fatal signal.
pub fn decode_status(raw: libc::c_int) -> i32 {
    if libc::WIFEXITED(raw) {
        libc::WEXITSTATUS(raw)
    } else if libc::WIFSIGNALED(raw) {
        128 + libc::WTERMSIG(raw)
    } else {
        -1
    }
}

fn timeval_secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 * 1e-6
}

fn read_lossy(p: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    File::open(p)?.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The last `max` bytes of `s` (on a character boundary).
pub fn tail(s: &str, max: usize) -> String {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_process() {
        let dir = std::env::temp_dir().join(format!("vmtrans-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hello; exit 3"]);
        let r = run_measured(cmd, &dir, Duration::from_secs(10)).unwrap();
        assert_eq!(r.stdout, "hello\n");
        assert_eq!(r.status, 3);
        assert!(!r.timed_out);
        assert!(r.max_rss_kib > 0);
        let mut cmd = Command::new("sleep");
        cmd.arg("10");
        let r = run_measured(cmd, &dir, Duration::from_millis(100)).unwrap();
        assert!(r.timed_out);
        assert_eq!(r.status, 128 + libc::SIGKILL);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("abcdef", 2), "ef");
        assert_eq!(tail("ab", 5), "ab");
        assert_eq!(tail("aé", 1), "");
    }
}
