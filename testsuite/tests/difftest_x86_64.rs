//! Instruction-level differential testing of the x86_64 frontend and the
//! JIT backend against the host CPU (the host is x86_64, so the same bytes
//! run natively).
//!
//! Random straight-line sequences are built from random encodings (legacy
//! prefixes, one- and two-byte opcodes of the integer, bit, shift, cmov,
//! setcc, SSE/SSE2 integer and scalar-float groups, random ModRM and
//! immediates), kept when iced-x86 decodes them and they touch only the
//! registers the harness allows. Each sequence runs twice from the same
//! random state:
//!
//! - natively, copied into an executable page between a prologue that
//!   loads every general register, RFLAGS, every xmm register and MXCSR
//!   from a state block and an epilogue that stores them back;
//! - through vmtrans: lifted as one guest function, optimized with the
//!   full pipeline and compiled with the JIT.
//!
//! Compared: the 14 general registers in use, CF PF AF ZF SF OF (a flag
//! counts when the last instruction that modified it defined it, per
//! iced-x86's RFLAGS tables; instructions that read a flag left undefined
//! are not generated), all 16 xmm registers and the 256-byte memory
//! block. `rsp` is never touched; `rdi` holds the block's address and is
//! the only memory base (`[rdi + disp8]`), never written. Division,
//! control flow, stack and string instructions are not generated. MXCSR
//! exception flags are not compared (the lifter folds host flags into
//! MXCSR only at `stmxcsr`).
//!
//! `DIFFTEST_SEED` picks the random stream, `DIFFTEST_SEQS` the number of
//! sequences (default 10,000 of 10 instructions: 100,000 instructions).

use std::sync::Arc;

use iced_x86::{
    Decoder, DecoderOptions, Formatter, GasFormatter, InstructionInfoFactory, Mnemonic, OpAccess,
    Register, RflagsBits,
};
use vmtrans_abi::{exit, header, helpers, reg_offset, state_size, Arch};
use vmtrans_backends::{CompileOptions, HostFn, Jit, SymbolLookup};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_translator::lift::{lift_function, BlockRange, CodeSource};
use vmtrans_translator::x86_64::X86_64Lifter;

/// Host and guest address of the memory block (`rdi` holds it).
const MEM_BASE: u64 = 0x3c00_0000;
/// Size of the memory block.
const MEM_SIZE: usize = 256;
/// Guest address of the first sequence.
const CODE_BASE: u64 = 0x50_0000;
/// Distance between the sequences of one batch.
const SLOT: u64 = 0x200;
/// Sequences per JIT batch.
const BATCH: usize = 200;
/// Instructions per sequence.
const SEQ_LEN: usize = 10;

/// The state both sides start from and end in.
#[repr(C, align(16))]
#[derive(Clone, Debug, PartialEq)]
struct State {
    /// rax..r15 in hardware order.
    gpr: [u64; 16],
    /// RFLAGS.
    rflags: u64,
    /// MXCSR.
    mxcsr: u64,
    /// xmm0..xmm15.
    xmm: [u128; 16],
    /// The memory block.
    mem: [u8; MEM_SIZE],
}

/// Offsets in [`State`] for the native prologue/epilogue.
const RFLAGS_OFF: i32 = 128;
const MXCSR_OFF: i32 = 136;
const XMM_OFF: i32 = 144;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// Interesting integers: edges and random bits.
fn random_int(r: &mut Rng) -> u64 {
    match r.below(6) {
        0 => *r.pick(&[
            0,
            1,
            u64::MAX,
            0x8000_0000_0000_0000,
            0x7fff_ffff_ffff_ffff,
            0x80,
            0x8000,
        ]),
        1 => r.below(64),
        2 => r.next() & 0xffff_ffff,
        _ => r.next(),
    }
}

/// Interesting doubles and floats in 64-bit lanes.
fn random_lane(r: &mut Rng) -> u64 {
    match r.below(5) {
        0 => *r.pick(&[
            0,
            0x8000_0000_0000_0000,
            1.0f64.to_bits(),
            (-2.5f64).to_bits(),
            f64::INFINITY.to_bits(),
            f64::NAN.to_bits(),
            1e300f64.to_bits(),
            u64::from(1.5f32.to_bits()) | u64::from(3.0f32.to_bits()) << 32,
        ]),
        1 => (r.next() % 1_000_000) as f64 as u64,
        2 => ((r.next() % 2000) as f64 / 7.0 - 100.0).to_bits(),
        _ => r.next(),
    }
}

fn random_state(r: &mut Rng) -> State {
    let mut gpr: [u64; 16] = std::array::from_fn(|_| random_int(r));
    gpr[4] = 0;
    gpr[7] = MEM_BASE;
    // Status flags and DF = 0; bit 1 reserved; IF set.
    let rflags = 0x202 | (r.next() & 0x8d5);
    let xmm =
        std::array::from_fn(|_| u128::from(random_lane(r)) | u128::from(random_lane(r)) << 64);
    let mut mem = [0u8; MEM_SIZE];
    for b in mem.iter_mut() {
        *b = r.next() as u8;
    }
    State {
        gpr,
        rflags,
        mxcsr: 0x1f80,
        xmm,
        mem,
    }
}

// ---- generation ----

/// Opcode templates: (mandatory prefix, opcode bytes, has ModRM, immediate
/// bytes).
#[rustfmt::skip]
const TEMPLATES: &[(Option<u8>, &[u8], bool, u8)] = &[
    // ALU r/m,r and r,r/m, all sizes; accumulator-immediate forms.
    (None, &[0x00], true, 0), (None, &[0x01], true, 0), (None, &[0x02], true, 0), (None, &[0x03], true, 0),
    (None, &[0x08], true, 0), (None, &[0x09], true, 0), (None, &[0x0a], true, 0), (None, &[0x0b], true, 0),
    (None, &[0x10], true, 0), (None, &[0x11], true, 0), (None, &[0x12], true, 0), (None, &[0x13], true, 0),
    (None, &[0x18], true, 0), (None, &[0x19], true, 0), (None, &[0x1a], true, 0), (None, &[0x1b], true, 0),
    (None, &[0x20], true, 0), (None, &[0x21], true, 0), (None, &[0x22], true, 0), (None, &[0x23], true, 0),
    (None, &[0x28], true, 0), (None, &[0x29], true, 0), (None, &[0x2a], true, 0), (None, &[0x2b], true, 0),
    (None, &[0x30], true, 0), (None, &[0x31], true, 0), (None, &[0x32], true, 0), (None, &[0x33], true, 0),
    (None, &[0x38], true, 0), (None, &[0x39], true, 0), (None, &[0x3a], true, 0), (None, &[0x3b], true, 0),
    (None, &[0x04], false, 1), (None, &[0x05], false, 4), (None, &[0x2c], false, 1), (None, &[0x3d], false, 4),
    // Group 1, test, xchg, mov, lea, imul, cbw/cwd.
    (None, &[0x80], true, 1), (None, &[0x81], true, 4), (None, &[0x83], true, 1),
    (None, &[0x84], true, 0), (None, &[0x85], true, 0), (None, &[0x86], true, 0), (None, &[0x87], true, 0),
    (None, &[0x88], true, 0), (None, &[0x89], true, 0), (None, &[0x8a], true, 0), (None, &[0x8b], true, 0),
    (None, &[0x8d], true, 0), (None, &[0x69], true, 4), (None, &[0x6b], true, 1),
    (None, &[0x98], false, 0), (None, &[0x99], false, 0), (None, &[0xf5], false, 0),
    (None, &[0xf8], false, 0), (None, &[0xf9], false, 0),
    // Shifts and rotates, group 3 (no div), inc/dec.
    (None, &[0xc0], true, 1), (None, &[0xc1], true, 1), (None, &[0xd0], true, 0), (None, &[0xd1], true, 0),
    (None, &[0xd2], true, 0), (None, &[0xd3], true, 0), (None, &[0xf6], true, 0), (None, &[0xf7], true, 0),
    (None, &[0xfe], true, 0), (None, &[0xff], true, 0),
    // cmovcc, setcc, bt*, bsf/bsr, movzx/movsx, bswap, shld/shrd, imul, xadd, cmpxchg.
    (None, &[0x0f, 0x40], true, 0), (None, &[0x0f, 0x42], true, 0), (None, &[0x0f, 0x44], true, 0),
    (None, &[0x0f, 0x46], true, 0), (None, &[0x0f, 0x48], true, 0), (None, &[0x0f, 0x4a], true, 0),
    (None, &[0x0f, 0x4c], true, 0), (None, &[0x0f, 0x4f], true, 0), (None, &[0x0f, 0x47], true, 0),
    (None, &[0x0f, 0x92], true, 0), (None, &[0x0f, 0x94], true, 0), (None, &[0x0f, 0x97], true, 0),
    (None, &[0x0f, 0x9a], true, 0), (None, &[0x0f, 0x9c], true, 0), (None, &[0x0f, 0x9f], true, 0),
    (None, &[0x0f, 0x90], true, 0), (None, &[0x0f, 0x99], true, 0),
    (None, &[0x0f, 0xa3], true, 0), (None, &[0x0f, 0xab], true, 0), (None, &[0x0f, 0xb3], true, 0),
    (None, &[0x0f, 0xbb], true, 0), (None, &[0x0f, 0xba], true, 1),
    (None, &[0x0f, 0xbc], true, 0), (None, &[0x0f, 0xbd], true, 0),
    (None, &[0x0f, 0xb6], true, 0), (None, &[0x0f, 0xb7], true, 0), (None, &[0x0f, 0xbe], true, 0),
    (None, &[0x0f, 0xbf], true, 0), (None, &[0x0f, 0xc8], false, 0), (None, &[0x0f, 0xcb], false, 0),
    (None, &[0x0f, 0xa4], true, 1), (None, &[0x0f, 0xac], true, 1), (None, &[0x0f, 0xa5], true, 0),
    (None, &[0x0f, 0xad], true, 0), (None, &[0x0f, 0xaf], true, 0), (None, &[0x0f, 0xc1], true, 0),
    (None, &[0x0f, 0xb1], true, 0), (None, &[0x63], true, 0),
    (Some(0xf3), &[0x0f, 0xb8], true, 0), (Some(0xf3), &[0x0f, 0xbc], true, 0), (Some(0xf3), &[0x0f, 0xbd], true, 0),
    // SSE2 integer.
    (Some(0x66), &[0x0f, 0xef], true, 0), (Some(0x66), &[0x0f, 0xeb], true, 0), (Some(0x66), &[0x0f, 0xdb], true, 0),
    (Some(0x66), &[0x0f, 0xdf], true, 0), (Some(0x66), &[0x0f, 0xfc], true, 0), (Some(0x66), &[0x0f, 0xfd], true, 0),
    (Some(0x66), &[0x0f, 0xfe], true, 0), (Some(0x66), &[0x0f, 0xd4], true, 0), (Some(0x66), &[0x0f, 0xf8], true, 0),
    (Some(0x66), &[0x0f, 0xfb], true, 0), (Some(0x66), &[0x0f, 0x74], true, 0), (Some(0x66), &[0x0f, 0x75], true, 0),
    (Some(0x66), &[0x0f, 0x76], true, 0), (Some(0x66), &[0x0f, 0x64], true, 0), (Some(0x66), &[0x0f, 0x66], true, 0),
    (Some(0x66), &[0x0f, 0xda], true, 0), (Some(0x66), &[0x0f, 0xde], true, 0), (Some(0x66), &[0x0f, 0xea], true, 0),
    (Some(0x66), &[0x0f, 0xd8], true, 0), (Some(0x66), &[0x0f, 0xdc], true, 0), (Some(0x66), &[0x0f, 0xe0], true, 0),
    (Some(0x66), &[0x0f, 0xd5], true, 0), (Some(0x66), &[0x0f, 0xf4], true, 0), (Some(0x66), &[0x0f, 0x67], true, 0), (Some(0x66), &[0x0f, 0x63], true, 0),
    (Some(0x66), &[0x0f, 0x60], true, 0), (Some(0x66), &[0x0f, 0x61], true, 0), (Some(0x66), &[0x0f, 0x62], true, 0),
    (Some(0x66), &[0x0f, 0x6c], true, 0), (Some(0x66), &[0x0f, 0x68], true, 0), (Some(0x66), &[0x0f, 0x6d], true, 0),
    (Some(0x66), &[0x0f, 0x70], true, 1), (Some(0xf2), &[0x0f, 0x70], true, 1), (Some(0xf3), &[0x0f, 0x70], true, 1),
    (Some(0x66), &[0x0f, 0x73], true, 1), (Some(0x66), &[0x0f, 0x72], true, 1), (Some(0x66), &[0x0f, 0x71], true, 1),
    (Some(0x66), &[0x0f, 0xd7], true, 0), (Some(0x66), &[0x0f, 0x6e], true, 0), (Some(0x66), &[0x0f, 0x7e], true, 0),
    (Some(0x66), &[0x0f, 0xd6], true, 0), (Some(0xf3), &[0x0f, 0x7e], true, 0), (Some(0x66), &[0x0f, 0x6f], true, 0),
    (None, &[0x0f, 0x28], true, 0), (None, &[0x0f, 0x57], true, 0), (None, &[0x0f, 0x54], true, 0),
    (None, &[0x0f, 0xc6], true, 1), (Some(0x66), &[0x0f, 0xc6], true, 1), (None, &[0x0f, 0x14], true, 0),
    (Some(0x66), &[0x0f, 0x15], true, 0), (None, &[0x0f, 0x12], true, 0), (None, &[0x0f, 0x16], true, 0),
    // SSE scalar float, compares, conversions.
    (Some(0xf2), &[0x0f, 0x58], true, 0), (Some(0xf2), &[0x0f, 0x59], true, 0), (Some(0xf2), &[0x0f, 0x5c], true, 0),
    (Some(0xf2), &[0x0f, 0x5e], true, 0), (Some(0xf2), &[0x0f, 0x51], true, 0), (Some(0xf2), &[0x0f, 0x5d], true, 0),
    (Some(0xf2), &[0x0f, 0x5f], true, 0), (Some(0xf3), &[0x0f, 0x58], true, 0), (Some(0xf3), &[0x0f, 0x59], true, 0),
    (Some(0xf3), &[0x0f, 0x5e], true, 0), (Some(0xf3), &[0x0f, 0x5d], true, 0), (Some(0xf3), &[0x0f, 0x5f], true, 0),
    (Some(0x66), &[0x0f, 0x2e], true, 0), (Some(0x66), &[0x0f, 0x2f], true, 0), (None, &[0x0f, 0x2e], true, 0),
    (Some(0xf2), &[0x0f, 0x2a], true, 0), (Some(0xf3), &[0x0f, 0x2a], true, 0), (Some(0xf2), &[0x0f, 0x2c], true, 0),
    (Some(0xf2), &[0x0f, 0x2d], true, 0), (Some(0xf3), &[0x0f, 0x2c], true, 0), (Some(0xf3), &[0x0f, 0x5a], true, 0),
    (Some(0xf2), &[0x0f, 0x5a], true, 0), (Some(0xf2), &[0x0f, 0xc2], true, 1), (None, &[0x0f, 0xc2], true, 1),
    (Some(0xf2), &[0x0f, 0x10], true, 0), (Some(0xf3), &[0x0f, 0x11], true, 0), (Some(0x66), &[0x0f, 0x50], true, 0),
    (Some(0x66), &[0x0f, 0x58], true, 0), (None, &[0x0f, 0x59], true, 0),
];

/// Random bytes for one instruction from a random template.
fn random_encoding(r: &mut Rng) -> Vec<u8> {
    let &(prefix, op, modrm, imm) = r.pick(TEMPLATES);
    let mut b = Vec::new();
    if prefix.is_none() && r.below(4) == 0 {
        b.push(0x66);
    }
    if let Some(p) = prefix {
        b.push(p);
    }
    if r.below(2) == 0 {
        // REX with W, R, X (never B: rm 7 must stay rdi as the base).
        b.push(0x40 | (r.below(8) as u8) << 1 & 0x0e);
    }
    b.extend_from_slice(op);
    if modrm {
        let reg = r.below(8) as u8;
        if r.below(4) == 0 {
            b.push(0x40 | reg << 3 | 7);
            b.push((r.below(7) * 16) as u8);
        } else {
            let rm = r.below(8) as u8;
            b.push(0xc0 | reg << 3 | rm);
        }
    }
    for _ in 0..imm {
        b.push(random_int(r) as u8);
    }
    b
}

/// Registers the generated code may not touch (besides `rdi` as a base).
fn forbidden(reg: Register) -> bool {
    let full = reg.full_register();
    full == Register::RSP || full == Register::RDI || reg == Register::RIP
}

/// The flags a sequence leaves defined, updated by one instruction.
#[derive(Clone, Copy)]
struct FlagState {
    defined: u32,
}

const STATUS: u32 = RflagsBits::OF
    | RflagsBits::SF
    | RflagsBits::ZF
    | RflagsBits::AF
    | RflagsBits::CF
    | RflagsBits::PF;

/// Decodes `bytes` and accepts it for the harness: one valid instruction
/// using only allowed registers, memory only as `[rdi + disp8]`, reading
/// no flag that is undefined at this point, and not excluded by mnemonic.
fn accept(bytes: &[u8], flags: &mut FlagState, info: &mut InstructionInfoFactory) -> Option<usize> {
    let mut d = Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE);
    let insn = d.decode();
    if insn.is_invalid() || insn.len() != bytes.len() {
        return None;
    }
    use Mnemonic as M;
    if matches!(
        insn.mnemonic(),
        M::Div | M::Idiv | M::Push | M::Pop | M::Call | M::Jmp | M::Nop | M::Lea
    ) && insn.mnemonic() != M::Lea
    {
        return None;
    }
    if insn.has_lock_prefix() || insn.mnemonic() == M::Bswap && insn.op0_register().size() == 2 {
        return None;
    }
    let i = info.info(&insn);
    for u in i.used_registers() {
        let written = !matches!(u.access(), OpAccess::Read | OpAccess::CondRead);
        if u.register() == Register::RDI && !written {
            continue;
        }
        if forbidden(u.register()) || u.register().is_segment_register() {
            return None;
        }
    }
    // A bit offset in a register addresses memory anywhere.
    let bit_string = matches!(insn.mnemonic(), M::Bt | M::Bts | M::Btr | M::Btc)
        && insn.op0_kind() == iced_x86::OpKind::Memory
        && insn.op1_kind() == iced_x86::OpKind::Register;
    if bit_string {
        return None;
    }
    for m in i.used_memory() {
        if m.base() != Register::RDI || m.index() != Register::None {
            return None;
        }
    }
    if insn.rflags_read() & STATUS & !flags.defined != 0 {
        return None;
    }
    let mut modified = insn.rflags_modified() & STATUS;
    let mut undefined = insn.rflags_undefined() & STATUS;
    let shift = matches!(
        insn.mnemonic(),
        M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror | M::Rcl | M::Rcr | M::Shld | M::Shrd
    );
    // A shift by cl leaves every flag alone when the masked count is 0:
    // a flag stays defined only if it was and the shift defines it.
    let by_cl = shift
        && (0..insn.op_count()).any(|k| {
            insn.op_kind(k) == iced_x86::OpKind::Register && insn.op_register(k) == Register::CL
        });
    // By an immediate: the SDM leaves OF undefined unless the masked count
    // is 1, and changes no flag when it is 0 (CPUs differ on the
    // undefined OF, e.g. an 8-bit rcl by 9, which rotates by nothing).
    if let Some(count) = shift.then(|| immediate_count(&insn)).flatten() {
        let width_mask = if insn.op0_register().size() == 8 || insn.memory_size().size() == 8 {
            0x3f
        } else {
            0x1f
        };
        match count & width_mask {
            0 => modified = 0,
            1 => {}
            _ => {
                modified |= RflagsBits::OF;
                undefined |= RflagsBits::OF;
            }
        }
    }
    flags.defined = if by_cl {
        flags.defined & !undefined
    } else {
        (flags.defined & !modified) | (modified & !undefined)
    };
    Some(insn.len())
}

/// The count of a shift or rotate by an immediate.
fn immediate_count(insn: &iced_x86::Instruction) -> Option<u64> {
    (0..insn.op_count())
        .find(|&k| insn.op_kind(k) == iced_x86::OpKind::Immediate8)
        .map(|_| insn.immediate8().into())
}

/// A random sequence and the flags it leaves defined.
fn random_sequence(r: &mut Rng) -> (Vec<u8>, u32) {
    let mut info = InstructionInfoFactory::new();
    let mut flags = FlagState { defined: STATUS };
    let mut code = Vec::new();
    let mut n = 0;
    while n < SEQ_LEN {
        let bytes = random_encoding(r);
        let mut trial = flags;
        if accept(&bytes, &mut trial, &mut info).is_some() {
            // The lifter must support it; otherwise skip the candidate.
            if lift_ok(&bytes) {
                flags = trial;
                code.extend_from_slice(&bytes);
                n += 1;
            }
        }
    }
    (code, flags.defined)
}

fn lift_ok(bytes: &[u8]) -> bool {
    let src = Code {
        addr: CODE_BASE,
        bytes,
    };
    let block = BlockRange {
        start: CODE_BASE,
        end: CODE_BASE + bytes.len() as u64,
    };
    let (_, issues) = lift_function(&X86_64Lifter, &src, "probe", CODE_BASE, &[block]);
    issues.is_empty()
}

// ---- native execution ----

/// Machine code: load the state, run `code`, store the state, return.
fn native_code(code: &[u8]) -> Vec<u8> {
    let mut c: Vec<u8> = Vec::new();
    // push rbx, rbp, r12..r15; push rdi (the state pointer).
    c.extend_from_slice(&[
        0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x57,
    ]);
    for i in 0..16u8 {
        // movdqu xmm_i, [rdi + XMM_OFF + 16 i]
        let rex = 0x40 | if i >= 8 { 0x04 } else { 0 };
        c.extend_from_slice(&[0xf3, rex, 0x0f, 0x6f, 0x87 | (i & 7) << 3]);
        c.extend_from_slice(&(XMM_OFF + 16 * i32::from(i)).to_le_bytes());
    }
    // ldmxcsr [rdi + MXCSR_OFF]
    c.extend_from_slice(&[0x0f, 0xae, 0x97]);
    c.extend_from_slice(&MXCSR_OFF.to_le_bytes());
    // push qword [rdi + RFLAGS_OFF]; popfq
    c.extend_from_slice(&[0xff, 0xb7]);
    c.extend_from_slice(&RFLAGS_OFF.to_le_bytes());
    c.push(0x9d);
    for i in (0..16u8).rev() {
        if i == 4 || i == 7 {
            continue;
        }
        // mov reg_i, [rdi + 8 i]
        let rex = 0x48 | if i >= 8 { 0x04 } else { 0 };
        c.extend_from_slice(&[rex, 0x8b, 0x87 | (i & 7) << 3]);
        c.extend_from_slice(&(8 * i32::from(i)).to_le_bytes());
    }
    // mov rdi, [rdi + 56]
    c.extend_from_slice(&[0x48, 0x8b, 0xbf]);
    c.extend_from_slice(&56i32.to_le_bytes());
    c.extend_from_slice(code);
    // pushfq; push rdi; mov rdi, [rsp + 16] (the state pointer)
    c.extend_from_slice(&[0x9c, 0x57, 0x48, 0x8b, 0x7c, 0x24, 0x10]);
    // pop qword [rdi + 56]; pop qword [rdi + RFLAGS_OFF]
    c.extend_from_slice(&[0x8f, 0x87]);
    c.extend_from_slice(&56i32.to_le_bytes());
    c.extend_from_slice(&[0x8f, 0x87]);
    c.extend_from_slice(&RFLAGS_OFF.to_le_bytes());
    for i in 0..16u8 {
        if i == 4 || i == 7 {
            continue;
        }
        let rex = 0x48 | if i >= 8 { 0x04 } else { 0 };
        c.extend_from_slice(&[rex, 0x89, 0x87 | (i & 7) << 3]);
        c.extend_from_slice(&(8 * i32::from(i)).to_le_bytes());
    }
    for i in 0..16u8 {
        let rex = 0x40 | if i >= 8 { 0x04 } else { 0 };
        c.extend_from_slice(&[0xf3, rex, 0x0f, 0x7f, 0x87 | (i & 7) << 3]);
        c.extend_from_slice(&(XMM_OFF + 16 * i32::from(i)).to_le_bytes());
    }
    // stmxcsr [rdi + MXCSR_OFF]
    c.extend_from_slice(&[0x0f, 0xae, 0x9f]);
    c.extend_from_slice(&MXCSR_OFF.to_le_bytes());
    // pop rdi; pop r15..r12, rbp, rbx; ret
    c.extend_from_slice(&[
        0x5f, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3,
    ]);
    c
}

/// The memory block at its fixed host address, mapped once.
fn block() -> *mut u8 {
    static BLOCK: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BLOCK.get_or_init(|| {
        // SAFETY: a fresh anonymous mapping at an address nothing else uses.
        let p = unsafe {
            libc::mmap(
                MEM_BASE as *mut libc::c_void,
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        assert_eq!(p as u64, MEM_BASE, "cannot map the memory block");
        p as usize
    }) as *mut u8
}

fn run_native(code: &[u8], start: &State) -> State {
    let bytes = native_code(code);
    // SAFETY: an anonymous RWX mapping we fill and execute; the generated
    // code only touches the state, the block and its own stack pushes.
    unsafe {
        let len = bytes.len().next_multiple_of(4096);
        let page = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(page, libc::MAP_FAILED);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), page.cast::<u8>(), bytes.len());
        let mut s = start.clone();
        let mem = block();
        std::ptr::copy_nonoverlapping(s.mem.as_ptr(), mem, MEM_SIZE);
        let f: extern "C" fn(*mut State) = std::mem::transmute(page);
        f(&mut s);
        std::ptr::copy_nonoverlapping(mem, s.mem.as_mut_ptr(), MEM_SIZE);
        libc::munmap(page, len);
        s
    }
}

// ---- vmtrans ----

struct Code<'a> {
    addr: u64,
    bytes: &'a [u8],
}

impl CodeSource for Code<'_> {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = addr.checked_sub(self.addr)? as usize;
        let rest = self.bytes.get(start..)?;
        Some(&rest[..len.min(rest.len())])
    }
}

extern "C" fn rt_unexpected(_: *mut u8) {
    panic!("generated code called a runtime helper the difftest does not provide");
}

extern "C" fn rt_fp_sync_flags(_: *mut u8) {}

fn symbols() -> SymbolLookup {
    Arc::new(|name: &str| {
        let p: *const u8 = match name {
            helpers::FP_SYNC_FLAGS => rt_fp_sync_flags as *const u8,
            helpers::FP_HOST_FLAGS => {
                vmtrans_runtime::helpers::vmtrans_rt_fp_host_flags as *const u8
            }
            helpers::FP_SET_ROUNDING => {
                vmtrans_runtime::helpers::vmtrans_rt_fp_set_rounding as *const u8
            }
            helpers::FP_OP => vmtrans_runtime::fpop::vmtrans_rt_fp_op as *const u8,
            _ => rt_unexpected as *const u8,
        };
        Some(p)
    })
}

fn lift(code: &[u8], addr: u64) -> vmtrans_ir::Function {
    let src = Code { addr, bytes: code };
    let block = BlockRange {
        start: addr,
        end: addr + code.len() as u64,
    };
    let (mut f, issues) = lift_function(
        &X86_64Lifter,
        &src,
        &format!("seq_{addr:x}"),
        addr,
        &[block],
    );
    assert!(issues.is_empty(), "lift issues at {addr:#x}: {issues:?}");
    let opts = OptOptions {
        verify_each: false,
        ..OptOptions::new(OptLevel::Full)
    };
    optimize_function(&mut f, &opts).expect("optimize");
    f
}

/// Register indices in the x86_64 file (see `X86_64_REGS`).
const FLAG_REGS: [(usize, u32); 6] = [(17, 0), (18, 2), (19, 4), (20, 6), (21, 7), (22, 11)];

fn run_jit(f: *const u8, s: &State, addr: u64, code_len: usize) -> State {
    let size = state_size(Arch::X86_64);
    let mut buf = vec![0u128; size.div_ceil(16)];
    let bytes = buf.as_mut_ptr().cast::<u8>();
    let put = |i: usize, v: &[u8]| {
        // SAFETY: the offsets of the contract lie inside the state.
        unsafe {
            std::ptr::copy_nonoverlapping(
                v.as_ptr(),
                bytes.add(reg_offset(Arch::X86_64, i)),
                v.len(),
            )
        };
    };
    for i in 0..16 {
        put(i, &s.gpr[i].to_le_bytes());
        put(30 + i, &s.xmm[i].to_le_bytes());
    }
    for (i, bit) in FLAG_REGS {
        put(i, &[((s.rflags >> bit) & 1) as u8]);
    }
    put(26, &(s.mxcsr as u32).to_le_bytes());
    let mem = block();
    // SAFETY: the block is mapped; the JIT adds guest addresses to `base`.
    unsafe { std::ptr::copy_nonoverlapping(s.mem.as_ptr(), mem, MEM_SIZE) };
    let base = mem.wrapping_sub(MEM_BASE as usize);
    let saved = vmtrans_runtime::helpers::read_mxcsr();
    vmtrans_runtime::helpers::write_mxcsr(0x1f80);
    // SAFETY: `f` is JIT code with the translated-function signature.
    let pc = unsafe {
        let f: HostFn = std::mem::transmute(f);
        f(bytes, base)
    };
    vmtrans_runtime::helpers::write_mxcsr(saved);
    // SAFETY: the header is at the start of the state.
    let reason = unsafe { bytes.add(header::EXIT_REASON).cast::<u64>().read() };
    assert_eq!(
        (reason, pc),
        (exit::JUMP, addr + code_len as u64),
        "must fall through"
    );
    let get = |i: usize, n: usize| {
        let mut b = [0u8; 16];
        // SAFETY: as above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.add(reg_offset(Arch::X86_64, i)), b.as_mut_ptr(), n)
        };
        u128::from_le_bytes(b)
    };
    let mut rflags = 0x202;
    for (i, bit) in FLAG_REGS {
        rflags |= (get(i, 1) as u64 & 1) << bit;
    }
    let mut out = State {
        gpr: std::array::from_fn(|i| get(i, 8) as u64),
        rflags,
        mxcsr: s.mxcsr,
        xmm: std::array::from_fn(|i| get(30 + i, 16)),
        mem: [0; MEM_SIZE],
    };
    // SAFETY: as above.
    unsafe { std::ptr::copy_nonoverlapping(mem, out.mem.as_mut_ptr(), MEM_SIZE) };
    out
}

/// RFLAGS bits of the iced flag set `f`.
fn rflags_mask(f: u32) -> u64 {
    [
        (RflagsBits::CF, 0),
        (RflagsBits::PF, 2),
        (RflagsBits::AF, 4),
        (RflagsBits::ZF, 6),
        (RflagsBits::SF, 7),
        (RflagsBits::OF, 11),
    ]
    .iter()
    .filter(|(b, _)| f & b != 0)
    .fold(0, |acc, (_, bit)| acc | 1 << bit)
}

/// Differences between the native and the vmtrans end states.
fn differences(native: &State, ours: &State, defined: u32) -> Vec<String> {
    let mut d = Vec::new();
    for i in 0..16 {
        if i != 4 && native.gpr[i] != ours.gpr[i] {
            d.push(format!(
                "gpr{i}: native {:#x} ours {:#x}",
                native.gpr[i], ours.gpr[i]
            ));
        }
        if native.xmm[i] != ours.xmm[i] {
            d.push(format!(
                "xmm{i}: native {:#034x} ours {:#034x}",
                native.xmm[i], ours.xmm[i]
            ));
        }
    }
    let m = rflags_mask(defined);
    if native.rflags & m != ours.rflags & m {
        d.push(format!(
            "rflags (mask {m:#x}): native {:#x} ours {:#x}",
            native.rflags & m,
            ours.rflags & m
        ));
    }
    if native.mem != ours.mem {
        d.push("memory block differs".into());
    }
    d
}

fn disasm(code: &[u8]) -> String {
    let mut d = Decoder::with_ip(64, code, CODE_BASE, DecoderOptions::NONE);
    let mut f = GasFormatter::new();
    let mut out = String::new();
    for insn in d.iter() {
        let mut s = String::new();
        f.format(&insn, &mut s);
        out.push_str(&format!("  {s}\n"));
    }
    out
}

#[test]
fn random_sequences_match_native() {
    let seed = std::env::var("DIFFTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let seqs: usize = std::env::var("DIFFTEST_SEQS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let mut r = Rng(seed | 1);
    let mut failures = Vec::new();
    let mut done = 0;
    while done < seqs {
        let n = BATCH.min(seqs - done);
        let cases: Vec<(Vec<u8>, u32, State)> = (0..n)
            .map(|_| {
                let (code, defined) = random_sequence(&mut r);
                (code, defined, random_state(&mut r))
            })
            .collect();
        let fs: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(k, c)| lift(&c.0, CODE_BASE + SLOT * k as u64))
            .collect();
        let mut jit =
            Jit::new(symbols(), on_own_memory(CompileOptions::default())).expect("host JIT");
        let code = jit.compile_batch(&fs).expect("compile batch");
        for (k, ((bytes, defined, state), f)) in cases.iter().zip(code).enumerate() {
            let addr = CODE_BASE + SLOT * k as u64;
            let ours = run_jit(f, state, addr, bytes.len());
            let native = run_native(bytes, state);
            let d = differences(&native, &ours, *defined);
            if !d.is_empty() && failures.len() < 5 {
                failures.push(format!("{}{}", disasm(bytes), d.join("\n")));
            } else if !d.is_empty() {
                failures.push(String::new());
            }
        }
        done += n;
    }
    eprintln!(
        "x86_64 difftest: {} sequences, {} instructions, {} divergent sequences",
        seqs,
        seqs * SEQ_LEN,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} divergent sequences; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
}

/// `opts` for code that runs on this test's own guest memory buffer, not
/// the runtime's reservation at host address 0.
fn on_own_memory(opts: CompileOptions) -> CompileOptions {
    CompileOptions {
        guest_base: vmtrans_abi::GuestBase::Argument,
        ..opts
    }
}
