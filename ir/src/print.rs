//! The text format: printing.
//!
//! Values and blocks are numbered canonically in layout order (block
//! parameters, then instruction results), so printing is stable and
//! `print(parse(print(f))) == print(f)`. Example:
//!
//! ```text
//! function add_one @0x1000 {
//! block0 @0x1000:
//!     v0 = read_reg.i64 %a0
//!     v1 = iconst.i64 0x1
//!     v2 = iadd.i64 v0, v1
//!     write_reg.i64 %a0, v2
//!     v3 = read_reg.i64 %ra
//!     ret v3
//! }
//! ```

use std::collections::HashMap;
use std::fmt::Write;

use crate::function::{Block, BlockCall, Function, InstData, Module, RegFile, Terminator, Value};
use crate::ops::{Imm, ImmKind, Opcode, Sig};

/// Canonical names of a function's values and blocks.
pub struct Numbering {
    values: HashMap<Value, usize>,
    blocks: HashMap<Block, usize>,
}

impl Numbering {
    /// Numbers the values and blocks of `f` in layout order.
    pub fn new(f: &Function) -> Numbering {
        let mut values = HashMap::new();
        let mut blocks = HashMap::new();
        for (bi, &b) in f.layout().iter().enumerate() {
            blocks.insert(b, bi);
            let data = f.block(b);
            for &p in &data.params {
                let n = values.len();
                values.insert(p, n);
            }
            for &i in &data.insts {
                if let Some(r) = f.inst(i).result {
                    let n = values.len();
                    values.insert(r, n);
                }
            }
        }
        Numbering { values, blocks }
    }

    /// The printed name of `v` (`v7`), or `v?<raw>` for a value that is not
    /// defined in the layout.
    pub fn value(&self, v: Value) -> String {
        match self.values.get(&v) {
            Some(n) => format!("v{n}"),
            None => format!("v?{}", v.0),
        }
    }

    /// The printed name of `b` (`block3`), or `block?<raw>` outside the layout.
    pub fn block(&self, b: Block) -> String {
        match self.blocks.get(&b) {
            Some(n) => format!("block{n}"),
            None => format!("block?{}", b.0),
        }
    }
}

/// Prints a whole module: its register file, then each function.
pub fn print_module(m: &Module) -> String {
    let mut out = print_regfile(&m.regs);
    for f in &m.functions {
        out.push('\n');
        out.push_str(&print_function(f));
    }
    out
}

/// Prints a register file declaration, eight registers a line.
pub fn print_regfile(regs: &RegFile) -> String {
    let mut out = format!("regfile {} {{\n", regs.name);
    for chunk in regs.regs.chunks(8) {
        let line: Vec<String> = chunk
            .iter()
            .map(|r| format!("{}:{}", r.name, r.ty))
            .collect();
        let _ = writeln!(out, "    {}", line.join(" "));
    }
    out.push_str("}\n");
    out
}

/// Prints one function.
pub fn print_function(f: &Function) -> String {
    print_function_annotated(f, &|_| None)
}

/// Prints one function with a comment line `; <pc>: <text>` before the
/// instructions lifted from each guest instruction, where `annotate` gives
/// the text for a guest address (its disassembly). Comments do not change
/// what the parser reads.
pub fn print_function_annotated(f: &Function, annotate: &dyn Fn(u64) -> Option<String>) -> String {
    let num = Numbering::new(f);
    let mut out = format!("function {} @{:#x} {{\n", quoted_name(&f.name), f.entry_pc);
    for &b in f.layout() {
        print_block(f, &num, b, annotate, &mut out);
    }
    out.push_str("}\n");
    out
}

/// A function name as the parser reads it: bare when it is one word, quoted
/// otherwise.
fn quoted_name(name: &str) -> String {
    let bare = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '?'));
    if bare {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

fn print_block(
    f: &Function,
    num: &Numbering,
    b: Block,
    annotate: &dyn Fn(u64) -> Option<String>,
    out: &mut String,
) {
    let data = f.block(b);
    out.push_str(&num.block(b));
    if !data.params.is_empty() {
        let params: Vec<String> = data
            .params
            .iter()
            .map(|&p| format!("{}: {}", num.value(p), f.value_type(p)))
            .collect();
        let _ = write!(out, "({})", params.join(", "));
    }
    if let Some(pc) = data.guest_pc {
        let _ = write!(out, " @{pc:#x}");
    }
    out.push_str(":\n");
    let mut last_loc = None;
    for &i in &data.insts {
        let loc = f.srcloc(i);
        if loc.is_some() && loc != last_loc {
            last_loc = loc;
            if let Some(text) = loc.and_then(annotate) {
                let _ = writeln!(out, "    ; {:#x}: {text}", loc.unwrap_or_default());
            }
        }
        let _ = writeln!(out, "    {}", inst_text(f, num, f.inst(i)));
    }
    match &data.term {
        Some(t) => {
            let _ = writeln!(out, "    {}", terminator_text(num, t));
        }
        None => out.push_str("    ; (no terminator)\n"),
    }
}

/// One instruction as text, with canonical names.
pub fn inst_text(f: &Function, num: &Numbering, inst: &InstData) -> String {
    let mut s = String::new();
    if let Some(r) = inst.result {
        let _ = write!(s, "{} = ", num.value(r));
    }
    s.push_str(inst.op.name());
    if prints_type(inst) {
        let _ = write!(s, ".{}", inst.ty);
    }
    let mut operands: Vec<String> = Vec::new();
    let imm = imm_text(f, &inst.imm);
    let keyword_imm = matches!(
        inst.imm.kind(),
        ImmKind::Cc | ImmKind::Fcc | ImmKind::Rm | ImmKind::Atomic
    );
    if let Some(imm) = &imm {
        if keyword_imm {
            let _ = write!(s, " {imm}");
        } else {
            operands.push(imm.clone());
        }
    }
    operands.extend(inst.args.iter().map(|&a| num.value(a)));
    if !operands.is_empty() {
        let _ = write!(s, " {}", operands.join(", "));
    }
    s
}

/// Whether the controlling type is printed (all but fences and helpers
/// without a result, whose type carries no meaning).
fn prints_type(inst: &InstData) -> bool {
    match inst.op.sig() {
        Sig::Fence => false,
        Sig::Helper => inst.result.is_some(),
        _ => true,
    }
}

fn imm_text(f: &Function, imm: &Imm) -> Option<String> {
    Some(match imm {
        Imm::None => return None,
        Imm::Int(bits) => format!("{bits:#x}"),
        Imm::Cc(cc) => cc.name().to_string(),
        Imm::Fcc(cc) => cc.name().to_string(),
        Imm::Rm(rm) => rm.name().to_string(),
        Imm::Atomic(op) => op.name().to_string(),
        Imm::Reg(r) => match f.regs.regs.get(r.index()) {
            Some(desc) => format!("%{}", desc.name),
            None => format!("%?{}", r.0),
        },
        Imm::Helper(h) => format!("@{}", h.name()),
        Imm::Lane(l) => l.to_string(),
        Imm::Bytes(bytes) => {
            let b: Vec<String> = bytes.iter().map(|b| b.to_string()).collect();
            format!("[{}]", b.join(" "))
        }
    })
}

fn call_text(num: &Numbering, d: &BlockCall) -> String {
    if d.args.is_empty() {
        num.block(d.block)
    } else {
        let args: Vec<String> = d.args.iter().map(|&a| num.value(a)).collect();
        format!("{}({})", num.block(d.block), args.join(", "))
    }
}

/// A terminator as text, with canonical names.
pub fn terminator_text(num: &Numbering, t: &Terminator) -> String {
    match t {
        Terminator::Jump(d) => format!("jump {}", call_text(num, d)),
        Terminator::Brif {
            cond,
            then_dest,
            else_dest,
        } => format!(
            "brif {}, {}, {}",
            num.value(*cond),
            call_text(num, then_dest),
            call_text(num, else_dest)
        ),
        Terminator::Switch {
            index,
            cases,
            default,
        } => {
            let cases: Vec<String> = cases
                .iter()
                .map(|(k, d)| format!("{k:#x}: {}", call_text(num, d)))
                .collect();
            format!(
                "switch {}, {}, [{}]",
                num.value(*index),
                call_text(num, default),
                cases.join(", ")
            )
        }
        Terminator::Call {
            target,
            return_pc,
            cont,
        } => format!(
            "call {}, {return_pc:#x}, {}",
            num.value(*target),
            call_text(num, cont)
        ),
        Terminator::Return { pc } => format!("ret {}", num.value(*pc)),
        Terminator::Exit { pc } => format!("exit {}", num.value(*pc)),
        Terminator::Trap { kind, pc } => format!("trap {kind} {pc:#x}"),
    }
}

/// Text of an op for messages (`iadd.i64`).
pub fn op_text(op: Opcode, inst: &InstData) -> String {
    if prints_type(inst) {
        format!("{op}.{}", inst.ty)
    } else {
        op.to_string()
    }
}
