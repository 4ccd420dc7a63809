//! A hand-written SVG bar chart of the speeds relative to native: one
//! panel per guest ISA, one group of bars (qemu, JIT, AOT) per benchmark
//! plus the geometric mean, on a log scale with native = 1.

use std::fmt::Write;

use crate::report::{ratio_geomean, ArchReport, Metric, Mode, Report};

/// Modes drawn as bars, with their colours.
const BARS: [(Mode, &str); 3] = [
    (Mode::Qemu, "#9e9e9e"),
    (Mode::Jit, "#f4a259"),
    (Mode::Aot, "#3d7dca"),
];
const BAR_W: f64 = 14.0;
const GROUP_W: f64 = BAR_W * 3.0 + 16.0;
const PLOT_H: f64 = 260.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 40.0;
const PANEL_H: f64 = PLOT_H + 120.0;

/// One group of bars: label and the speed of each of [`BARS`] (`None` =
/// failed / unsupported).
type Group = (String, [Option<f64>; 3]);

fn groups(a: &ArchReport, metric: Metric) -> Vec<Group> {
    let mut g: Vec<Group> = a
        .benches
        .iter()
        .map(|b| {
            let v = BARS.map(|(m, _)| b.ratio(m, Mode::Native, metric));
            (b.name.clone(), v)
        })
        .collect();
    g.push((
        "geomean".into(),
        BARS.map(|(m, _)| ratio_geomean(a, m, Mode::Native, metric)),
    ));
    g
}

/// The decades the log axis spans: covers every value and 0.1..1.
fn decades(gs: &[Group]) -> (i32, i32) {
    let vals = gs.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = vals.fold((0.1f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo.log10().floor() as i32, hi.log10().ceil().max(0.0) as i32)
}

/// The chart as an SVG document.
pub fn svg(r: &Report) -> String {
    let panels: Vec<(&ArchReport, Vec<Group>)> = r
        .arches
        .iter()
        .map(|a| (a, groups(a, r.metric)))
        .filter(|(_, g)| g.iter().any(|(_, v)| v.iter().any(Option::is_some)))
        .collect();
    let max_groups = panels.iter().map(|(_, g)| g.len()).max().unwrap_or(1);
    let width = (LEFT + GROUP_W * max_groups as f64 + 20.0).max(720.0);
    let height = TOP + PANEL_H * panels.len().max(1) as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="14">Speed relative to native x86_64 (log scale, higher is better; median {} time of {} runs)</text>"#,
        match r.metric {
            Metric::Wall => "wall",
            Metric::Cpu => "CPU",
        },
        r.runs
    );
    legend(&mut s, width);
    if panels.is_empty() {
        let _ = writeln!(
            s,
            r#"<text x="{LEFT}" y="{}">no measurements</text>"#,
            TOP + 20.0
        );
    }
    for (i, (a, g)) in panels.iter().enumerate() {
        panel(&mut s, &a.arch, g, TOP + PANEL_H * i as f64);
    }
    s.push_str("</svg>\n");
    s
}

fn legend(s: &mut String, width: f64) {
    for (i, (m, colour)) in BARS.iter().enumerate() {
        let x = width - 220.0 + 70.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="28" width="10" height="10" fill="{colour}"/><text x="{}" y="37">{}</text>"#,
            x + 14.0,
            m.label()
        );
    }
}

fn panel(s: &mut String, arch: &str, gs: &[Group], top: f64) {
    let (lo, hi) = decades(gs);
    let y_of = |v: f64| {
        let t = (v.log10() - f64::from(lo)) / f64::from(hi - lo);
        top + 20.0 + PLOT_H * (1.0 - t)
    };
    let right = LEFT + GROUP_W * gs.len() as f64;
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-size="13" font-weight="bold">{arch}</text>"#,
        top + 12.0
    );
    for d in lo..=hi {
        let v = 10f64.powi(d);
        let y = y_of(v);
        let stroke = if d == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="{stroke}"/><text x="{}" y="{:.1}" text-anchor="end">{}×</text>"#,
            LEFT - 4.0,
            y + 4.0,
            fmt_tick(v)
        );
    }
    let base = y_of(10f64.powi(lo));
    for (gi, (name, vals)) in gs.iter().enumerate() {
        let gx = LEFT + GROUP_W * gi as f64 + 8.0;
        for (bi, v) in vals.iter().enumerate() {
            let x = gx + BAR_W * bi as f64;
            match v {
                Some(v) => {
                    let y = y_of(*v);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{name} {}: {v:.3}×</title></rect>"#,
                        BAR_W - 2.0,
                        (base - y).max(0.0),
                        BARS[bi].1,
                        BARS[bi].0.label()
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" fill="#c00" font-size="9">×</text>"##,
                        x + 2.0,
                        base - 4.0
                    );
                }
            }
        }
        let weight = if name == "geomean" {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" transform="rotate(40 {:.1} {:.1})"{weight}>{name}</text>"#,
            gx,
            base + 14.0,
            gx,
            base + 14.0
        );
    }
}

fn fmt_tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn svg_draws_bars_and_geomean() {
        let s = svg(&sample());
        assert!(s.starts_with("<svg"));
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(s.contains("fib AOT: 0.500×"), "{s}");
        assert!(s.contains("geomean"));
        // The failed AOT run of qsort is marked, not drawn.
        assert!(s.contains(r##"fill="#c00""##));
    }

    #[test]
    fn axis_covers_values() {
        let gs = vec![("a".to_string(), [Some(0.02), Some(3.0), None])];
        assert_eq!(decades(&gs), (-2, 1));
        let gs = vec![("a".to_string(), [Some(0.5), None, None])];
        assert_eq!(decades(&gs), (-1, 0));
    }
}
