//! `vmtrans-bench`: runs the benchmark corpus natively, under qemu-user,
//! under `vmtrans run` (JIT) and as `vmtrans translate` executables (AOT),
//! alternating the modes run by run, and writes `bench.md`, `bench.json`
//! and `bench.svg`. See the Benchmarks section of the README.

mod chart;
mod corpus;
mod exec;
mod report;
mod stats;
mod translate;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

use corpus::{program_path, qemu_for, Benchmark};
use exec::run_measured;
use report::{ArchReport, BenchResult, Metric, Mode, Report, Timings};
use translate::{text_size, translate, TranslateError};

/// Benchmark vmtrans against native execution and qemu-user.
#[derive(Parser, Debug)]
#[command(name = "vmtrans-bench", about, long_about = None)]
struct Args {
    /// Guest ISAs to measure (riscv64, aarch64, x86_64); repeatable.
    #[arg(long, default_value = "riscv64")]
    arch: Vec<String>,
    /// Smaller inputs and 3 runs per mode: a quick look, not a measurement.
    #[arg(long)]
    quick: bool,
    /// Runs per benchmark and mode (default 5, 3 with --quick).
    #[arg(long)]
    runs: Option<usize>,
    /// Directory for the reports and translated executables.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The vmtrans binary (default: target/release/vmtrans).
    #[arg(long)]
    vmtrans: Option<PathBuf>,
    /// Only these benchmarks (comma separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Time the medians and ratios use.
    #[arg(long, value_enum, default_value = "wall")]
    metric: Metric,
    /// Seconds after which one run is killed and counted as failed.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Do not run make for the corpus first.
    #[arg(long)]
    no_build: bool,
    /// Measure nothing: rewrite bench.md and bench.svg in --out from this
    /// bench.json (e.g. with another --metric).
    #[arg(long, value_name = "JSON")]
    rerender: Option<PathBuf>,
}

/// Paths and settings every benchmark run uses.
struct Setup {
    benches: PathBuf,
    out: PathBuf,
    scratch: PathBuf,
    vmtrans: PathBuf,
    runs: usize,
    quick: bool,
    cores: usize,
    limit: Duration,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let benches = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let root = benches.parent().context("workspace root")?.to_path_buf();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/bench"));
    let setup = Setup {
        scratch: out.join("scratch"),
        vmtrans: args
            .vmtrans
            .clone()
            .unwrap_or_else(|| root.join("target/release/vmtrans")),
        runs: args.runs.unwrap_or(if args.quick { 3 } else { 5 }).max(1),
        quick: args.quick,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        limit: Duration::from_secs(args.timeout),
        benches,
        out,
    };
    std::fs::create_dir_all(&setup.scratch)?;
    if let Some(json) = &args.rerender {
        return rerender(json, &setup.out, args.metric);
    }
    anyhow::ensure!(
        setup.vmtrans.exists(),
        "{} is missing: build it with `cargo build --release -p vmtrans`",
        setup.vmtrans.display()
    );
    for arch in &args.arch {
        anyhow::ensure!(
            corpus::ARCHES.contains(&arch.as_str()),
            "unknown --arch {arch:?} (one of {:?})",
            corpus::ARCHES
        );
    }
    if !args.no_build {
        corpus::build(&setup.benches, &args.arch)?;
    }
    let selected = corpus::select(&args.only)?;
    let mut report = Report {
        metric: args.metric,
        runs: setup.runs,
        quick: args.quick,
        cores: setup.cores,
        started: now(),
        arches: Vec::new(),
    };
    for arch in &args.arch {
        let mut a = ArchReport {
            arch: arch.clone(),
            benches: Vec::new(),
        };
        for b in &selected {
            a.benches.push(bench(&setup, arch, b)?);
            write_reports(&setup.out, &report, Some(&a))?;
        }
        report.arches.push(a);
    }
    write_reports(&setup.out, &report, None)?;
    eprintln!("wrote {}/bench.{{md,json,svg}}", setup.out.display());
    Ok(())
}

/// Rewrites the Markdown and SVG reports from a saved JSON report.
fn rerender(json: &Path, out: &Path, metric: Metric) -> Result<()> {
    let text = std::fs::read_to_string(json).with_context(|| format!("{}", json.display()))?;
    let mut r: Report = serde_json::from_str(&text).context("parsing the JSON report")?;
    r.metric = metric;
    std::fs::write(out.join("bench.md"), report::markdown(&r))?;
    std::fs::write(out.join("bench.svg"), chart::svg(&r))?;
    eprintln!("wrote {}/bench.{{md,svg}}", out.display());
    Ok(())
}

/// Writes the three reports; `partial` is an ISA still being measured.
fn write_reports(out: &Path, report: &Report, partial: Option<&ArchReport>) -> Result<()> {
    let mut r = report.clone();
    r.arches.extend(partial.cloned());
    std::fs::write(out.join("bench.md"), report::markdown(&r))?;
    std::fs::write(out.join("bench.json"), serde_json::to_string_pretty(&r)?)?;
    std::fs::write(out.join("bench.svg"), chart::svg(&r))?;
    Ok(())
}

/// The current UTC time as `date -u` prints it.
fn now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Translates and runs one benchmark in every mode.
fn bench(setup: &Setup, arch: &str, b: &Benchmark) -> Result<BenchResult> {
    eprintln!("== {arch} {}", b.name);
    let guest = program_path(&setup.benches, arch, b.name);
    let native = program_path(&setup.benches, "x86_64", b.name);
    let aot = setup.out.join("aot").join(arch).join(b.name);
    std::fs::create_dir_all(aot.parent().context("aot dir")?)?;
    let args: Vec<String> = if setup.quick {
        vec![b.quick_arg.to_string()]
    } else {
        Vec::new()
    };
    let mut result = BenchResult {
        name: b.name.to_string(),
        args: args.clone(),
        expected_stdout: None,
        modes: Mode::ALL.iter().map(|&m| (m, Timings::default())).collect(),
        text_bytes: std::fs::read(&guest).ok().and_then(|g| text_size(&g)),
        translations: Vec::new(),
        translate_error: None,
    };
    translations(setup, &guest, &aot, &mut result)?;
    if !qemu_exists(arch) {
        result.modes[1].1.unsupported = Some(format!("{} not found", qemu_for(arch)));
    }
    let commands = |mode: Mode| -> Command {
        let mut c = match mode {
            Mode::Native => Command::new(&native),
            Mode::Qemu => {
                let mut c = Command::new(qemu_for(arch));
                c.arg(&guest);
                c
            }
            Mode::Jit => {
                let mut c = Command::new(&setup.vmtrans);
                c.arg("run").arg(&guest).arg("--");
                c
            }
            Mode::Aot => Command::new(&aot),
        };
        c.args(&args);
        c
    };
    for run in 0..setup.runs {
        for (i, &mode) in Mode::ALL.iter().enumerate() {
            let t = &result.modes[i].1;
            if t.failed.is_some() || t.unsupported.is_some() {
                continue;
            }
            let r = run_measured(commands(mode), &setup.scratch, setup.limit)?;
            record(&mut result, i, mode, r, run);
        }
    }
    if result.modes[0].1.failed.is_some() {
        let why = "the native reference failed".to_string();
        for (_, t) in result.modes.iter_mut().skip(1) {
            if t.unsupported.is_none() {
                t.failed.get_or_insert(why.clone());
            }
        }
    }
    Ok(result)
}

/// Stores one run: times if its output matches native's, else a failure.
fn record(result: &mut BenchResult, i: usize, mode: Mode, r: exec::RunResult, run: usize) {
    if mode == Mode::Native && result.expected_stdout.is_none() && r.status == 0 {
        result.expected_stdout = Some(r.stdout.clone());
    }
    let failure = if r.timed_out {
        Some("timed out".to_string())
    } else if r.status != 0 {
        Some(format!(
            "exit status {}: {}",
            r.status,
            r.stderr_tail.trim()
        ))
    } else if result.expected_stdout.as_deref() != Some(r.stdout.as_str()) {
        Some(format!(
            "wrong output: {:?} (native: {:?})",
            exec::tail(r.stdout.trim(), 200),
            result
                .expected_stdout
                .as_deref()
                .map(|s| exec::tail(s.trim(), 200))
        ))
    } else {
        None
    };
    let t = &mut result.modes[i].1;
    t.max_rss_kib = t.max_rss_kib.max(r.max_rss_kib);
    match failure {
        Some(f) => {
            eprintln!("   {:6} run {run}: FAILED: {f}", mode.label());
            t.failed = Some(f);
            t.wall.clear();
            t.cpu.clear();
        }
        None => {
            eprintln!(
                "   {:6} run {run}: {:.3}s wall, {:.3}s cpu",
                mode.label(),
                r.wall,
                r.cpu
            );
            t.wall.push(r.wall);
            t.cpu.push(r.cpu);
        }
    }
}

/// Translates with 1 thread and with every core (the last one's output
/// is the AOT executable); marks JIT and AOT unsupported or failed when
/// translation is.
fn translations(setup: &Setup, guest: &Path, aot: &Path, result: &mut BenchResult) -> Result<()> {
    let mut threads = vec![1];
    if setup.cores > 1 {
        threads.push(setup.cores);
    }
    for n in threads {
        match translate(&setup.vmtrans, guest, aot, n, &setup.scratch)? {
            Ok(t) => {
                let secs = t.translate_secs.map_or("?".into(), |s| format!("{s:.2}"));
                eprintln!("   translate ({n} threads): {secs}s, {:.2}s wall", t.wall);
                result.translations.push(t);
            }
            Err(e) => {
                eprintln!("   translate: {e:?}");
                match &e {
                    TranslateError::Unsupported(m) => {
                        result.modes[2].1.unsupported = Some(m.clone());
                        result.modes[3].1.unsupported = Some(m.clone());
                    }
                    TranslateError::Failed(m) => {
                        result.modes[3].1.failed = Some(format!("translation failed: {m}"));
                    }
                }
                result.translate_error = Some(e);
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Whether the qemu-user binary for `arch` is on PATH.
fn qemu_exists(arch: &str) -> bool {
    let name = qemu_for(arch);
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(&name).exists()))
}
