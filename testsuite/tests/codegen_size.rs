//! Codegen-size regression guard (issue #6): golden host instruction
//! counts for short guest instruction snippets, per guest ISA, like FEX's
//! instruction-count tests.
//!
//! Each snippet is lifted as one guest function (its blocks laid out back
//! to back at [`CODE_BASE`]), optimized with the full pass pipeline and
//! compiled with the JIT for x86-64-v2 (the AOT default, so the counts do
//! not depend on the machine running the test). The emitted code is
//! decoded with iced-x86 and counted. The counts, with the code size in
//! bytes, are compared with `testsuite/codegen/<arch>/sizes.txt`; the host
//! disassembly (addresses of runtime helpers masked) with
//! `testsuite/codegen/<arch>/disasm.txt`. A change that makes generated
//! code longer (or shorter) shows up as a diff of these files in review;
//! `VMTRANS_BLESS=1 cargo test -p vmtrans-testsuite --test codegen_size`
//! rewrites them.
//!
//! Adding a guest ISA: write its snippet table and add an [`IsaSuite`] to
//! [`suites`].

use std::fmt::Write;
use std::sync::Arc;

use iced_x86::{Decoder, DecoderOptions, Formatter, NasmFormatter};
use vmtrans_backends::{CompileOptions, CpuTarget, Jit, JitFunction, SymbolLookup};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_testsuite::{check_golden, suite_dir};
use vmtrans_translator::aarch64::Aarch64Lifter;
use vmtrans_translator::lift::{lift_function, BlockRange, CodeSource};
use vmtrans_translator::riscv64::Riscv64Lifter;
use vmtrans_translator::Lifter;

/// Guest address of a snippet's first instruction.
const CODE_BASE: u64 = 0x1_0000;

/// One guest code snippet.
struct Snippet {
    /// Name in the golden files.
    name: &'static str,
    /// The guest assembly, for the golden file.
    asm: &'static str,
    /// Basic blocks of 32-bit instruction words, back to back from
    /// [`CODE_BASE`]; the first is the entry.
    blocks: &'static [&'static [u32]],
}

/// The snippets of one guest ISA and how to lift them.
struct IsaSuite {
    /// Directory under `testsuite/codegen/`.
    arch: &'static str,
    /// The ISA's lifter.
    lifter: &'static dyn Lifter,
    /// Its snippets.
    snippets: &'static [Snippet],
}

/// Every guest ISA with a snippet table.
fn suites() -> Vec<IsaSuite> {
    vec![
        IsaSuite {
            arch: "riscv64",
            lifter: &Riscv64Lifter,
            snippets: RISCV64,
        },
        IsaSuite {
            arch: "aarch64",
            lifter: &Aarch64Lifter,
            snippets: AARCH64,
        },
    ]
}

/// riscv64 snippets (encodings from riscv64-linux-gnu-as).
const RISCV64: &[Snippet] = &[
    Snippet { name: "add", asm: "add a0, a1, a2", blocks: &[&[0x00c5_8533]] },
    Snippet { name: "addi", asm: "addi a0, a1, 42", blocks: &[&[0x02a5_8513]] },
    Snippet { name: "addw", asm: "addw a0, a1, a2", blocks: &[&[0x00c5_853b]] },
    Snippet {
        name: "lui_addi",
        asm: "lui a0, 0x12345; addi a0, a0, 0x678",
        blocks: &[&[0x1234_5537, 0x6785_0513]],
    },
    Snippet { name: "lw", asm: "lw a0, 8(a1)", blocks: &[&[0x0085_a503]] },
    Snippet { name: "sw", asm: "sw a0, 8(a1)", blocks: &[&[0x00a5_a423]] },
    Snippet { name: "ld", asm: "ld a0, 16(sp)", blocks: &[&[0x0101_3503]] },
    Snippet { name: "sd", asm: "sd a0, 16(sp)", blocks: &[&[0x00a1_3823]] },
    Snippet { name: "lbu", asm: "lbu a0, 0(a1)", blocks: &[&[0x0005_c503]] },
    Snippet {
        name: "table_lookup",
        asm: "andi a1, a1, 255; slli a1, a1, 2; lui a0, 0x77; add a0, a0, a1; lw a0, 1024(a0)",
        blocks: &[&[0x0ff5_f593, 0x0025_9593, 0x0007_7537, 0x00b5_0533, 0x4005_2503]],
    },
    // A sign-extended 32-bit index: only the base is masked, the index
    // is added after the mask (`base_plus_index`).
    Snippet {
        name: "lw_sext_index",
        asm: "sext.w a2, a2; slli a2, a2, 2; add a2, a1, a2; lw a0, 0(a2)",
        blocks: &[&[0x0006_061b, 0x0026_1613, 0x00c5_8633, 0x0006_2503]],
    },
    Snippet { name: "slli", asm: "slli a0, a1, 3", blocks: &[&[0x0035_9513]] },
    Snippet { name: "sh1add", asm: "sh1add a0, a1, a2", blocks: &[&[0x20c5_a533]] },
    Snippet { name: "mul", asm: "mul a0, a1, a2", blocks: &[&[0x02c5_8533]] },
    Snippet { name: "div", asm: "div a0, a1, a2", blocks: &[&[0x02c5_c533]] },
    Snippet { name: "remu", asm: "remu a0, a1, a2", blocks: &[&[0x02c5_f533]] },
    Snippet {
        name: "branch_pair",
        asm: "bge a0, a1, 1f; mv a0, a1; 1: addi a0, a0, 1",
        blocks: &[&[0x00b5_5463], &[0x0005_8513], &[0x0015_0513]],
    },
    Snippet { name: "fadd.d", asm: "fadd.d fa0, fa1, fa2", blocks: &[&[0x02c5_f553]] },
    Snippet {
        name: "fmadd.d",
        asm: "fmadd.d fa0, fa1, fa2, fa3",
        blocks: &[&[0x6ac5_f543]],
    },
    Snippet {
        name: "fcvt.l.d",
        asm: "fcvt.l.d a0, fa0, rtz",
        blocks: &[&[0xc225_1553]],
    },
    Snippet { name: "fcvt.d.l", asm: "fcvt.d.l fa0, a0", blocks: &[&[0xd225_7553]] },
    Snippet { name: "fld", asm: "fld fa0, 8(a1)", blocks: &[&[0x0085_b507]] },
    Snippet {
        name: "amoadd.w",
        asm: "amoadd.w a0, a1, (a2)",
        blocks: &[&[0x00b6_252f]],
    },
    Snippet {
        name: "amoadd.d.aqrl",
        asm: "amoadd.d.aqrl a0, a1, (a2)",
        blocks: &[&[0x06b6_352f]],
    },
    Snippet {
        name: "lr_sc_loop",
        asm: "1: lr.d a0, (a1); bne a0, a2, 2f; sc.d a3, a4, (a1); bnez a3, 1b; 2:",
        blocks: &[&[0x1005_b52f, 0x00c5_1663], &[0x18e5_b6af, 0xfe06_9ae3]],
    },
    Snippet { name: "jal_call", asm: "jal ra, +0x200", blocks: &[&[0x2000_00ef]] },
    Snippet { name: "ret", asm: "ret", blocks: &[&[0x0000_8067]] },
    Snippet { name: "jalr_call", asm: "jalr a0", blocks: &[&[0x0005_00e7]] },
    Snippet {
        name: "sum_loop",
        asm: "li t1, 0; 1: lw t0, 0(a0); addw t1, t1, t0; addi a0, a0, 4; addi a1, a1, -1; bnez a1, 1b; mv a0, t1; ret",
        blocks: &[
            &[0x0000_0313],
            &[0x0005_2283, 0x0053_033b, 0x0045_0513, 0xfff5_8593, 0xfe05_98e3],
            &[0x0003_0513, 0x0000_8067],
        ],
    },
];

/// aarch64 snippets (encodings from aarch64-linux-gnu-as).
const AARCH64: &[Snippet] = &[
    Snippet { name: "add", asm: "add x0, x1, x2", blocks: &[&[0x8b02_0020]] },
    Snippet { name: "add_lsl", asm: "add x0, x1, x2, lsl #3", blocks: &[&[0x8b02_0c20]] },
    Snippet { name: "ldr", asm: "ldr x0, [x1, #16]", blocks: &[&[0xf940_0820]] },
    Snippet { name: "str_sp", asm: "str x0, [sp, #16]", blocks: &[&[0xf900_0be0]] },
    Snippet { name: "ldp", asm: "ldp x0, x1, [sp, #16]", blocks: &[&[0xa941_07e0]] },
    Snippet {
        name: "ldr_indexed",
        asm: "ldr w0, [x1, x2, lsl #2]",
        blocks: &[&[0xb862_7820]],
    },
    Snippet {
        name: "ldr_sxtw",
        asm: "ldr w0, [x1, w2, sxtw #2]",
        blocks: &[&[0xb862_d820]],
    },
    Snippet {
        name: "cmp_branch",
        asm: "cmp x0, x1; b.ne 1f; mov x0, x1; 1: add x0, x0, #1",
        blocks: &[&[0xeb01_001f, 0x5400_0041], &[0xaa01_03e0], &[0x9100_0400]],
    },
    Snippet { name: "fadd", asm: "fadd d0, d1, d2", blocks: &[&[0x1e62_2820]] },
    Snippet { name: "fmul", asm: "fmul d0, d1, d2", blocks: &[&[0x1e62_0820]] },
    Snippet { name: "fdiv", asm: "fdiv d0, d1, d2", blocks: &[&[0x1e62_1820]] },
    Snippet { name: "fsqrt", asm: "fsqrt d0, d1", blocks: &[&[0x1e61_c020]] },
    Snippet { name: "fmadd", asm: "fmadd d0, d1, d2, d3", blocks: &[&[0x1f42_0c20]] },
    Snippet {
        name: "fcmp_cset",
        asm: "fcmp d0, d1; cset w0, mi",
        blocks: &[&[0x1e61_2000, 0x1a9f_57e0]],
    },
    Snippet { name: "ldr_d", asm: "ldr d0, [x1, #8]", blocks: &[&[0xfd40_0420]] },
    Snippet { name: "str_d", asm: "str d0, [x1, #8]", blocks: &[&[0xfd00_0420]] },
    Snippet { name: "scvtf", asm: "scvtf d0, x0", blocks: &[&[0x9e62_0000]] },
    Snippet { name: "fcvtzs", asm: "fcvtzs x0, d0", blocks: &[&[0x9e78_0000]] },
    Snippet { name: "add_4s", asm: "add v0.4s, v1.4s, v2.4s", blocks: &[&[0x4ea2_8420]] },
    Snippet { name: "fadd_2d", asm: "fadd v0.2d, v1.2d, v2.2d", blocks: &[&[0x4e62_d420]] },
    Snippet {
        name: "ldxr_stxr",
        asm: "ldxr x0, [x1]; stxr w2, x3, [x1]",
        blocks: &[&[0xc85f_7c20, 0xc802_7c23]],
    },
    Snippet { name: "ldadd", asm: "ldadd x0, x1, [x2]", blocks: &[&[0xf820_0041]] },
    Snippet { name: "bl_call", asm: "bl .+0x200", blocks: &[&[0x9400_0080]] },
    Snippet { name: "blr_call", asm: "blr x0", blocks: &[&[0xd63f_0000]] },
    Snippet { name: "ret", asm: "ret", blocks: &[&[0xd65f_03c0]] },
    Snippet {
        name: "sum_loop",
        asm: "mov w2, #0; 1: ldr w3, [x0], #4; add w2, w2, w3; subs x1, x1, #1; b.ne 1b; mov w0, w2; ret",
        blocks: &[
            &[0x5280_0002],
            &[0xb840_4403, 0x0b03_0042, 0xf100_0421, 0x54ff_ffa1],
            &[0x2a02_03e0, 0xd65f_03c0],
        ],
    },
];

/// A snippet's code as little-endian bytes.
struct Code(Vec<u8>);

impl CodeSource for Code {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(addr.checked_sub(CODE_BASE)?).ok()?;
        let rest = self.0.get(start..)?;
        Some(&rest[..len.min(rest.len())])
    }
}

/// Lifts and optimizes `s` as one function.
fn lift(lifter: &dyn Lifter, s: &Snippet) -> vmtrans_ir::Function {
    let mut bytes = Vec::new();
    let mut ranges = Vec::new();
    for block in s.blocks {
        let start = CODE_BASE + bytes.len() as u64;
        for w in *block {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        ranges.push(BlockRange {
            start,
            end: CODE_BASE + bytes.len() as u64,
        });
    }
    let (mut f, issues) = lift_function(lifter, &Code(bytes), s.name, CODE_BASE, &ranges);
    assert!(issues.is_empty(), "{}: lift issues {issues:?}", s.name);
    optimize_function(&mut f, &OptOptions::new(OptLevel::Full))
        .unwrap_or_else(|e| panic!("{}: optimize: {e}", s.name));
    f
}

/// Stands in for every runtime helper: the code is only counted, never
/// run.
extern "C" fn never_called() {
    unreachable!("codegen-size code is never run")
}

/// The address every helper call in the generated code targets.
fn helper_address() -> *const u8 {
    never_called as *const u8
}

/// Every runtime helper resolves to [`never_called`].
fn symbols() -> SymbolLookup {
    Arc::new(|_: &str| Some(helper_address()))
}

/// Decodes compiled code: the instruction count, the bytes of
/// instructions, and the listing (offsets from the function start, 64-bit
/// the address of the runtime helpers masked, since it changes from run
/// to run).
///
/// Cranelift puts the function's constant pool after its code; decoding
/// stops at the lowest RIP-relative load target, and the zero padding in
/// front of the pool (with anything decoded across its start) is dropped.
fn disassemble(code: &[u8]) -> (usize, usize, String) {
    let mut decoder = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
    let mut pool = code.len() as u64;
    let mut insns = Vec::new();
    while decoder.can_decode() && decoder.ip() < pool {
        let insn = decoder.decode();
        if insn.is_ip_rel_memory_operand() {
            pool = pool.min(insn.ip_rel_memory_address());
        }
        insns.push(insn);
    }
    let is_padding = |i: &iced_x86::Instruction| {
        let (start, end) = (i.ip() as usize, i.next_ip() as usize);
        code[start..end.min(code.len())].iter().all(|&b| b == 0)
    };
    // Padding before the pool can also decode as an instruction that
    // runs into the pool's first bytes.
    let ends_in_pool = |i: &iced_x86::Instruction| i.next_ip() > pool;
    while insns
        .last()
        .is_some_and(|i| is_padding(i) || ends_in_pool(i))
    {
        insns.pop();
    }
    let mut formatter = NasmFormatter::new();
    formatter.options_mut().set_hex_prefix("0x");
    formatter.options_mut().set_hex_suffix("");
    formatter.options_mut().set_uppercase_hex(false);
    formatter.options_mut().set_branch_leading_zeros(false);
    formatter.options_mut().set_signed_immediate_operands(true);
    let mut listing = String::new();
    for insn in &insns {
        let mut text = String::new();
        formatter.format(insn, &mut text);
        let _ = writeln!(listing, "  {:4x}: {}", insn.ip(), mask_addresses(&text));
    }
    let bytes = insns.last().map_or(0, |i| i.next_ip() as usize);
    (insns.len(), bytes, listing)
}

/// Replaces the address of the runtime helpers (which differs from run
/// to run) with `<helper>`.
fn mask_addresses(text: &str) -> String {
    text.replace(&format!("0x{:x}", helper_address() as usize), "<helper>")
}

/// The host code of a compiled function.
fn code_bytes(f: &JitFunction) -> &[u8] {
    // SAFETY: the JIT placed `f.size` bytes of code at `f.body`, valid
    // while the `Jit` that compiled them lives (it outlives this borrow).
    unsafe { std::slice::from_raw_parts(f.body, f.size) }
}

/// The golden texts of one suite: sizes and disassembly.
fn measure(suite: &IsaSuite) -> (String, String) {
    let opts = CompileOptions {
        cpu: CpuTarget::Baseline,
        ..CompileOptions::default()
    };
    let mut jit = Jit::new(symbols(), opts).expect("host JIT");
    let mut sizes = format!(
        "# {} snippet -> host x86_64 instructions, their bytes (constant pool excluded; x86-64-v2, full IR pipeline).\n\
         # Rewrite with VMTRANS_BLESS=1 cargo test -p vmtrans-testsuite --test codegen_size\n",
        suite.arch
    );
    let mut disasm = String::new();
    for s in suite.snippets {
        let f = lift(suite.lifter, s);
        let compiled = jit
            .compile_batch_info(std::slice::from_ref(&f))
            .unwrap_or_else(|e| panic!("{}: compile: {e}", s.name))
            .remove(0);
        let (count, bytes, listing) = disassemble(code_bytes(&compiled));
        let _ = writeln!(
            sizes,
            "{:<16} {count:>4} insns {bytes:>5} bytes   # {}",
            s.name, s.asm
        );
        let _ = writeln!(disasm, "{}: {}  ({count} insns)\n{listing}", s.name, s.asm);
    }
    (sizes, disasm)
}

#[test]
fn host_instruction_counts_match_the_goldens() {
    let mut failures = Vec::new();
    for suite in suites() {
        let dir = suite_dir().join("codegen").join(suite.arch);
        std::fs::create_dir_all(&dir).expect("golden dir");
        let (sizes, disasm) = measure(&suite);
        for (file, text) in [("sizes.txt", &sizes), ("disasm.txt", &disasm)] {
            if let Err(e) = check_golden(&dir.join(file), text) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn masking_hides_only_the_helper_address() {
    let text = format!("mov rax,0x{:x}; add rax,0x10", helper_address() as usize);
    assert_eq!(mask_addresses(&text), "mov rax,<helper>; add rax,0x10");
}
