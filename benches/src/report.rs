//! The results of a harness run and their Markdown and JSON forms.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::stats::{geomean, median, speedup};
use crate::translate::{TranslateError, Translation};

/// How a benchmark was run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// The x86_64 build of the same source, run directly.
    Native,
    /// The guest build under qemu-user.
    Qemu,
    /// The guest build under `vmtrans run` (translation time included).
    Jit,
    /// The executable `vmtrans translate` wrote.
    Aot,
}

impl Mode {
    /// Every mode, in the order runs alternate and columns appear.
    pub const ALL: [Mode; 4] = [Mode::Native, Mode::Qemu, Mode::Jit, Mode::Aot];

    /// Short label for tables and the chart.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Qemu => "qemu",
            Mode::Jit => "JIT",
            Mode::Aot => "AOT",
        }
    }
}

/// Which time the medians and ratios use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Metric {
    /// Wall-clock time.
    Wall,
    /// User + system CPU time of the process (steadier on a shared machine).
    Cpu,
}

/// The measurements of one benchmark in one mode.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Wall seconds of every successful run, in run order.
    pub wall: Vec<f64>,
    /// CPU seconds of every successful run, in run order.
    pub cpu: Vec<f64>,
    /// Largest peak RSS over the runs, KiB.
    pub max_rss_kib: u64,
    /// Why the mode failed (wrong output, crash, timeout), if it did; a
    /// failed mode has no times.
    pub failed: Option<String>,
    /// Why the mode cannot run at all (no frontend for the ISA, missing
    /// qemu), if so.
    pub unsupported: Option<String>,
}

impl Timings {
    /// The median of the chosen metric; `None` for a failed or
    /// unsupported mode.
    pub fn median(&self, metric: Metric) -> Option<f64> {
        if self.failed.is_some() || self.unsupported.is_some() {
            return None;
        }
        median(match metric {
            Metric::Wall => &self.wall,
            Metric::Cpu => &self.cpu,
        })
    }

    /// Table cell: the median in seconds, or FAILED / unsupported.
    fn cell(&self, metric: Metric) -> String {
        if self.failed.is_some() {
            return "FAILED".into();
        }
        if self.unsupported.is_some() {
            return "unsupported".into();
        }
        self.median(metric)
            .map_or("–".into(), |t| format!("{t:.3}"))
    }
}

/// Everything measured for one benchmark on one guest ISA.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResult {
    /// Benchmark name.
    pub name: String,
    /// Arguments every run got.
    pub args: Vec<String>,
    /// The native run's stdout every other mode must reproduce.
    pub expected_stdout: Option<String>,
    /// Per mode, in [`Mode::ALL`] order.
    pub modes: Vec<(Mode, Timings)>,
    /// Size of the guest's `.text` section.
    pub text_bytes: Option<u64>,
    /// `vmtrans translate` with 1 thread and with all cores.
    pub translations: Vec<Translation>,
    /// Why translation did not happen, if it did not.
    pub translate_error: Option<TranslateError>,
}

impl BenchResult {
    /// The timings of `mode`.
    pub fn timings(&self, mode: Mode) -> Option<&Timings> {
        self.modes.iter().find(|(m, _)| *m == mode).map(|(_, t)| t)
    }

    /// Median time of `mode` under `metric`.
    pub fn time(&self, mode: Mode, metric: Metric) -> Option<f64> {
        self.timings(mode)?.median(metric)
    }

    /// Speed of `fast` relative to `slow`: `t(slow) / t(fast)`.
    pub fn ratio(&self, fast: Mode, slow: Mode, metric: Metric) -> Option<f64> {
        speedup(self.time(slow, metric), self.time(fast, metric))
    }
}

/// The results for one guest ISA.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchReport {
    /// Guest ISA.
    pub arch: String,
    /// One entry per benchmark.
    pub benches: Vec<BenchResult>,
}

/// A whole harness run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Metric of the medians and ratios.
    pub metric: Metric,
    /// Runs per benchmark and mode.
    pub runs: usize,
    /// Whether `--quick` sizes were used.
    pub quick: bool,
    /// Threads of the "all cores" translation.
    pub cores: usize,
    /// When the run started (UTC, from `date`).
    pub started: String,
    /// Per guest ISA.
    pub arches: Vec<ArchReport>,
}

/// The ratio columns: (header, fast mode, slow mode).
pub const RATIOS: [(&str, Mode, Mode); 4] = [
    ("AOT/native", Mode::Aot, Mode::Native),
    ("AOT/qemu", Mode::Aot, Mode::Qemu),
    ("JIT/AOT", Mode::Jit, Mode::Aot),
    ("JIT/qemu", Mode::Jit, Mode::Qemu),
];

fn ratio_cell(r: Option<f64>) -> String {
    r.map_or("–".into(), |r| format!("{r:.2}×"))
}

fn mib(kib: u64) -> String {
    if kib == 0 {
        "–".into()
    } else {
        format!("{:.0}", kib as f64 / 1024.0)
    }
}

/// Geometric mean of a ratio column over the benchmarks that have it.
pub fn ratio_geomean(arch: &ArchReport, fast: Mode, slow: Mode, metric: Metric) -> Option<f64> {
    let rs: Vec<f64> = arch
        .benches
        .iter()
        .filter_map(|b| b.ratio(fast, slow, metric))
        .collect();
    geomean(&rs)
}

/// The report as Markdown: per ISA a time/ratio table and a translation
/// table.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let metric = match r.metric {
        Metric::Wall => "wall-clock",
        Metric::Cpu => "CPU (user+sys)",
    };
    let _ = writeln!(s, "# vmtrans benchmarks\n");
    let _ = writeln!(
        s,
        "Started {}; median of {} runs per mode ({metric} seconds){}. Ratios are speeds: \
         `X/Y` = t(Y) / t(X), above 1 means X is faster. JIT times include translation.\n",
        r.started,
        r.runs,
        if r.quick { ", --quick sizes" } else { "" }
    );
    for a in &r.arches {
        times_table(&mut s, a, r.metric);
        translation_table(&mut s, a, r.cores);
    }
    s
}

fn times_table(s: &mut String, a: &ArchReport, metric: Metric) {
    let _ = writeln!(s, "## {}\n", a.arch);
    let _ = writeln!(
        s,
        "| benchmark | native s | qemu s | JIT s | AOT s | {} | peak RSS MiB (native/qemu/JIT/AOT) |",
        RATIOS.map(|r| r.0).join(" | ")
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for b in &a.benches {
        let cells: Vec<String> = Mode::ALL
            .iter()
            .map(|&m| b.timings(m).map_or("–".into(), |t| t.cell(metric)))
            .collect();
        let ratios: Vec<String> = RATIOS
            .iter()
            .map(|&(_, f, sl)| ratio_cell(b.ratio(f, sl, metric)))
            .collect();
        let rss: Vec<String> = Mode::ALL
            .iter()
            .map(|&m| mib(b.timings(m).map_or(0, |t| t.max_rss_kib)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            b.name,
            cells.join(" | "),
            ratios.join(" | "),
            rss.join("/")
        );
    }
    let geo: Vec<String> = RATIOS
        .iter()
        .map(|&(_, f, sl)| ratio_cell(ratio_geomean(a, f, sl, metric)))
        .collect();
    let _ = writeln!(s, "| **geomean** | | | | | {} | |", geo.join(" | "));
    let notes: Vec<String> = a
        .benches
        .iter()
        .flat_map(|b| {
            b.modes.iter().filter_map(move |(m, t)| {
                let why = t.failed.as_ref().or(t.unsupported.as_ref())?;
                Some(format!(
                    "- {} {}: {}",
                    b.name,
                    m.label(),
                    why.replace('\n', " ")
                ))
            })
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "\n{}", notes.join("\n"));
    }
    let _ = writeln!(s);
}

fn translation_table(s: &mut String, a: &ArchReport, cores: usize) {
    let _ = writeln!(s, "### {} translation (`vmtrans translate`)\n", a.arch);
    let _ = writeln!(
        s,
        "| benchmark | .text bytes | translated bytes | functions | 1 thread s | {cores} threads s | .text KB/s (1 thread) | .text KB/s ({cores} threads) | speedup | peak RSS MiB |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for b in &a.benches {
        if let Some(e) = &b.translate_error {
            let why = match e {
                TranslateError::Unsupported(_) => "unsupported",
                TranslateError::Failed(_) => "FAILED",
            };
            let _ = writeln!(s, "| {} | {why} | | | | | | | | |", b.name);
            continue;
        }
        let one = b.translations.iter().find(|t| t.threads == 1);
        let all = b.translations.iter().find(|t| t.threads == cores);
        let secs = |t: Option<&Translation>| t.and_then(|t| t.translate_secs);
        let rate = |t: Option<&Translation>| {
            speedup(b.text_bytes.map(|x| x as f64 / 1000.0), secs(t))
                .map_or("–".into(), |r| format!("{r:.0}"))
        };
        let opt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            b.name,
            b.text_bytes.map_or("–".into(), |v| v.to_string()),
            one.and_then(|t| t.guest_bytes)
                .map_or("–".into(), |v| v.to_string()),
            one.and_then(|t| t.functions)
                .map_or("–".into(), |v| v.to_string()),
            opt(secs(one)),
            opt(secs(all)),
            rate(one),
            rate(all),
            ratio_cell(speedup(secs(one), secs(all))),
            mib(b
                .translations
                .iter()
                .map(|t| t.max_rss_kib)
                .max()
                .unwrap_or(0)),
        );
    }
    let _ = writeln!(
        s,
        "\nTranslation seconds are vmtrans's own discover+lift+optimize+codegen times (linking excluded).\n"
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report with one benchmark: native 1 s, qemu 8 s, JIT 3 s, AOT 2 s.
    pub(crate) fn sample() -> Report {
        let t = |secs: &[f64]| Timings {
            wall: secs.to_vec(),
            cpu: secs.to_vec(),
            max_rss_kib: 2048,
            ..Timings::default()
        };
        let bench = BenchResult {
            name: "fib".into(),
            args: vec![],
            expected_stdout: Some("fib checksum 1\n".into()),
            modes: vec![
                (Mode::Native, t(&[1.0, 1.2, 0.9])),
                (Mode::Qemu, t(&[8.0])),
                (Mode::Jit, t(&[3.0])),
                (Mode::Aot, t(&[2.0])),
            ],
            text_bytes: Some(200_000),
            translations: vec![],
            translate_error: None,
        };
        let mut failed = bench.clone();
        failed.name = "qsort".into();
        failed.modes[3].1 = Timings {
            failed: Some("wrong output".into()),
            ..Timings::default()
        };
        Report {
            metric: Metric::Wall,
            runs: 3,
            quick: false,
            cores: 2,
            started: "now".into(),
            arches: vec![ArchReport {
                arch: "riscv64".into(),
                benches: vec![bench, failed],
            }],
        }
    }

    #[test]
    fn ratios_are_speeds() {
        let r = sample();
        let b = &r.arches[0].benches[0];
        assert_eq!(b.ratio(Mode::Aot, Mode::Native, Metric::Wall), Some(0.5));
        assert_eq!(b.ratio(Mode::Aot, Mode::Qemu, Metric::Wall), Some(4.0));
        assert_eq!(b.ratio(Mode::Jit, Mode::Aot, Metric::Wall), Some(2.0 / 3.0));
        let failed = &r.arches[0].benches[1];
        assert_eq!(failed.ratio(Mode::Aot, Mode::Native, Metric::Wall), None);
    }

    #[test]
    fn geomean_skips_failed() {
        let r = sample();
        let g = ratio_geomean(&r.arches[0], Mode::Aot, Mode::Qemu, Metric::Wall);
        assert_eq!(g, Some(4.0));
    }

    #[test]
    fn markdown_has_rows_and_failures() {
        let md = markdown(&sample());
        assert!(
            md.contains("| fib | 1.000 | 8.000 | 3.000 | 2.000 | 0.50× | 4.00× |"),
            "{md}"
        );
        assert!(
            md.contains("| qsort | 1.000 | 8.000 | 3.000 | FAILED |"),
            "{md}"
        );
        assert!(md.contains("- qsort AOT: wrong output"), "{md}");
        assert!(md.contains("**geomean**"));
    }

    #[test]
    fn json_round_trips_through_serde() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["arches"][0]["benches"][0]["name"], "fib");
        assert_eq!(v["metric"], "Wall");
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(markdown(&back), markdown(&sample()));
    }
}
