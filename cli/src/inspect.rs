//! `vmtrans inspect`: what the translator sees in a guest program.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value as Json};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::print::{print_function, print_function_annotated};
use vmtrans_ir::verify::verify_function;
use vmtrans_ir::{Function as IrFunction, Terminator};
use vmtrans_translator::discover::{discover, Discovery, Function};
use vmtrans_translator::lift::{lift_function_with_tables, LiftIssue};
use vmtrans_translator::loader::GuestImage;
use vmtrans_translator::{lifter_for, Lifter};

/// Arguments of `vmtrans inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The guest ELF file.
    pub file: PathBuf,
    /// Show one function (its symbol name or entry address, e.g. 0x10552).
    #[arg(long, short = 'f', value_name = "NAME|ADDR")]
    pub function: Option<String>,
    /// With --function: print the lifted IR, annotated with the guest
    /// instructions it came from.
    #[arg(long, requires = "function")]
    pub ir: bool,
    /// With --function: print the optimized IR.
    #[arg(long, requires = "function")]
    pub opt: bool,
    /// With --function: print the IR control-flow graph as Graphviz dot
    /// (of the optimized IR when --opt is given too).
    #[arg(long, requires = "function")]
    pub dot: bool,
    /// Machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// List at most this many functions in the summary (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
}

/// Runs `vmtrans inspect`.
pub fn run(args: &InspectArgs) -> Result<()> {
    let image = GuestImage::load(&args.file)?;
    let lifter = lifter_for(image.arch).map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let discovery = discover(&image, lifter);
    let out = match &args.function {
        None if args.json => serde_json::to_string_pretty(&summary_json(&image, &discovery))?,
        None => summary_text(&image, &discovery, args.limit),
        Some(which) => {
            let f = find_function(&image, &discovery, which)?;
            let view = FunctionView::build(lifter, &image, f, &discovery.jump_tables())?;
            if args.json {
                serde_json::to_string_pretty(&view.json(args))?
            } else {
                view.text(args)
            }
        }
    };
    print_report(&out)
}

/// Writes the report to stdout; a reader that stops early (`| head`) is
/// not an error.
fn print_report(out: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", out.trim_end()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("writing the report to stdout"),
    }
}

fn find_function<'d>(image: &GuestImage, d: &'d Discovery, which: &str) -> Result<&'d Function> {
    if let Some(hex) = which.strip_prefix("0x") {
        let addr =
            u64::from_str_radix(hex, 16).with_context(|| format!("bad address {which:?}"))?;
        return d
            .function(addr)
            .ok_or_else(|| anyhow!("{}: no function starts at {addr:#x}", image.path.display()));
    }
    d.functions
        .iter()
        .find(|f| f.name.as_deref() == Some(which))
        .ok_or_else(|| anyhow!("{}: no function named {which:?}", image.path.display()))
}

fn elf_line(image: &GuestImage) -> String {
    format!(
        "{}: ELF64 {} {:?}, entry {:#x}",
        image.path.display(),
        image.arch,
        image.elf_type,
        image.entry
    )
}

fn summary_text(image: &GuestImage, d: &Discovery, limit: usize) -> String {
    let mut s = elf_line(image);
    s.push('\n');
    s.push_str("segments:\n");
    for seg in &image.segments {
        let _ = writeln!(
            s,
            "  [{}] {} {:#x}..{:#x} ({} bytes from the file)",
            seg.index,
            seg.flags,
            seg.vaddr,
            seg.end(),
            seg.bytes.len()
        );
    }
    let _ = writeln!(
        s,
        "metadata: {} function symbols, {} eh_frame FDEs, line info {}",
        image.symbols.len(),
        image.fdes.len(),
        if image.has_line_info() { "yes" } else { "no" }
    );
    for w in &image.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let resolved = d
        .indirect_sites
        .iter()
        .filter(|x| x.targets.is_some())
        .count();
    let blocks: usize = d.functions.iter().map(|f| f.blocks.len()).sum();
    let _ = writeln!(
        s,
        "discovery: {} functions, {blocks} blocks, {} instructions, {} indirect sites ({resolved} resolved jump tables), {} decode failures",
        d.functions.len(),
        d.instruction_count(),
        d.indirect_sites.len(),
        d.decode_failures.len()
    );
    if let Some(text) = d.coverage.text {
        let _ = writeln!(
            s,
            "coverage: .text {}/{} bytes ({:.2}%)",
            text.covered,
            text.total,
            text.percent()
        );
    }
    let seg = d.coverage.segments;
    let _ = writeln!(
        s,
        "coverage: executable segments {}/{} bytes ({:.2}%)",
        seg.covered,
        seg.total,
        seg.percent()
    );
    s.push_str("functions (entry, blocks, instructions, bytes, name):\n");
    let shown = if limit == 0 { d.functions.len() } else { limit };
    for f in d.functions.iter().take(shown) {
        let bytes: u64 = f.insns.iter().map(|i| u64::from(i.len)).sum();
        let _ = writeln!(
            s,
            "  {:#10x} {:5} {:6} {:7}  {}",
            f.entry,
            f.blocks.len(),
            f.insns.len(),
            bytes,
            f.display_name()
        );
    }
    if shown < d.functions.len() {
        let _ = writeln!(
            s,
            "  ... {} more (--limit 0 lists all)",
            d.functions.len() - shown
        );
    }
    s
}

fn summary_json(image: &GuestImage, d: &Discovery) -> Json {
    let cov = |c: vmtrans_translator::discover::ByteCoverage| json!({"covered": c.covered, "total": c.total, "percent": c.percent()});
    json!({
        "file": image.path.display().to_string(),
        "arch": image.arch.name(),
        "elf_type": format!("{:?}", image.elf_type),
        "entry": image.entry,
        "segments": image.segments.iter().map(|s| json!({
            "vaddr": s.vaddr, "memsz": s.memsz, "flags": s.flags.to_string(),
        })).collect::<Vec<_>>(),
        "symbols": image.symbols.len(),
        "fdes": image.fdes.len(),
        "warnings": image.warnings,
        "coverage": {
            "text": d.coverage.text.map(cov),
            "segments": cov(d.coverage.segments),
        },
        "indirect_sites": d.indirect_sites.len(),
        "resolved_jump_tables": d.indirect_sites.iter().filter(|x| x.targets.is_some()).count(),
        "decode_failures": d.decode_failures.iter().map(|f| json!({
            "addr": f.addr, "reason": format!("{:?}", f.reason),
        })).collect::<Vec<_>>(),
        "functions": d.functions.iter().map(|f| json!({
            "entry": f.entry,
            "name": f.name,
            "blocks": f.blocks.len(),
            "instructions": f.insns.len(),
        })).collect::<Vec<_>>(),
    })
}

/// One function, lifted and optimized.
struct FunctionView<'a> {
    f: &'a Function,
    lifted: IrFunction,
    optimized: IrFunction,
    issues: Vec<LiftIssue>,
}

impl<'a> FunctionView<'a> {
    fn build(
        lifter: &dyn Lifter,
        image: &GuestImage,
        f: &'a Function,
        tables: &vmtrans_translator::JumpTables,
    ) -> Result<FunctionView<'a>> {
        let name = f.display_name();
        let (lifted, issues) =
            lift_function_with_tables(lifter, image, &name, f.entry, &f.block_ranges(), tables);
        verify_function(&lifted)
            .map_err(|e| anyhow!("lifted IR is malformed (a vmtrans bug): {e}"))?;
        let mut optimized = lifted.clone();
        optimize_function(&mut optimized, &OptOptions::new(OptLevel::Full)).map_err(|e| {
            anyhow!(
                "optimizing {} failed (a vmtrans bug): {e}",
                f.display_name()
            )
        })?;
        Ok(FunctionView {
            f,
            lifted,
            optimized,
            issues,
        })
    }

    fn annotated(&self, func: &IrFunction) -> String {
        print_function_annotated(func, &|pc| self.f.insn(pc).map(|i| i.text.clone()))
    }

    fn disassembly(&self) -> String {
        let mut s = String::new();
        for b in &self.f.blocks {
            let _ = writeln!(s, "{:#x}:", b.start);
            for i in self
                .f
                .insns
                .iter()
                .filter(|i| i.addr >= b.start && i.addr < b.end)
            {
                let _ = writeln!(s, "    {:#10x}  {}", i.addr, i.text);
            }
        }
        s
    }

    fn issue_lines(&self) -> Vec<String> {
        self.issues
            .iter()
            .map(|i| match i {
                LiftIssue::Decode(e) => e.to_string(),
                LiftIssue::Lift(e) => e.to_string(),
            })
            .collect()
    }

    fn text(&self, args: &InspectArgs) -> String {
        let mut s = format!(
            "function {} at {:#x}: {} blocks, {} instructions; IR {} instructions lifted, {} optimized\n",
            self.f.display_name(),
            self.f.entry,
            self.f.blocks.len(),
            self.f.insns.len(),
            self.lifted.inst_count(),
            self.optimized.inst_count()
        );
        for line in self.issue_lines() {
            let _ = writeln!(s, "becomes a trap: {line}");
        }
        let any_view = args.ir || args.opt || args.dot;
        if !any_view {
            s.push_str(&self.disassembly());
        }
        if args.ir {
            s.push_str("\n; lifted IR\n");
            s.push_str(&self.annotated(&self.lifted));
        }
        if args.opt {
            s.push_str("\n; optimized IR\n");
            s.push_str(&self.annotated(&self.optimized));
        }
        if args.dot {
            s.push('\n');
            s.push_str(&dot(if args.opt {
                &self.optimized
            } else {
                &self.lifted
            }));
        }
        s
    }

    fn json(&self, args: &InspectArgs) -> Json {
        json!({
            "name": self.f.display_name(),
            "entry": self.f.entry,
            "blocks": self.f.blocks.iter().map(|b| json!({
                "start": b.start, "end": b.end, "successors": b.successors, "exits": b.exits,
            })).collect::<Vec<_>>(),
            "instructions": self.f.insns.iter().map(|i| json!({
                "addr": i.addr, "len": i.len, "text": i.text,
            })).collect::<Vec<_>>(),
            "issues": self.issue_lines(),
            "ir": args.ir.then(|| print_function(&self.lifted)),
            "optimized_ir": args.opt.then(|| print_function(&self.optimized)),
            "dot": args.dot.then(|| dot(if args.opt { &self.optimized } else { &self.lifted })),
        })
    }
}

/// The IR CFG as Graphviz dot: one box per block with its instructions.
fn dot(func: &IrFunction) -> String {
    let text = print_function(func);
    let mut labels: Vec<(String, String)> = Vec::new();
    for line in text.lines().skip(1) {
        if line.starts_with("block") {
            let name = line
                .split(['(', ' ', ':'])
                .next()
                .unwrap_or(line)
                .to_string();
            labels.push((name, format!("{line}\\l")));
        } else if let Some((_, label)) = labels.last_mut() {
            if line != "}" {
                label.push_str(&line.replace('\\', "\\\\").replace('"', "\\\""));
                label.push_str("\\l");
            }
        }
    }
    let mut s = format!(
        "digraph \"{}\" {{\n    node [shape=box fontname=monospace];\n",
        func.name
    );
    for (name, label) in &labels {
        let _ = writeln!(s, "    {name} [label=\"{label}\"];");
    }
    let num = vmtrans_ir::print::Numbering::new(func);
    for &b in func.layout() {
        if let Some(t) = &func.block(b).term {
            for d in t.dests() {
                let style = if matches!(t, Terminator::Call { .. }) {
                    " [style=dashed]"
                } else {
                    ""
                };
                let _ = writeln!(s, "    {} -> {}{style};", num.block(b), num.block(d.block));
            }
        }
    }
    s.push_str("}\n");
    s
}
