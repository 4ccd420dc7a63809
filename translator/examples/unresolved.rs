//! Debugging aid for discovery: the indirect jumps it could not resolve and
//! the symbols with the most code it did not reach.
use std::collections::BTreeSet;

use vmtrans_translator::discover::{discover, IndirectKind};
use vmtrans_translator::loader::GuestImage;
use vmtrans_translator::riscv64::Riscv64Lifter;

fn main() {
    let path = std::env::args().nth(1).expect("usage: unresolved GUEST");
    let image = GuestImage::load(&path).expect("loads");
    let d = discover(&image, &Riscv64Lifter);
    let mut covered = BTreeSet::new();
    for f in &d.functions {
        for i in &f.insns {
            covered.extend(i.addr..i.addr + u64::from(i.len));
        }
    }
    let mut gaps: Vec<(u64, String, usize)> = image
        .symbols
        .iter()
        .map(|s| {
            let missing = (s.addr..s.addr + s.size)
                .filter(|a| !covered.contains(a))
                .count();
            (
                missing as u64,
                s.name.clone(),
                d.indirect_sites
                    .iter()
                    .filter(|x| {
                        x.kind == IndirectKind::Jump && x.targets.is_none() && s.contains(x.addr)
                    })
                    .count(),
            )
        })
        .collect();
    gaps.sort();
    for f in &d.functions {
        for w in f.blocks.windows(2) {
            if w[0].end > w[1].start {
                println!(
                    "overlap in {}: {:#x}..{:#x} and {:#x}",
                    f.display_name(),
                    w[0].start,
                    w[0].end,
                    w[1].start
                );
            }
        }
    }
    if let Some(t) = std::env::args().nth(2) {
        let t = u64::from_str_radix(t.trim_start_matches("0x"), 16).unwrap();
        for s in &d.indirect_sites {
            if s.targets.as_ref().is_some_and(|ts| ts.contains(&t)) {
                println!(
                    "target {t:#x} comes from the jump at {:#x}: {:x?}",
                    s.addr, s.targets
                );
            }
        }
    }
    for (missing, name, unresolved) in gaps.iter().rev().take(15) {
        println!("{missing:6} bytes missed in {name} ({unresolved} unresolved jumps)");
    }
}
