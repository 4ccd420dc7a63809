//! The cross-arch conformance runner.
//!
//! Every program of `guests/manifest.txt` × guest ISA × mode (JIT through
//! `vmtrans run`, AOT through `vmtrans translate` and the native
//! executable) runs in a fresh directory with the manifest's arguments and a
//! clean environment, exactly as `record-expected.sh` ran the reference
//! (qemu-user for riscv64 and aarch64, the host for x86_64). Stdout, stderr,
//! exit status and the files the manifest names must match the recorded
//! references. A guest ISA without a frontend, or a mode the CLI does not
//! offer yet, is reported as unsupported, never as passed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vmtrans_abi::Arch;

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Program name (fixture `<name>-O0`/`-O2`).
    pub name: String,
    /// Arguments after argv[0].
    pub args: Vec<String>,
    /// Extra environment `VAR=value`.
    pub env: Vec<String>,
    /// Files and directories the program leaves behind, compared too.
    pub files: Vec<String>,
    /// Seconds one reference run may take.
    pub timeout: u64,
    /// Guest ISAs it is built for.
    pub arches: Vec<Arch>,
}

/// Parses `guests/manifest.txt`.
pub fn parse_manifest(text: &str) -> Result<Vec<Program>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| parse_line(l).map_err(|e| format!("manifest line {}: {e}", n + 1)))
        .collect()
}

fn parse_line(line: &str) -> Result<Program, String> {
    let mut fields = line.split('|');
    let mut words = fields.next().unwrap_or("").split_whitespace();
    let name = words.next().ok_or("no program name")?.to_string();
    let mut p = Program {
        name,
        args: words.map(str::to_string).collect(),
        env: Vec::new(),
        files: Vec::new(),
        timeout: 10,
        arches: Arch::ALL.to_vec(),
    };
    for field in fields.map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| format!("bad field {field:?}"))?;
        let list = || value.split(',').map(str::to_string).collect::<Vec<_>>();
        match key {
            "env" => p.env = list(),
            "files" => p.files = list(),
            "timeout" => {
                p.timeout = value
                    .parse()
                    .map_err(|_| format!("bad timeout {value:?}"))?
            }
            "arches" => {
                p.arches = list()
                    .iter()
                    .map(|a| Arch::from_name(a).ok_or_else(|| format!("unknown arch {a:?}")))
                    .collect::<Result<_, _>>()?
            }
            "commit-O0" | "ref-from" => {}
            other => return Err(format!("unknown key {other:?}")),
        }
    }
    Ok(p)
}

/// How a guest program is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// `vmtrans run`.
    Jit,
    /// `vmtrans translate`, then the native executable.
    Aot,
}

impl Mode {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Jit => "jit",
            Mode::Aot => "aot",
        }
    }
}

/// The result of one program × guest × mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Output, status and files match the reference.
    Passed,
    /// The first difference.
    Failed(String),
    /// Not run, and why.
    Unsupported(String),
    /// Failed, and listed in `guests/known-failures.txt` with this reason.
    Known(String),
}

/// What to run.
pub struct SuiteConfig {
    /// The `vmtrans` executable.
    pub vmtrans: PathBuf,
    /// `testsuite/` (manifest, references).
    pub suite: PathBuf,
    /// Directory with `<arch>/<prog>-<opt>` fixtures.
    pub fixtures: PathBuf,
    /// Multiplies every manifest timeout (translation adds time).
    pub timeout_scale: u64,
    /// Parallel runs.
    pub jobs: usize,
    /// Only programs whose name contains this.
    pub filter: Option<String>,
    /// Only these guest ISAs (all when empty).
    pub arches: Vec<Arch>,
}

/// One row of the result.
#[derive(Clone, Debug)]
pub struct Case {
    /// Guest ISA.
    pub arch: Arch,
    /// Mode.
    pub mode: Mode,
    /// `<prog>-<opt>`.
    pub fixture: String,
    /// Outcome.
    pub verdict: Verdict,
    /// Wall time of the run.
    pub time: Duration,
}

/// Runs the whole suite.
pub fn run_suite(cfg: &SuiteConfig) -> Result<Vec<Case>, String> {
    let manifest = std::fs::read_to_string(cfg.suite.join("guests/manifest.txt"))
        .map_err(|e| e.to_string())?;
    let programs = parse_manifest(&manifest)?;
    let aot = aot_supported(&cfg.vmtrans);
    let mut jobs = Vec::new();
    for p in programs.iter().filter(|p| {
        cfg.filter
            .as_ref()
            .is_none_or(|f| p.name.contains(f.as_str()))
    }) {
        for &arch in p
            .arches
            .iter()
            .filter(|a| cfg.arches.is_empty() || cfg.arches.contains(a))
        {
            for opt in ["O0", "O2"] {
                let fixture = format!("{}-{opt}", p.name);
                if !cfg
                    .suite
                    .join("expected")
                    .join(arch.name())
                    .join(format!("{fixture}.status"))
                    .exists()
                {
                    continue;
                }
                for mode in [Mode::Jit, Mode::Aot] {
                    jobs.push((p, arch, mode, fixture.clone()));
                }
            }
        }
    }
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((p, arch, mode, fixture)) = jobs.get(i) else {
                    break;
                };
                let start = Instant::now();
                let verdict = run_case(cfg, p, *arch, *mode, fixture, aot);
                let case = Case {
                    arch: *arch,
                    mode: *mode,
                    fixture: fixture.clone(),
                    verdict,
                    time: start.elapsed(),
                };
                results.lock().expect("results").push(case);
            });
        }
    });
    let known = known_failures(&cfg.suite)?;
    let mut cases = results
        .into_inner()
        .map_err(|_| "a runner thread panicked")?;
    for c in &mut cases {
        if let Verdict::Failed(_) = c.verdict {
            let key = |mode: &str| {
                (
                    c.arch.name().to_string(),
                    c.fixture.clone(),
                    mode.to_string(),
                )
            };
            let reason = known
                .get(&key(c.mode.name()))
                .or_else(|| known.get(&key("*")));
            if let Some(reason) = reason {
                c.verdict = Verdict::Known(reason.clone());
            }
        }
    }
    cases.sort_by(|a, b| {
        (a.arch.name(), a.mode, &a.fixture).cmp(&(b.arch.name(), b.mode, &b.fixture))
    });
    Ok(cases)
}

/// `guests/known-failures.txt`: (arch, fixture, mode or `*`) → reason.
fn known_failures(suite: &Path) -> Result<BTreeMap<(String, String, String), String>, String> {
    let text = std::fs::read_to_string(suite.join("guests/known-failures.txt")).unwrap_or_default();
    let mut map = BTreeMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (head, reason) = line
            .split_once(':')
            .ok_or_else(|| format!("known-failures.txt: no reason in {line:?}"))?;
        let f: Vec<&str> = head.split_whitespace().collect();
        let [arch, fixture, mode] = f.as_slice() else {
            return Err(format!(
                "known-failures.txt: expected `arch fixture mode: reason`, got {line:?}"
            ));
        };
        map.insert(
            (arch.to_string(), fixture.to_string(), mode.to_string()),
            reason.trim().to_string(),
        );
    }
    Ok(map)
}

fn aot_supported(vmtrans: &Path) -> bool {
    Command::new(vmtrans)
        .args(["translate", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_case(
    cfg: &SuiteConfig,
    p: &Program,
    arch: Arch,
    mode: Mode,
    fixture: &str,
    aot: bool,
) -> Verdict {
    if let Err(why) = vmtrans_translator::lifter_for(arch) {
        return Verdict::Unsupported(why);
    }
    if mode == Mode::Aot && !aot {
        return Verdict::Unsupported("vmtrans translate is not available yet".into());
    }
    let guest = cfg.fixtures.join(arch.name()).join(fixture);
    if !guest.exists() {
        return Verdict::Unsupported(format!(
            "fixture {} is not built (make -C testsuite fixtures)",
            guest.display()
        ));
    }
    match execute(cfg, p, &guest, mode) {
        Ok(actual) => compare(
            &cfg.suite.join("expected").join(arch.name()),
            fixture,
            p,
            &actual,
        ),
        Err(e) => Verdict::Failed(e),
    }
}

/// What a run produced.
struct Actual {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: String,
    dir: tempdir::Dir,
    /// Directories that must live as long as the run (the AOT executable).
    _keep: Option<tempdir::Dir>,
}

mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A directory removed when dropped.
    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> std::io::Result<Dir> {
            static N: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "vmtrans-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path)?;
            Ok(Dir(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn execute(cfg: &SuiteConfig, p: &Program, guest: &Path, mode: Mode) -> Result<Actual, String> {
    let dir = tempdir::Dir::new("run").map_err(|e| e.to_string())?;
    let mut keep = None;
    let mut cmd = match mode {
        Mode::Jit => {
            let mut c = Command::new(&cfg.vmtrans);
            c.arg("run").arg("--").arg(guest);
            c
        }
        Mode::Aot => {
            let exe_dir = tempdir::Dir::new("aot").map_err(|e| e.to_string())?;
            let exe = exe_dir.path().join(&p.name);
            let out = Command::new(&cfg.vmtrans)
                .arg("translate")
                .arg(guest)
                .arg("-o")
                .arg(&exe)
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "vmtrans translate failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            keep = Some(exe_dir);
            Command::new(exe)
        }
    };
    cmd.args(&p.args)
        .current_dir(dir.path())
        .env_clear()
        .env("VMTRANS_TEST", "1")
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null());
    for kv in &p.env {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    let out = run_with_timeout(cmd, Duration::from_secs(p.timeout * cfg.timeout_scale))?;
    Ok(Actual {
        stdout: out.stdout,
        stderr: out.stderr,
        status: status_text(out.status),
        dir,
        _keep: keep,
    })
}

fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<std::process::Output, String> {
    use std::os::unix::process::CommandExt;
    // Its own process group, so a timeout also kills the processes it
    // forked (an orphan holding the output pipes would block the runner).
    let child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let watchdog = std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < limit {
            if flag.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: kill(2) on the child's process group; a stale pgid can at
        // worst hit a group that reused it within 20 ms of exiting, which
        // the flag check above makes very unlikely.
        unsafe { libc_kill(-(pid as i32)) };
        true
    });
    let out = child.wait_with_output().map_err(|e| e.to_string());
    done.store(true, Ordering::Relaxed);
    if watchdog.join().unwrap_or(false) {
        return Err(format!("timed out after {limit:?}"));
    }
    out
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Sends SIGKILL to `pid` (a negative value names a process group).
unsafe fn libc_kill(pid: i32) {
    // SAFETY: the caller passes a child's pid or process group.
    unsafe {
        kill(pid, 9);
    }
}

fn status_text(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "unknown".into(),
    }
}

fn compare(expected_dir: &Path, fixture: &str, p: &Program, actual: &Actual) -> Verdict {
    let read = |ext: &str| {
        std::fs::read(expected_dir.join(format!("{fixture}.{ext}"))).unwrap_or_default()
    };
    let status = String::from_utf8_lossy(&read("status")).trim().to_string();
    // The runtime dies by the guest's fatal signal, as qemu-user does, so
    // statuses compare as they are.
    let got_status = &actual.status;
    if let Some(d) = first_difference("stdout", &read("stdout"), &actual.stdout) {
        return Verdict::Failed(d);
    }
    if let Some(d) = first_difference("stderr", &read("stderr"), &actual.stderr) {
        return Verdict::Failed(d);
    }
    if *got_status != status {
        return Verdict::Failed(format!("status: expected {status}, got {got_status}"));
    }
    for f in &p.files {
        let want = expected_dir.join(format!("{fixture}.files")).join(f);
        let got = actual.dir.path().join(f);
        if let Some(d) = compare_paths(&want, &got, f) {
            return Verdict::Failed(d);
        }
    }
    Verdict::Passed
}

fn first_difference(what: &str, expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    let (mut el, mut al) = (e.lines(), a.lines());
    let mut n = 1;
    loop {
        match (el.next(), al.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                return Some(format!(
                    "{what} line {n}: expected {:?}, got {:?}",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                ))
            }
        }
    }
}

fn compare_paths(want: &Path, got: &Path, name: &str) -> Option<String> {
    if want.is_dir() {
        let list = |p: &Path| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(p)
                .map(|r| {
                    r.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        let (w, g) = (list(want), list(got));
        if w != g {
            return Some(format!(
                "directory {name}: expected entries {w:?}, got {g:?}"
            ));
        }
        return w
            .iter()
            .find_map(|e| compare_paths(&want.join(e), &got.join(e), &format!("{name}/{e}")));
    }
    match (std::fs::read(want), std::fs::read(got)) {
        (Ok(w), Ok(g)) => first_difference(&format!("file {name}"), &w, &g),
        (Ok(_), Err(_)) => Some(format!("file {name} was not written")),
        (Err(_), _) => Some(format!("reference for {name} is missing")),
    }
}

/// The `n` cases that took longest (translation included), so a suite
/// that grows slow shows where.
fn slowest_cases(cases: &[Case], n: usize) -> String {
    let mut by_time: Vec<&Case> = cases.iter().collect();
    by_time.sort_by_key(|c| std::cmp::Reverse(c.time));
    let mut s = String::from("\nslowest cases:\n");
    for c in by_time.iter().take(n) {
        let _ = writeln!(
            s,
            "- {}/{} ({}): {:.1} s",
            c.arch.name(),
            c.fixture,
            c.mode.name(),
            c.time.as_secs_f64()
        );
    }
    s
}

/// The summary table (Markdown) with each row's summed wall time, the
/// slowest cases, and the first difference of each failure.
pub fn report(cases: &[Case]) -> String {
    let mut counts: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
    let mut times: BTreeMap<(&str, &str), Duration> = BTreeMap::new();
    for c in cases {
        *times.entry((c.arch.name(), c.mode.name())).or_default() += c.time;
        let slot = match c.verdict {
            Verdict::Passed => 0,
            Verdict::Failed(_) => 1,
            Verdict::Known(_) => 2,
            Verdict::Unsupported(_) => 3,
        };
        counts.entry((c.arch.name(), c.mode.name())).or_default()[slot] += 1;
    }
    let mut s = String::from(
        "| guest | mode | passed | failed | known failures | unsupported | time (s) |\n|---|---|---|---|---|---|---|\n",
    );
    for ((arch, mode), [p, f, k, u]) in &counts {
        let secs = times[&(*arch, *mode)].as_secs_f64();
        let _ = writeln!(s, "| {arch} | {mode} | {p} | {f} | {k} | {u} | {secs:.0} |");
    }
    s.push_str(&slowest_cases(cases, 10));
    let failures: Vec<&Case> = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed(_)))
        .collect();
    if !failures.is_empty() {
        s.push_str("\nfailures:\n");
        for c in failures {
            if let Verdict::Failed(d) = &c.verdict {
                let _ = writeln!(
                    s,
                    "- {}/{} ({}): {d}",
                    c.arch.name(),
                    c.fixture,
                    c.mode.name()
                );
            }
        }
    }
    let known: Vec<&Case> = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Known(_)))
        .collect();
    if !known.is_empty() {
        s.push_str("\nknown failures (guests/known-failures.txt):\n");
        for c in known {
            if let Verdict::Known(r) = &c.verdict {
                let _ = writeln!(
                    s,
                    "- {}/{} ({}): {r}",
                    c.arch.name(),
                    c.fixture,
                    c.mode.name()
                );
            }
        }
    }
    let mut why: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases {
        if let Verdict::Unsupported(w) = &c.verdict {
            *why.entry(format!("{} {}: {w}", c.arch.name(), c.mode.name()))
                .or_default() += 1;
        }
    }
    if !why.is_empty() {
        s.push_str("\nunsupported:\n");
        for (w, n) in why {
            let _ = writeln!(s, "- {w} ({n} cases)");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_parse() {
        let p = parse_line(
            "files_prog a b | env=X=1,Y=2 | files=out.txt,d/ | timeout=20 | arches=riscv64",
        )
        .unwrap();
        assert_eq!(p.name, "files_prog");
        assert_eq!(p.args, ["a", "b"]);
        assert_eq!(p.env, ["X=1", "Y=2"]);
        assert_eq!(p.files, ["out.txt", "d/"]);
        assert_eq!(p.timeout, 20);
        assert_eq!(p.arches, [Arch::Riscv64]);
        assert!(parse_line("x | bogus=1").is_err());
    }

    #[test]
    fn the_report_sums_time_per_row_and_lists_the_slowest_case_first() {
        let case = |fixture: &str, secs| Case {
            arch: Arch::Riscv64,
            mode: Mode::Aot,
            fixture: fixture.into(),
            verdict: Verdict::Passed,
            time: Duration::from_secs(secs),
        };
        let table = report(&[case("quick-O2", 2), case("slow-O0", 40)]);
        assert!(
            table.contains("| riscv64 | aot | 2 | 0 | 0 | 0 | 42 |"),
            "{table}"
        );
        let slowest = table.split("slowest cases:\n").nth(1).unwrap();
        assert!(
            slowest.starts_with("- riscv64/slow-O0 (aot): 40.0 s\n- riscv64/quick-O2"),
            "{table}"
        );
    }

    #[test]
    fn the_known_failures_list_parses() {
        let known = known_failures(&crate::suite_dir()).unwrap();
        assert!(known.values().all(|r| !r.is_empty()));
    }

    #[test]
    fn the_committed_manifest_parses() {
        let text = std::fs::read_to_string(crate::suite_dir().join("guests/manifest.txt")).unwrap();
        let programs = parse_manifest(&text).unwrap();
        assert!(programs.len() >= 30, "{}", programs.len());
    }
}
