//! riscv64 instruction decoding: RV64IMAFDC, Zicsr, Zifencei, Zba and Zbb.
//!
//! [`decode`] turns the bytes at a guest address into an [`Insn`]:
//!
//! 1. A 16-bit (RVC) instruction is expanded to the 32-bit instruction it
//!    stands for by the one table in `compressed.rs`; from then on it is
//!    decoded like any 32-bit word (the [`Insn`] keeps `len == 2` and the
//!    16 original bits in `raw`).
//! 2. A 32-bit word is identified (which [`Op`] it is) by the `riscv-decode`
//!    crate for the instructions that crate gets right (`crate_op`), and by
//!    the table `OWN` for everything it lacks.
//! 3. The operands are extracted from the word in one place
//!    (`Insn::from_word`), driven by the op's [`Format`], and the rounding
//!    mode is validated.
//!
//! What `riscv-decode` 0.2.3 lacks or gets wrong (checked by the unit test
//! `riscv_decode_crate_gaps` and measured over real binaries by
//! `translator/tests/riscv64_decode.rs`):
//! - RVC: it only expands `c.lw`, `c.ld`, `c.sw`, `c.sd`, `c.swsp` and
//!   `c.sdsp`; every other compressed instruction is `Unimplemented`, and the
//!   all-zero halfword decodes as `Ok(Illegal)`. It also only looks at a
//!   compressed instruction if the upper 16 bits passed in are zero.
//! - D: nothing at all (`fld`, `fsd`, `fmadd.d`.., all of OP-FP with fmt=D,
//!   `fcvt.s.d`/`fcvt.d.s`, `fmv.x.d`/`fmv.d.x`).
//! - F on RV64: `fcvt.l[u].s` and `fcvt.s.l[u]`.
//! - `fence.tso`, and `fence`/`fence.i` whose reserved fields (fm, rs1, rd,
//!   fence.i's immediate) are non-zero: the ISA says to ignore those fields,
//!   the crate rejects the instruction.
//! - Zba/Zbb: nothing.
//! - Too lax: `jalr` with funct3 != 0, `lr.w`/`lr.d` with rs2 != 0 and every
//!   F instruction with the reserved rounding modes 5 and 6 are accepted;
//!   the privileged `uret`/`sret`/`mret`/`wfi`/`sfence.vma` are decoded
//!   (a user-mode translator must treat them as illegal).
//! - Its operand types carry no rounding mode, aq/rl bits or fence fm.

use std::fmt;

use riscv_decode::Instruction as C;

use super::compressed::{self, Syntax};
use crate::{DecodeError, Flow};

/// Architecture name used in errors.
const ARCH: &str = "riscv64";

/// The encoding of `unimp` (`csrrw zero,cycle,zero`), printed as objdump does.
const UNIMP: u32 = 0xc000_1073;

/// Which register file an operand lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegFile {
    /// Integer registers x0..x31 (x0 reads as zero).
    X,
    /// Floating-point registers f0..f31.
    F,
}

/// The operand shape of an [`Op`]: which [`Insn`] fields are meaningful, in
/// which register file, and how objdump prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `rd,rs1,rs2`, integer registers.
    R,
    /// `rd,rs1`, integer unary op (Zbb); the rs2 field is part of the opcode.
    Unary,
    /// `rd,rs1,imm` with a sign-extended 12-bit `imm`.
    I,
    /// `rd,rs1,shamt`; `imm` is the shift amount (0..=63, word shifts 0..=31).
    Shift,
    /// `rd,imm20`; `imm` is the sign-extended 32-bit value `imm20 << 12`.
    U,
    /// `rd,imm(rs1)`: integer load.
    Load,
    /// `rs2,imm(rs1)`: integer store.
    Store,
    /// `fd,imm(rs1)`: FP load (`rd` is an FP register).
    FLoad,
    /// `fs2,imm(rs1)`: FP store (`rs2` is an FP register).
    FStore,
    /// `rs1,rs2,target`; `imm` is the offset from the branch.
    Branch,
    /// `rd,target`; `imm` is the offset from the jump.
    Jal,
    /// `rd,imm(rs1)`.
    Jalr,
    /// `pred,succ`; `imm` is `pred << 4 | succ` (bits I=8, O=4, R=2, W=1).
    Fence,
    /// No operands.
    Bare,
    /// `rd,csr,rs1`.
    Csr,
    /// `rd,csr,uimm`; `imm` is the 5-bit unsigned immediate, `rs1` is 0.
    CsrImm,
    /// `rd,(rs1)`: load-reserved; `aq`/`rl` are meaningful.
    Lr,
    /// `rd,rs2,(rs1)`: store-conditional and AMOs; `aq`/`rl` are meaningful.
    Amo,
    /// `fd,fs1,fs2`, no rounding mode.
    F3,
    /// `fd,fs1,fs2,rm`.
    F3Rm,
    /// `fd,fs1,fs2,fs3,rm` (fused multiply-add).
    F4Rm,
    /// `fd,fs1,rm`.
    F2Rm,
    /// `fd,fs1[,rm]`: exact conversion, `rm` cannot change the result.
    F2Exact,
    /// `rd,fs1,fs2`: FP comparison into an integer register.
    FCmp,
    /// `rd,fs1`: FP register to integer register without rounding.
    FToX,
    /// `rd,fs1,rm`: FP to integer conversion.
    FToXRm,
    /// `fd,rs1`: integer register to FP register without rounding.
    XToF,
    /// `fd,rs1,rm`: integer to FP conversion.
    XToFRm,
    /// `fd,rs1[,rm]`: exact integer to FP conversion.
    XToFExact,
}

impl Format {
    /// The register files of `[rd, rs1, rs2, rs3]`; `None` where the field is
    /// not a register operand (and is 0 in the [`Insn`]).
    pub const fn regs(self) -> [Option<RegFile>; 4] {
        use Format::*;
        const X: Option<RegFile> = Some(RegFile::X);
        const F: Option<RegFile> = Some(RegFile::F);
        const N: Option<RegFile> = None;
        match self {
            R | Amo => [X, X, X, N],
            Unary | I | Shift | Load | Jalr | Csr | Lr => [X, X, N, N],
            U | Jal | CsrImm => [X, N, N, N],
            Store | Branch => [N, X, X, N],
            FLoad => [F, X, N, N],
            FStore => [N, X, F, N],
            Fence | Bare => [N, N, N, N],
            F3 | F3Rm => [F, F, F, N],
            F4Rm => [F, F, F, F],
            F2Rm | F2Exact => [F, F, N, N],
            FCmp => [X, F, F, N],
            FToX | FToXRm => [X, F, N, N],
            XToF | XToFRm | XToFExact => [F, X, N, N],
        }
    }

    /// Whether the instruction has a rounding-mode field ([`Insn::rm`]).
    pub const fn has_rm(self) -> bool {
        use Format::*;
        matches!(
            self,
            F3Rm | F4Rm | F2Rm | F2Exact | FToXRm | XToFRm | XToFExact
        )
    }

    /// Whether the rounding mode cannot affect the result (exact
    /// conversions); objdump then prints it only when it is not `rne`.
    pub const fn is_exact(self) -> bool {
        matches!(self, Format::F2Exact | Format::XToFExact)
    }
}

/// Declares [`Family`] and [`Op`] from one table: each row is a variant,
/// its objdump mnemonic and its [`Format`].
macro_rules! ops {
    ($(
        $(#[$fdoc:meta])*
        $family:ident { $($name:ident = $mnem:literal, $fmt:ident;)* }
    )*) => {
        /// The instruction families [`Op`] is grouped in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Family {
            $($(#[$fdoc])* $family,)*
        }

        /// Every real (non-pseudo) RV64GC + Zba + Zbb instruction. Compressed
        /// instructions are their 32-bit equivalents (`c.addi` is
        /// [`Op::Addi`]); see [`Insn::len`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op {
            $($(
                #[doc = concat!("`", $mnem, "` ([`Family::", stringify!($family),
                                "`], [`Format::", stringify!($fmt), "`])")]
                $name,
            )*)*
        }

        impl Op {
            /// Every op, in declaration order.
            pub const ALL: &'static [Op] = &[$($(Op::$name,)*)*];

            /// The mnemonic objdump prints (AMOs without `.aq`/`.rl`).
            pub const fn mnemonic(self) -> &'static str {
                match self { $($(Op::$name => $mnem,)*)* }
            }

            /// The operand shape.
            pub const fn format(self) -> Format {
                match self { $($(Op::$name => Format::$fmt,)*)* }
            }

            /// The family the op belongs to.
            pub const fn family(self) -> Family {
                match self { $($(Op::$name => Family::$family,)*)* }
            }
        }
    };
}

ops! {
    /// RV64I upper immediates: `lui`, `auipc`.
    Upper {
        Lui = "lui", U;
        Auipc = "auipc", U;
    }
    /// RV64I unconditional jumps, direct and through a register.
    Jump {
        Jal = "jal", Jal;
        Jalr = "jalr", Jalr;
    }
    /// RV64I conditional branches.
    Branch {
        Beq = "beq", Branch;
        Bne = "bne", Branch;
        Blt = "blt", Branch;
        Bge = "bge", Branch;
        Bltu = "bltu", Branch;
        Bgeu = "bgeu", Branch;
    }
    /// RV64I integer loads.
    Load {
        Lb = "lb", Load;
        Lh = "lh", Load;
        Lw = "lw", Load;
        Ld = "ld", Load;
        Lbu = "lbu", Load;
        Lhu = "lhu", Load;
        Lwu = "lwu", Load;
    }
    /// RV64I integer stores.
    Store {
        Sb = "sb", Store;
        Sh = "sh", Store;
        Sw = "sw", Store;
        Sd = "sd", Store;
    }
    /// RV64I register-immediate arithmetic, including the 32-bit (`*w`) forms.
    AluImm {
        Addi = "addi", I;
        Slti = "slti", I;
        Sltiu = "sltiu", I;
        Xori = "xori", I;
        Ori = "ori", I;
        Andi = "andi", I;
        Slli = "slli", Shift;
        Srli = "srli", Shift;
        Srai = "srai", Shift;
        Addiw = "addiw", I;
        Slliw = "slliw", Shift;
        Srliw = "srliw", Shift;
        Sraiw = "sraiw", Shift;
    }
    /// RV64I register-register arithmetic, including the 32-bit (`*w`) forms.
    Alu {
        Add = "add", R;
        Sub = "sub", R;
        Sll = "sll", R;
        Slt = "slt", R;
        Sltu = "sltu", R;
        Xor = "xor", R;
        Srl = "srl", R;
        Sra = "sra", R;
        Or = "or", R;
        And = "and", R;
        Addw = "addw", R;
        Subw = "subw", R;
        Sllw = "sllw", R;
        Srlw = "srlw", R;
        Sraw = "sraw", R;
    }
    /// M: multiply and divide.
    MulDiv {
        Mul = "mul", R;
        Mulh = "mulh", R;
        Mulhsu = "mulhsu", R;
        Mulhu = "mulhu", R;
        Div = "div", R;
        Divu = "divu", R;
        Rem = "rem", R;
        Remu = "remu", R;
        Mulw = "mulw", R;
        Divw = "divw", R;
        Divuw = "divuw", R;
        Remw = "remw", R;
        Remuw = "remuw", R;
    }
    /// Fences (RV64I, Zifencei) and environment calls.
    System {
        Fence = "fence", Fence;
        FenceTso = "fence.tso", Bare;
        FenceI = "fence.i", Bare;
        Ecall = "ecall", Bare;
        Ebreak = "ebreak", Bare;
    }
    /// Zicsr: control and status register access.
    Csr {
        Csrrw = "csrrw", Csr;
        Csrrs = "csrrs", Csr;
        Csrrc = "csrrc", Csr;
        Csrrwi = "csrrwi", CsrImm;
        Csrrsi = "csrrsi", CsrImm;
        Csrrci = "csrrci", CsrImm;
    }
    /// A: load-reserved/store-conditional and atomic memory operations.
    Atomic {
        LrW = "lr.w", Lr;
        ScW = "sc.w", Amo;
        AmoswapW = "amoswap.w", Amo;
        AmoaddW = "amoadd.w", Amo;
        AmoxorW = "amoxor.w", Amo;
        AmoandW = "amoand.w", Amo;
        AmoorW = "amoor.w", Amo;
        AmominW = "amomin.w", Amo;
        AmomaxW = "amomax.w", Amo;
        AmominuW = "amominu.w", Amo;
        AmomaxuW = "amomaxu.w", Amo;
        LrD = "lr.d", Lr;
        ScD = "sc.d", Amo;
        AmoswapD = "amoswap.d", Amo;
        AmoaddD = "amoadd.d", Amo;
        AmoxorD = "amoxor.d", Amo;
        AmoandD = "amoand.d", Amo;
        AmoorD = "amoor.d", Amo;
        AmominD = "amomin.d", Amo;
        AmomaxD = "amomax.d", Amo;
        AmominuD = "amominu.d", Amo;
        AmomaxuD = "amomaxu.d", Amo;
    }
    /// F/D: floating-point loads and stores.
    FloatMem {
        Flw = "flw", FLoad;
        Fsw = "fsw", FStore;
        Fld = "fld", FLoad;
        Fsd = "fsd", FStore;
    }
    /// F/D: arithmetic, fused multiply-add, sign injection, min/max.
    FloatArith {
        FmaddS = "fmadd.s", F4Rm;
        FmsubS = "fmsub.s", F4Rm;
        FnmsubS = "fnmsub.s", F4Rm;
        FnmaddS = "fnmadd.s", F4Rm;
        FaddS = "fadd.s", F3Rm;
        FsubS = "fsub.s", F3Rm;
        FmulS = "fmul.s", F3Rm;
        FdivS = "fdiv.s", F3Rm;
        FsqrtS = "fsqrt.s", F2Rm;
        FsgnjS = "fsgnj.s", F3;
        FsgnjnS = "fsgnjn.s", F3;
        FsgnjxS = "fsgnjx.s", F3;
        FminS = "fmin.s", F3;
        FmaxS = "fmax.s", F3;
        FmaddD = "fmadd.d", F4Rm;
        FmsubD = "fmsub.d", F4Rm;
        FnmsubD = "fnmsub.d", F4Rm;
        FnmaddD = "fnmadd.d", F4Rm;
        FaddD = "fadd.d", F3Rm;
        FsubD = "fsub.d", F3Rm;
        FmulD = "fmul.d", F3Rm;
        FdivD = "fdiv.d", F3Rm;
        FsqrtD = "fsqrt.d", F2Rm;
        FsgnjD = "fsgnj.d", F3;
        FsgnjnD = "fsgnjn.d", F3;
        FsgnjxD = "fsgnjx.d", F3;
        FminD = "fmin.d", F3;
        FmaxD = "fmax.d", F3;
    }
    /// F/D: comparisons and classification (results in integer registers).
    FloatCompare {
        FeqS = "feq.s", FCmp;
        FltS = "flt.s", FCmp;
        FleS = "fle.s", FCmp;
        FclassS = "fclass.s", FToX;
        FeqD = "feq.d", FCmp;
        FltD = "flt.d", FCmp;
        FleD = "fle.d", FCmp;
        FclassD = "fclass.d", FToX;
    }
    /// F/D: conversions and bit-pattern moves between register files.
    FloatConvert {
        FcvtWS = "fcvt.w.s", FToXRm;
        FcvtWuS = "fcvt.wu.s", FToXRm;
        FcvtLS = "fcvt.l.s", FToXRm;
        FcvtLuS = "fcvt.lu.s", FToXRm;
        FcvtSW = "fcvt.s.w", XToFRm;
        FcvtSWu = "fcvt.s.wu", XToFRm;
        FcvtSL = "fcvt.s.l", XToFRm;
        FcvtSLu = "fcvt.s.lu", XToFRm;
        FmvXW = "fmv.x.w", FToX;
        FmvWX = "fmv.w.x", XToF;
        FcvtSD = "fcvt.s.d", F2Rm;
        FcvtDS = "fcvt.d.s", F2Exact;
        FcvtWD = "fcvt.w.d", FToXRm;
        FcvtWuD = "fcvt.wu.d", FToXRm;
        FcvtLD = "fcvt.l.d", FToXRm;
        FcvtLuD = "fcvt.lu.d", FToXRm;
        FcvtDW = "fcvt.d.w", XToFExact;
        FcvtDWu = "fcvt.d.wu", XToFExact;
        FcvtDL = "fcvt.d.l", XToFRm;
        FcvtDLu = "fcvt.d.lu", XToFRm;
        FmvXD = "fmv.x.d", FToX;
        FmvDX = "fmv.d.x", XToF;
    }
    /// Zba: address generation.
    Zba {
        AddUw = "add.uw", R;
        Sh1add = "sh1add", R;
        Sh2add = "sh2add", R;
        Sh3add = "sh3add", R;
        Sh1addUw = "sh1add.uw", R;
        Sh2addUw = "sh2add.uw", R;
        Sh3addUw = "sh3add.uw", R;
        SlliUw = "slli.uw", Shift;
    }
    /// Zbb: basic bit manipulation.
    Zbb {
        Andn = "andn", R;
        Orn = "orn", R;
        Xnor = "xnor", R;
        Clz = "clz", Unary;
        Clzw = "clzw", Unary;
        Ctz = "ctz", Unary;
        Ctzw = "ctzw", Unary;
        Cpop = "cpop", Unary;
        Cpopw = "cpopw", Unary;
        Max = "max", R;
        Maxu = "maxu", R;
        Min = "min", R;
        Minu = "minu", R;
        SextB = "sext.b", Unary;
        SextH = "sext.h", Unary;
        ZextH = "zext.h", Unary;
        Rol = "rol", R;
        Rolw = "rolw", R;
        Ror = "ror", R;
        Rorw = "rorw", R;
        Rori = "rori", Shift;
        Roriw = "roriw", Shift;
        OrcB = "orc.b", Unary;
        Rev8 = "rev8", Unary;
    }
}

/// One decoded instruction, ready for a lifter.
///
/// Register fields hold register numbers 0..=31 in the file given by
/// `op.format().regs()` (integer and FP registers are numbered separately);
/// fields the format does not use are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// The operation (for a compressed instruction, its 32-bit equivalent).
    pub op: Op,
    /// Destination register.
    pub rd: u8,
    /// First source register.
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Third source register (fused multiply-add only).
    pub rs3: u8,
    /// Immediate, sign-extended; its meaning per [`Format`]: offset for
    /// loads, stores, branches and jumps (targets are relative to the
    /// instruction's own address), `imm20 << 12` for `lui`/`auipc`, shift
    /// amount, CSR immediate, or fence `pred << 4 | succ`.
    pub imm: i64,
    /// Rounding mode, when [`Format::has_rm`]: 0 rne, 1 rtz, 2 rdn, 3 rup,
    /// 4 rmm, 7 dynamic (use `frm`); 5 and 6 are rejected by the decoder.
    pub rm: u8,
    /// CSR number (Zicsr ops only).
    pub csr: u16,
    /// Acquire ordering (atomics only).
    pub aq: bool,
    /// Release ordering (atomics only).
    pub rl: bool,
    /// Length in bytes: 2 for a compressed instruction, else 4.
    pub len: u8,
    /// The instruction as fetched: the 16 bits of a compressed instruction,
    /// else the 32-bit word.
    pub raw: u32,
}

/// Decodes the instruction at the start of `bytes`, which sits at guest
/// address `addr`. Errors name the address and the bytes; never panics.
pub fn decode(bytes: &[u8], addr: u64) -> Result<Insn, DecodeError> {
    let &[b0, b1, ..] = bytes else {
        return Err(truncated(addr, bytes.len()));
    };
    let half = u16::from_le_bytes([b0, b1]);
    if half & 0b11 != 0b11 {
        return decode16(half).ok_or_else(|| unknown(addr, &bytes[..2]));
    }
    if half & 0b1_1100 == 0b1_1100 {
        // 48-bit and longer encodings: no standard RV64GC instruction.
        return Err(unknown(addr, &bytes[..2]));
    }
    let &[_, _, b2, b3, ..] = bytes else {
        return Err(truncated(addr, bytes.len()));
    };
    let word = u32::from_le_bytes([b0, b1, b2, b3]);
    decode32(word).ok_or_else(|| unknown(addr, &bytes[..4]))
}

/// Decodes a 16-bit (compressed) instruction through its 32-bit expansion.
pub fn decode16(half: u16) -> Option<Insn> {
    let (word, _form) = compressed::expand(half)?;
    let insn = decode32(word)?;
    Some(Insn {
        len: 2,
        raw: half.into(),
        ..insn
    })
}

/// Decodes a 32-bit instruction word (`None` for anything else, including
/// the 16-bit and longer encodings).
pub fn decode32(word: u32) -> Option<Insn> {
    if word & 0b11 != 0b11 || word & 0b1_1100 == 0b1_1100 {
        return None;
    }
    let op = crate_op(word).or_else(|| own_op(word))?;
    let insn = Insn::from_word(op, word);
    insn.rm_is_valid().then_some(insn)
}

/// An unknown-instruction error.
fn unknown(addr: u64, bytes: &[u8]) -> DecodeError {
    DecodeError::Unknown {
        arch: ARCH,
        addr,
        bytes: bytes.to_vec(),
    }
}

/// A truncated-instruction error.
fn truncated(addr: u64, available: usize) -> DecodeError {
    DecodeError::Truncated {
        arch: ARCH,
        addr,
        available,
    }
}

/// Identifies `word` with the `riscv-decode` crate, where its answer is
/// right. `None` if the crate does not know the word, or knows it as
/// something vmtrans must reject (privileged instructions, the encodings it
/// is too lax about).
fn crate_op(word: u32) -> Option<Op> {
    let insn = riscv_decode::decode(word).ok()?;
    let funct3 = (word >> 12) & 7;
    let rs2 = (word >> 20) & 0x1f;
    match insn {
        // The crate does not check funct3 of JALR nor rs2 of LR.
        C::Jalr(_) if funct3 != 0 => None,
        C::LrW(_) | C::LrD(_) if rs2 != 0 => None,
        _ => crate_op_map(insn),
    }
}

/// The [`Op`] of a `riscv-decode` instruction; `None` for what is outside
/// user-mode RV64GC.
fn crate_op_map(insn: C) -> Option<Op> {
    use Op::*;
    Some(match insn {
        C::Lui(_) => Lui,
        C::Auipc(_) => Auipc,
        C::Jal(_) => Jal,
        C::Jalr(_) => Jalr,
        C::Beq(_) => Beq,
        C::Bne(_) => Bne,
        C::Blt(_) => Blt,
        C::Bge(_) => Bge,
        C::Bltu(_) => Bltu,
        C::Bgeu(_) => Bgeu,
        C::Lb(_) => Lb,
        C::Lh(_) => Lh,
        C::Lw(_) => Lw,
        C::Lbu(_) => Lbu,
        C::Lhu(_) => Lhu,
        C::Lwu(_) => Lwu,
        C::Ld(_) => Ld,
        C::Sb(_) => Sb,
        C::Sh(_) => Sh,
        C::Sw(_) => Sw,
        C::Sd(_) => Sd,
        C::Addi(_) => Addi,
        C::Slti(_) => Slti,
        C::Sltiu(_) => Sltiu,
        C::Xori(_) => Xori,
        C::Ori(_) => Ori,
        C::Andi(_) => Andi,
        C::Slli(_) => Slli,
        C::Srli(_) => Srli,
        C::Srai(_) => Srai,
        C::Add(_) => Add,
        C::Sub(_) => Sub,
        C::Sll(_) => Sll,
        C::Slt(_) => Slt,
        C::Sltu(_) => Sltu,
        C::Xor(_) => Xor,
        C::Srl(_) => Srl,
        C::Sra(_) => Sra,
        C::Or(_) => Or,
        C::And(_) => And,
        C::Mul(_) => Mul,
        C::Mulh(_) => Mulh,
        C::Mulhsu(_) => Mulhsu,
        C::Mulhu(_) => Mulhu,
        C::Div(_) => Div,
        C::Divu(_) => Divu,
        C::Rem(_) => Rem,
        C::Remu(_) => Remu,
        C::Fence(_) => Fence,
        C::FenceI => FenceI,
        C::Ecall => Ecall,
        C::Ebreak => Ebreak,
        C::Csrrw(_) => Csrrw,
        C::Csrrs(_) => Csrrs,
        C::Csrrc(_) => Csrrc,
        C::Csrrwi(_) => Csrrwi,
        C::Csrrsi(_) => Csrrsi,
        C::Csrrci(_) => Csrrci,
        C::Addiw(_) => Addiw,
        C::Slliw(_) => Slliw,
        C::Srliw(_) => Srliw,
        C::Sraiw(_) => Sraiw,
        C::Addw(_) => Addw,
        C::Subw(_) => Subw,
        C::Sllw(_) => Sllw,
        C::Srlw(_) => Srlw,
        C::Sraw(_) => Sraw,
        C::Mulw(_) => Mulw,
        C::Divw(_) => Divw,
        C::Divuw(_) => Divuw,
        C::Remw(_) => Remw,
        C::Remuw(_) => Remuw,
        C::Flw(_) => Flw,
        C::Fsw(_) => Fsw,
        C::Fmadds(_) => FmaddS,
        C::Fmsubs(_) => FmsubS,
        C::Fnmsubs(_) => FnmsubS,
        C::Fnmadds(_) => FnmaddS,
        C::Fadds(_) => FaddS,
        C::Fsubs(_) => FsubS,
        C::Fmuls(_) => FmulS,
        C::Fdivs(_) => FdivS,
        C::Fsqrts(_) => FsqrtS,
        C::Fsgnjs(_) => FsgnjS,
        C::Fsgnjns(_) => FsgnjnS,
        C::Fsgnjxs(_) => FsgnjxS,
        C::Fmins(_) => FminS,
        C::Fmaxs(_) => FmaxS,
        C::Fcvtws(_) => FcvtWS,
        C::Fcvtwus(_) => FcvtWuS,
        C::Fmvxw(_) => FmvXW,
        C::Feqs(_) => FeqS,
        C::Flts(_) => FltS,
        C::Fles(_) => FleS,
        C::Fclasss(_) => FclassS,
        C::Fcvtsw(_) => FcvtSW,
        C::Fcvtswu(_) => FcvtSWu,
        C::Fmvwx(_) => FmvWX,
        C::AmoswapW(_) => AmoswapW,
        C::AmoaddW(_) => AmoaddW,
        C::AmoxorW(_) => AmoxorW,
        C::AmoandW(_) => AmoandW,
        C::AmoorW(_) => AmoorW,
        C::AmominW(_) => AmominW,
        C::AmomaxW(_) => AmomaxW,
        C::AmominuW(_) => AmominuW,
        C::AmomaxuW(_) => AmomaxuW,
        C::LrW(_) => LrW,
        C::ScW(_) => ScW,
        C::AmoswapD(_) => AmoswapD,
        C::AmoaddD(_) => AmoaddD,
        C::AmoxorD(_) => AmoxorD,
        C::AmoandD(_) => AmoandD,
        C::AmoorD(_) => AmoorD,
        C::AmominD(_) => AmominD,
        C::AmomaxD(_) => AmomaxD,
        C::AmominuD(_) => AmominuD,
        C::AmomaxuD(_) => AmomaxuD,
        C::LrD(_) => LrD,
        C::ScD(_) => ScD,
        // Privileged or withdrawn: illegal in user mode.
        C::Uret | C::Sret | C::Mret | C::Wfi | C::SfenceVma(_) => return None,
        // Only produced for compressed input, which never reaches the crate.
        C::Illegal | C::__Nonexhaustive => return None,
    })
}

/// One row of [`OWN`]: `word & mask == bits` identifies `op`.
#[derive(Clone, Copy, Debug)]
struct Row {
    mask: u32,
    bits: u32,
    op: Op,
}

// Major opcodes (bits 6:0).
const OPC_LOAD_FP: u32 = 0x07;
const OPC_MISC_MEM: u32 = 0x0f;
const OPC_OP_IMM: u32 = 0x13;
const OPC_OP_IMM_32: u32 = 0x1b;
const OPC_STORE_FP: u32 = 0x27;
const OPC_OP: u32 = 0x33;
const OPC_OP_32: u32 = 0x3b;
const OPC_MADD: u32 = 0x43;
const OPC_MSUB: u32 = 0x47;
const OPC_NMSUB: u32 = 0x4b;
const OPC_NMADD: u32 = 0x4f;
const OPC_OP_FP: u32 = 0x53;

/// opcode and funct3 fixed (`fld`, `fence`, ...).
const fn f3(opcode: u32, funct3: u32, op: Op) -> Row {
    Row {
        mask: 0x0000_707f,
        bits: funct3 << 12 | opcode,
        op,
    }
}

/// opcode, funct3 and funct7 fixed: R-type.
const fn r(opcode: u32, funct7: u32, funct3: u32, op: Op) -> Row {
    Row {
        mask: 0xfe00_707f,
        bits: funct7 << 25 | funct3 << 12 | opcode,
        op,
    }
}

/// opcode, funct3 and the 12-bit immediate fixed: unary ops (Zbb).
const fn unary(opcode: u32, funct12: u32, funct3: u32, op: Op) -> Row {
    Row {
        mask: 0xfff0_707f,
        bits: funct12 << 20 | funct3 << 12 | opcode,
        op,
    }
}

/// opcode, funct3 and funct6 fixed: 64-bit shift by immediate.
const fn shift64(opcode: u32, funct6: u32, funct3: u32, op: Op) -> Row {
    Row {
        mask: 0xfc00_707f,
        bits: funct6 << 26 | funct3 << 12 | opcode,
        op,
    }
}

/// Fused multiply-add: opcode and the 2-bit fmt fixed.
const fn r4(opcode: u32, fmt: u32, op: Op) -> Row {
    Row {
        mask: 0x0600_007f,
        bits: fmt << 25 | opcode,
        op,
    }
}

/// OP-FP with funct7 fixed, funct3 the rounding mode.
const fn fp(funct7: u32, op: Op) -> Row {
    Row {
        mask: 0xfe00_007f,
        bits: funct7 << 25 | OPC_OP_FP,
        op,
    }
}

/// OP-FP with funct7 and the rs2 field fixed, funct3 the rounding mode.
const fn fp_rs2(funct7: u32, rs2: u32, op: Op) -> Row {
    Row {
        mask: 0xfff0_007f,
        bits: funct7 << 25 | rs2 << 20 | OPC_OP_FP,
        op,
    }
}

/// OP-FP with funct7, rs2 and funct3 fixed.
const fn fp_rs2_f3(funct7: u32, rs2: u32, funct3: u32, op: Op) -> Row {
    Row {
        mask: 0xfff0_707f,
        bits: funct7 << 25 | rs2 << 20 | funct3 << 12 | OPC_OP_FP,
        op,
    }
}

/// Everything `riscv-decode` does not identify, matched in order (the
/// first matching row wins).
const OWN: &[Row] = &[
    // D: loads/stores and fused multiply-add.
    f3(OPC_LOAD_FP, 3, Op::Fld),
    f3(OPC_STORE_FP, 3, Op::Fsd),
    r4(OPC_MADD, 1, Op::FmaddD),
    r4(OPC_MSUB, 1, Op::FmsubD),
    r4(OPC_NMSUB, 1, Op::FnmsubD),
    r4(OPC_NMADD, 1, Op::FnmaddD),
    // D: OP-FP.
    fp(0x01, Op::FaddD),
    fp(0x05, Op::FsubD),
    fp(0x09, Op::FmulD),
    fp(0x0d, Op::FdivD),
    fp_rs2(0x2d, 0, Op::FsqrtD),
    r(OPC_OP_FP, 0x11, 0, Op::FsgnjD),
    r(OPC_OP_FP, 0x11, 1, Op::FsgnjnD),
    r(OPC_OP_FP, 0x11, 2, Op::FsgnjxD),
    r(OPC_OP_FP, 0x15, 0, Op::FminD),
    r(OPC_OP_FP, 0x15, 1, Op::FmaxD),
    fp_rs2(0x20, 1, Op::FcvtSD),
    fp_rs2(0x21, 0, Op::FcvtDS),
    r(OPC_OP_FP, 0x51, 2, Op::FeqD),
    r(OPC_OP_FP, 0x51, 1, Op::FltD),
    r(OPC_OP_FP, 0x51, 0, Op::FleD),
    fp_rs2_f3(0x71, 0, 1, Op::FclassD),
    fp_rs2_f3(0x71, 0, 0, Op::FmvXD),
    fp_rs2_f3(0x79, 0, 0, Op::FmvDX),
    fp_rs2(0x61, 0, Op::FcvtWD),
    fp_rs2(0x61, 1, Op::FcvtWuD),
    fp_rs2(0x61, 2, Op::FcvtLD),
    fp_rs2(0x61, 3, Op::FcvtLuD),
    fp_rs2(0x69, 0, Op::FcvtDW),
    fp_rs2(0x69, 1, Op::FcvtDWu),
    fp_rs2(0x69, 2, Op::FcvtDL),
    fp_rs2(0x69, 3, Op::FcvtDLu),
    // F: the RV64-only conversions.
    fp_rs2(0x60, 2, Op::FcvtLS),
    fp_rs2(0x60, 3, Op::FcvtLuS),
    fp_rs2(0x68, 2, Op::FcvtSL),
    fp_rs2(0x68, 3, Op::FcvtSLu),
    // MISC-MEM: fence.tso (fm=1000, pred=succ=rw), then fences whose
    // reserved fields are set, which the ISA says to execute as plain fences.
    Row {
        mask: 0xfff0_707f,
        bits: 0x8330_000f,
        op: Op::FenceTso,
    },
    f3(OPC_MISC_MEM, 0, Op::Fence),
    f3(OPC_MISC_MEM, 1, Op::FenceI),
    // Zba.
    r(OPC_OP_32, 0x04, 0, Op::AddUw),
    r(OPC_OP, 0x10, 2, Op::Sh1add),
    r(OPC_OP, 0x10, 4, Op::Sh2add),
    r(OPC_OP, 0x10, 6, Op::Sh3add),
    r(OPC_OP_32, 0x10, 2, Op::Sh1addUw),
    r(OPC_OP_32, 0x10, 4, Op::Sh2addUw),
    r(OPC_OP_32, 0x10, 6, Op::Sh3addUw),
    shift64(OPC_OP_IMM_32, 0x02, 1, Op::SlliUw),
    // Zbb.
    r(OPC_OP, 0x20, 7, Op::Andn),
    r(OPC_OP, 0x20, 6, Op::Orn),
    r(OPC_OP, 0x20, 4, Op::Xnor),
    unary(OPC_OP_IMM, 0x600, 1, Op::Clz),
    unary(OPC_OP_IMM, 0x601, 1, Op::Ctz),
    unary(OPC_OP_IMM, 0x602, 1, Op::Cpop),
    unary(OPC_OP_IMM, 0x604, 1, Op::SextB),
    unary(OPC_OP_IMM, 0x605, 1, Op::SextH),
    unary(OPC_OP_IMM_32, 0x600, 1, Op::Clzw),
    unary(OPC_OP_IMM_32, 0x601, 1, Op::Ctzw),
    unary(OPC_OP_IMM_32, 0x602, 1, Op::Cpopw),
    unary(OPC_OP_32, 0x080, 4, Op::ZextH),
    r(OPC_OP, 0x05, 6, Op::Max),
    r(OPC_OP, 0x05, 7, Op::Maxu),
    r(OPC_OP, 0x05, 4, Op::Min),
    r(OPC_OP, 0x05, 5, Op::Minu),
    r(OPC_OP, 0x30, 1, Op::Rol),
    r(OPC_OP, 0x30, 5, Op::Ror),
    r(OPC_OP_32, 0x30, 1, Op::Rolw),
    r(OPC_OP_32, 0x30, 5, Op::Rorw),
    shift64(OPC_OP_IMM, 0x18, 5, Op::Rori),
    r(OPC_OP_IMM_32, 0x30, 5, Op::Roriw),
    unary(OPC_OP_IMM, 0x287, 5, Op::OrcB),
    unary(OPC_OP_IMM, 0x6b8, 5, Op::Rev8),
];

/// Identifies `word` with [`OWN`].
fn own_op(word: u32) -> Option<Op> {
    OWN.iter().find(|r| word & r.mask == r.bits).map(|r| r.op)
}

/// Sign-extends the low `bits` bits of `value`.
const fn sext(value: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value as u64) << shift) as i64 >> shift
}

/// I-type immediate.
const fn imm_i(w: u32) -> i64 {
    sext(w >> 20, 12)
}

/// S-type immediate.
const fn imm_s(w: u32) -> i64 {
    sext((w >> 25) << 5 | (w >> 7) & 0x1f, 12)
}

/// B-type immediate (branch offset).
const fn imm_b(w: u32) -> i64 {
    let v =
        (w >> 31) << 12 | ((w >> 7) & 1) << 11 | ((w >> 25) & 0x3f) << 5 | ((w >> 8) & 0xf) << 1;
    sext(v, 13)
}

/// U-type immediate (`imm20 << 12`, sign-extended).
const fn imm_u(w: u32) -> i64 {
    sext(w & 0xffff_f000, 32)
}

/// J-type immediate (jump offset).
const fn imm_j(w: u32) -> i64 {
    let v = (w >> 31) << 20 | w & 0x000f_f000 | ((w >> 20) & 1) << 11 | ((w >> 21) & 0x3ff) << 1;
    sext(v, 21)
}

impl Insn {
    /// Extracts the operands of `word`, identified as `op`, as its
    /// [`Format`] says.
    fn from_word(op: Op, word: u32) -> Insn {
        let format = op.format();
        let field = |lo: u32| ((word >> lo) & 0x1f) as u8;
        let [rd, rs1, rs2, rs3] = format.regs();
        let imm = match format {
            Format::I | Format::Load | Format::FLoad | Format::Jalr => imm_i(word),
            Format::Store | Format::FStore => imm_s(word),
            Format::Branch => imm_b(word),
            Format::U => imm_u(word),
            Format::Jal => imm_j(word),
            Format::Shift => i64::from((word >> 20) & 0x3f),
            Format::Fence => i64::from((word >> 20) & 0xff),
            Format::CsrImm => i64::from(field(15)),
            _ => 0,
        };
        let csr_op = matches!(format, Format::Csr | Format::CsrImm);
        let atomic = matches!(format, Format::Lr | Format::Amo);
        Insn {
            op,
            rd: if rd.is_some() { field(7) } else { 0 },
            rs1: if rs1.is_some() { field(15) } else { 0 },
            rs2: if rs2.is_some() { field(20) } else { 0 },
            rs3: if rs3.is_some() { field(27) } else { 0 },
            imm,
            rm: if format.has_rm() { field(12) & 7 } else { 0 },
            csr: if csr_op { (word >> 20) as u16 } else { 0 },
            aq: atomic && word & (1 << 26) != 0,
            rl: atomic && word & (1 << 25) != 0,
            len: 4,
            raw: word,
        }
    }

    /// Whether the rounding mode (if any) is not one of the reserved 5, 6.
    fn rm_is_valid(&self) -> bool {
        !self.op.format().has_rm() || !matches!(self.rm, 5 | 6)
    }

    /// Whether this is a 16-bit (compressed) instruction.
    pub fn is_compressed(&self) -> bool {
        self.len == 2
    }

    /// The target of a direct jump or branch at `addr`.
    pub fn target(&self, addr: u64) -> Option<u64> {
        match self.op.format() {
            Format::Jal | Format::Branch => Some(addr.wrapping_add(self.imm as u64)),
            _ => None,
        }
    }

    /// What the instruction at `addr` does to control flow.
    ///
    /// `jal` with rd = x0 is a jump, with any other rd a call. `jalr` with
    /// rd = x0 is a return when it jumps to offset 0 of a link register (ra,
    /// or t0, the alternate link register of millicode calls), otherwise an
    /// indirect jump; with any other rd it is an indirect call. `ebreak` and
    /// CSR writes that always trap (`unimp`) stop the path.
    pub fn flow(&self, addr: u64) -> Flow {
        let target = addr.wrapping_add(self.imm as u64);
        match self.op {
            Op::Jal if self.rd == 0 => Flow::Jump(target),
            Op::Jal => Flow::Call(target),
            Op::Jalr if self.rd != 0 => Flow::IndirectCall,
            Op::Jalr if matches!(self.rs1, 1 | 5) && self.imm == 0 => Flow::Return,
            Op::Jalr => Flow::IndirectJump,
            _ if self.op.format() == Format::Branch => Flow::Branch(target),
            Op::Ecall => Flow::Syscall,
            Op::Ebreak => Flow::Stop,
            _ if self.writes_read_only_csr() => Flow::Stop,
            _ => Flow::Next,
        }
    }

    /// Whether this is a CSR instruction that writes a read-only CSR (CSR
    /// number bits 11:10 = 11), which always raises illegal-instruction.
    fn writes_read_only_csr(&self) -> bool {
        let writes = match self.op {
            Op::Csrrw | Op::Csrrwi => true,
            Op::Csrrs | Op::Csrrc => self.rs1 != 0,
            Op::Csrrsi | Op::Csrrci => self.imm != 0,
            _ => return false,
        };
        writes && self.csr >> 10 == 0b11
    }

    /// objdump-style (`-M no-aliases`) disassembly of the instruction at
    /// `addr`, e.g. `c.addi16sp\tsp,-192`.
    pub fn display(&self, addr: u64) -> Disasm<'_> {
        Disasm { insn: self, addr }
    }

    /// [`Insn::display`] as a `String`.
    pub fn text(&self, addr: u64) -> String {
        self.display(addr).to_string()
    }
}

/// Disassembly of an [`Insn`] at an address; see [`Insn::display`].
#[derive(Clone, Copy, Debug)]
pub struct Disasm<'a> {
    insn: &'a Insn,
    addr: u64,
}

impl fmt::Display for Disasm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (insn, addr) = (self.insn, self.addr);
        if insn.is_compressed() {
            if let Some(form) = compressed::form(insn.raw as u16) {
                let ops = compressed_operands(insn, form.syntax, addr);
                return write_parts(f, form.name, "", &ops);
            }
        }
        if insn.raw == UNIMP {
            return f.write_str("unimp");
        }
        let suffix = match (insn.aq, insn.rl) {
            (false, false) => "",
            (true, false) => ".aq",
            (false, true) => ".rl",
            (true, true) => ".aqrl",
        };
        write_parts(f, insn.op.mnemonic(), suffix, &operands(insn, addr))
    }
}

/// Writes `mnemonic suffix \t operands` (no tab without operands).
fn write_parts(f: &mut fmt::Formatter<'_>, mnemonic: &str, suffix: &str, ops: &str) -> fmt::Result {
    write!(f, "{mnemonic}{suffix}")?;
    if ops.is_empty() {
        Ok(())
    } else {
        write!(f, "\t{ops}")
    }
}

/// ABI names of the integer registers.
const X_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// ABI names of the FP registers.
const F_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// Rounding-mode names; 5 and 6 are reserved.
const RM_NAMES: [&str; 8] = ["rne", "rtz", "rdn", "rup", "rmm", "5", "6", "dyn"];

/// ABI name of integer register `r`.
fn x(r: u8) -> &'static str {
    X_NAMES[usize::from(r & 31)]
}

/// ABI name of FP register `r`.
fn fr(r: u8) -> &'static str {
    F_NAMES[usize::from(r & 31)]
}

/// Name of register `r` in `file`.
fn reg(file: Option<RegFile>, r: u8) -> &'static str {
    match file {
        Some(RegFile::F) => fr(r),
        _ => x(r),
    }
}

/// `,rm` as objdump prints it: omitted for the default (`dyn`, or `rne` for
/// exact conversions).
fn rm_suffix(insn: &Insn) -> String {
    let format = insn.op.format();
    let default = if format.is_exact() { 0 } else { 7 };
    if !format.has_rm() || insn.rm == default {
        String::new()
    } else {
        format!(",{}", RM_NAMES[usize::from(insn.rm & 7)])
    }
}

/// Fence set `iorw` letters; `0` for the empty set.
fn fence_set(bits: i64) -> String {
    let set: String = "iorw"
        .chars()
        .enumerate()
        .filter(|(i, _)| bits & (8 >> i) != 0)
        .map(|(_, c)| c)
        .collect();
    if set.is_empty() {
        "0".into()
    } else {
        set
    }
}

/// Name of CSR `csr`, or its number in hex. Only the unprivileged CSRs are
/// named; user-mode code cannot access the others.
fn csr_name(csr: u16) -> String {
    let name = match csr {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x008 => "vstart",
        0x009 => "vxsat",
        0x00a => "vxrm",
        0x00f => "vcsr",
        0x015 => "seed",
        0xc00 => "cycle",
        0xc01 => "time",
        0xc02 => "instret",
        0xc20 => "vl",
        0xc21 => "vtype",
        0xc22 => "vlenb",
        0xc80 => "cycleh",
        0xc81 => "timeh",
        0xc82 => "instreth",
        0xc03..=0xc1f => return format!("hpmcounter{}", csr - 0xc00),
        0xc83..=0xc9f => return format!("hpmcounter{}h", csr - 0xc80),
        _ => return format!("{csr:#x}"),
    };
    name.into()
}

/// The operands of a 32-bit instruction (or a compressed one printed in
/// full), objdump style.
fn operands(insn: &Insn, addr: u64) -> String {
    use Format::*;
    let format = insn.op.format();
    let [rd, rs1, rs2, rs3] = format.regs();
    let (d, s1, s2, s3) = (
        reg(rd, insn.rd),
        reg(rs1, insn.rs1),
        reg(rs2, insn.rs2),
        reg(rs3, insn.rs3),
    );
    let imm = insn.imm;
    let rm = rm_suffix(insn);
    let target = addr.wrapping_add(imm as u64);
    match format {
        R | F3 | FCmp => format!("{d},{s1},{s2}"),
        Unary | FToX | XToF => format!("{d},{s1}"),
        I => format!("{d},{s1},{imm}"),
        Shift => format!("{d},{s1},{imm:#x}"),
        U => format!("{d},{:#x}", (imm >> 12) & 0xf_ffff),
        Load | FLoad | Jalr => format!("{d},{imm}({s1})"),
        Store | FStore => format!("{s2},{imm}({s1})"),
        Branch => format!("{s1},{s2},{target:x}"),
        Jal => format!("{d},{target:x}"),
        Fence => format!("{},{}", fence_set(imm >> 4), fence_set(imm & 0xf)),
        Bare => String::new(),
        Csr => format!("{d},{},{s1}", csr_name(insn.csr)),
        CsrImm => format!("{d},{},{imm}", csr_name(insn.csr)),
        Lr => format!("{d},({s1})"),
        Amo => format!("{d},{s2},({s1})"),
        F3Rm => format!("{d},{s1},{s2}{rm}"),
        F4Rm => format!("{d},{s1},{s2},{s3}{rm}"),
        F2Rm | F2Exact | FToXRm | XToFRm | XToFExact => format!("{d},{s1}{rm}"),
    }
}

/// The operands of a compressed instruction in its own (shorter) syntax.
fn compressed_operands(insn: &Insn, syntax: Syntax, addr: u64) -> String {
    let (rd, rs1, rs2, imm) = (x(insn.rd), x(insn.rs1), x(insn.rs2), insn.imm);
    let target = addr.wrapping_add(imm as u64);
    match syntax {
        Syntax::Full => operands(insn, addr),
        Syntax::RdImm => format!("{rd},{imm}"),
        Syntax::RdShamt => format!("{rd},{imm:#x}"),
        Syntax::Rd => rd.to_string(),
        Syntax::RdRs2 => format!("{rd},{rs2}"),
        Syntax::Rs1 => rs1.to_string(),
        Syntax::Rs1Target => format!("{rs1},{target:x}"),
        Syntax::Target => format!("{target:x}"),
        Syntax::Bare => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: u64 = 0x1_0000;

    /// Little-endian bytes of an encoding: 2 for RVC, else 4.
    fn bytes(enc: u32) -> Vec<u8> {
        let len = if enc & 3 == 3 { 4 } else { 2 };
        enc.to_le_bytes()[..len].to_vec()
    }

    /// Decodes `enc` at [`ADDR`]; panics on error.
    fn dec(enc: u32) -> Insn {
        decode(&bytes(enc), ADDR).unwrap_or_else(|e| panic!("{enc:#x}: {e}"))
    }

    /// Disassembly of `enc` at [`ADDR`], tab replaced by a space.
    fn text(enc: u32) -> String {
        dec(enc).text(ADDR).replace('\t', " ")
    }

    /// Asserts each `(encoding, text)` pair.
    fn check_texts(cases: &[(u32, &str)]) {
        for &(enc, want) in cases {
            assert_eq!(text(enc), want, "encoding {enc:#010x}");
        }
    }

    /// Whether `enc` fails to decode.
    fn rejected(enc: u32) -> bool {
        decode(&bytes(enc), ADDR).is_err()
    }

    #[test]
    fn op_table_is_consistent() {
        let mut names: Vec<_> = Op::ALL.iter().map(|op| op.mnemonic()).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate mnemonic");
        for row in OWN {
            assert_eq!(row.bits & !row.mask, 0, "{:?}", row.op);
            assert_eq!(row.bits & 3, 3, "{:?}", row.op);
        }
    }

    #[test]
    fn rvc_quadrant0() {
        check_texts(&[
            (0x0040, "c.addi4spn s0,sp,4"),
            (0x1ffc, "c.addi4spn a5,sp,1020"),
            (0x2100, "c.fld fs0,0(a0)"),
            (0x5de8, "c.lw a0,124(a1)"),
            (0x7ef0, "c.ld a2,248(a3)"),
            (0xa708, "c.fsd fa0,8(a4)"),
            (0xc05c, "c.sw a5,4(s0)"),
            (0xe104, "c.sd s1,0(a0)"),
        ]);
        let i = dec(0x1ffc);
        assert_eq!(
            (i.op, i.rd, i.rs1, i.imm, i.len),
            (Op::Addi, 15, 2, 1020, 2)
        );
        let i = dec(0x2100);
        assert_eq!((i.op, i.rd, i.rs1, i.imm), (Op::Fld, 8, 10, 0));
        assert_eq!(i.op.format().regs()[0], Some(RegFile::F));
    }

    #[test]
    fn rvc_quadrant1() {
        check_texts(&[
            (0x0001, "c.addi zero,0"),
            (0x1501, "c.addi a0,-32"),
            (0x35fd, "c.addiw a1,-1"),
            (0x5f81, "c.li t6,-32"),
            (0x7101, "c.addi16sp sp,-512"),
            (0x617d, "c.addi16sp sp,496"),
            (0x7d81, "c.lui s11,0xfffe0"),
            (0x6085, "c.lui ra,0x1"),
            (0x9301, "c.srli a4,0x20"),
            (0x9781, "c.srai a5,0x20"),
            (0x8101, "c.srli64 a0"),
            (0x9801, "c.andi s0,-32"),
            (0x8c05, "c.sub s0,s1"),
            (0x8c25, "c.xor s0,s1"),
            (0x8c45, "c.or s0,s1"),
            (0x8c65, "c.and s0,s1"),
            (0x9c1d, "c.subw s0,a5"),
            (0x9d25, "c.addw a0,s1"),
            (0xa001, "c.j 10000"),
            (0xdd7d, "c.beqz a0,fffe"),
            (0xe089, "c.bnez s1,10002"),
        ]);
        let li = dec(0x5f81);
        assert_eq!((li.op, li.rd, li.rs1, li.imm), (Op::Addi, 31, 0, -32));
    }

    #[test]
    fn rvc_quadrant2() {
        check_texts(&[
            (0x1ffe, "c.slli t6,0x3f"),
            (0x0502, "c.slli64 a0"),
            (0x347e, "c.fldsp fs0,504(sp)"),
            (0x50fe, "c.lwsp ra,252(sp)"),
            (0x757e, "c.ldsp a0,504(sp)"),
            (0x8082, "c.jr ra"),
            (0x852e, "c.mv a0,a1"),
            (0x9002, "c.ebreak"),
            (0x9282, "c.jalr t0"),
            (0x952e, "c.add a0,a1"),
            (0xa42a, "c.fsdsp fa0,8(sp)"),
            (0xdfa2, "c.swsp s0,252(sp)"),
            (0xff86, "c.sdsp ra,504(sp)"),
        ]);
        let mv = dec(0x852e);
        assert_eq!((mv.op, mv.rd, mv.rs1, mv.rs2), (Op::Add, 10, 0, 11));
    }

    #[test]
    fn rvc_stack_and_upper_immediates() {
        // c.addi16sp: nzimm[9|4|6|8:7|5], multiples of 16, -512..=496.
        let i = dec(0x7101);
        assert_eq!((i.op, i.rd, i.rs1, i.imm), (Op::Addi, 2, 2, -512));
        assert_eq!(dec(0x617d).imm, 496);
        assert_eq!(dec(0x6141).imm, 16);
        // c.addi4spn: zero-extended, multiples of 4, up to 1020.
        assert_eq!(dec(0x0040).imm, 4);
        assert_eq!(dec(0x1ffc).imm, 1020);
        // c.lui: nzimm[17:12], sign-extended; imm holds the full value.
        let i = dec(0x7d81);
        assert_eq!((i.op, i.rd, i.imm), (Op::Lui, 27, -0x20000));
        assert_eq!(dec(0x6085).imm, 0x1000);
        assert_eq!(dec(0x60fd).imm, 0x1f000);
    }

    #[test]
    fn shifts_with_large_amounts() {
        check_texts(&[
            (0x03f9_1893, "slli a7,s2,0x3f"),
            (0x020b_1793, "slli a5,s6,0x20"),
            (0x02da_5993, "srli s3,s4,0x2d"),
            (0x421b_5a93, "srai s5,s6,0x21"),
            (0x01f6_961b, "slliw a2,a3,0x1f"),
            (0x6035_d513, "rori a0,a1,0x3"),
            (0x0bf5_951b, "slli.uw a0,a1,0x3f"),
        ]);
        assert_eq!(dec(0x421b_5a93).imm, 33);
        // Word shifts with shamt[5] set are reserved.
        assert!(rejected(0x0206_961b)); // slliw a2,a3,32
        assert!(rejected(0x4206_d61b)); // sraiw a2,a3,32
    }

    #[test]
    fn fences() {
        check_texts(&[
            (0x0ff0_000f, "fence iorw,iorw"),
            (0x0310_000f, "fence rw,w"),
            (0x0840_000f, "fence i,o"),
            (0x0100_000f, "fence w,0"),
            (0x8330_000f, "fence.tso"),
            (0x0000_100f, "fence.i"),
        ]);
        assert_eq!(dec(0x0310_000f).imm, 0x31);
        // Reserved fields are ignored, as the ISA requires.
        assert_eq!(dec(0x0ff5_878f).op, Op::Fence);
        assert_eq!(dec(0xfff5_978f).op, Op::FenceI);
        assert_eq!(dec(0x8ff0_000f).op, Op::Fence); // fm=1000, not rw,rw
    }

    #[test]
    fn csr_ops() {
        check_texts(&[
            (0x0035_9573, "csrrw a0,fcsr,a1"),
            (0x0020_2673, "csrrs a2,frm,zero"),
            (0x0016_b073, "csrrc zero,fflags,a3"),
            (0x0021_d773, "csrrwi a4,frm,3"),
            (0x001f_e073, "csrrsi zero,fflags,31"),
            (0x0030_77f3, "csrrci a5,fcsr,0"),
            (0xc030_2573, "csrrs a0,hpmcounter3,zero"),
            (0x7ff0_22f3, "csrrs t0,0x7ff,zero"),
            (0xc000_1073, "unimp"),
        ]);
        let i = dec(0x001f_e073);
        assert_eq!((i.op, i.rd, i.rs1, i.imm, i.csr), (Op::Csrrsi, 0, 0, 31, 1));
        let i = dec(0x0035_9573);
        assert_eq!((i.op, i.rd, i.rs1, i.csr), (Op::Csrrw, 10, 11, 3));
    }

    #[test]
    fn atomics_with_ordering() {
        check_texts(&[
            (0x1005_a52f, "lr.w a0,(a1)"),
            (0x1405_a52f, "lr.w.aq a0,(a1)"),
            (0x1205_a52f, "lr.w.rl a0,(a1)"),
            (0x1605_a52f, "lr.w.aqrl a0,(a1)"),
            (0x1ed7_262f, "sc.w.aqrl a2,a3,(a4)"),
            (0x04b6_252f, "amoadd.w.aq a0,a1,(a2)"),
            (0x1603_32af, "lr.d.aqrl t0,(t1)"),
            (0x1a84_b3af, "sc.d.rl t2,s0,(s1)"),
            (0xe6b6_352f, "amomaxu.d.aqrl a0,a1,(a2)"),
        ]);
        let i = dec(0x04b6_252f);
        assert_eq!(
            (i.op, i.rd, i.rs1, i.rs2, i.aq, i.rl),
            (Op::AmoaddW, 10, 12, 11, true, false)
        );
        let i = dec(0x1a84_b3af);
        assert_eq!((i.op, i.aq, i.rl), (Op::ScD, false, true));
        assert!(rejected(0x1015_a52f)); // lr.w with rs2 != 0
    }

    #[test]
    fn float_rounding_modes() {
        // fadd.d fa0,fa1,fa2 with rm = 0..=7.
        let base = 0x02c5_8553;
        let want = ["rne", "rtz", "rdn", "rup", "rmm"];
        for (rm, name) in want.iter().enumerate() {
            let enc = base | (rm as u32) << 12;
            assert_eq!(text(enc), format!("fadd.d fa0,fa1,fa2,{name}"));
            assert_eq!(dec(enc).rm, rm as u8);
        }
        assert_eq!(text(base | 7 << 12), "fadd.d fa0,fa1,fa2");
        assert_eq!(dec(base | 7 << 12).rm, 7);
        assert!(rejected(base | 5 << 12));
        assert!(rejected(base | 6 << 12));
        // Single precision (decoded by the crate) is validated too.
        assert!(rejected(0x00c5_d553)); // fadd.s rm=5
        check_texts(&[
            (0x68c5_f543, "fmadd.s fa0,fa1,fa2,fa3"),
            (0x6ac5_c543, "fmadd.d fa0,fa1,fa2,fa3,rmm"),
            (0x5a05_f553, "fsqrt.d fa0,fa1"),
            (0x5a05_c553, "fsqrt.d fa0,fa1,rmm"),
        ]);
        let i = dec(0x6ac5_c543);
        assert_eq!(
            (i.op, i.rd, i.rs1, i.rs2, i.rs3, i.rm),
            (Op::FmaddD, 10, 11, 12, 13, 4)
        );
    }

    #[test]
    fn float_conversions() {
        check_texts(&[
            (0xc005_1553, "fcvt.w.s a0,fa0,rtz"),
            (0xc025_7553, "fcvt.l.s a0,fa0"),
            (0xc035_2553, "fcvt.lu.s a0,fa0,rdn"),
            (0xd035_4553, "fcvt.s.lu fa0,a0,rmm"),
            (0x4015_f553, "fcvt.s.d fa0,fa1"),
            (0x4015_c553, "fcvt.s.d fa0,fa1,rmm"),
            (0x4205_8553, "fcvt.d.s fa0,fa1"),
            (0xc205_1553, "fcvt.w.d a0,fa0,rtz"),
            (0xc235_7553, "fcvt.lu.d a0,fa0"),
            (0xd205_0553, "fcvt.d.w fa0,a0"),
            (0xd215_0553, "fcvt.d.wu fa0,a0"),
            (0xd225_7553, "fcvt.d.l fa0,a0"),
            (0xd235_1553, "fcvt.d.lu fa0,a0,rtz"),
        ]);
        // Exact conversions print rm only when it is not rne.
        assert_eq!(text(0xd205_7553), "fcvt.d.w fa0,a0,dyn");
        assert_eq!(text(0x4205_9553), "fcvt.d.s fa0,fa1,rtz");
        let i = dec(0xd225_7553);
        assert_eq!((i.op, i.rd, i.rs1, i.rm), (Op::FcvtDL, 10, 10, 7));
        assert_eq!(
            i.op.format().regs()[..2],
            [Some(RegFile::F), Some(RegFile::X)]
        );
    }

    #[test]
    fn float_moves_and_sign_injection() {
        check_texts(&[
            (0xe205_0553, "fmv.x.d a0,fa0"),
            (0xf205_0553, "fmv.d.x fa0,a0"),
            (0xe000_0553, "fmv.x.w a0,ft0"),
            (0xf000_0053, "fmv.w.x ft0,zero"),
            (0x22c5_8553, "fsgnj.d fa0,fa1,fa2"),
            (0x22b5_9553, "fsgnjn.d fa0,fa1,fa1"),
            (0x22b5_a553, "fsgnjx.d fa0,fa1,fa1"),
            (0x20c5_8553, "fsgnj.s fa0,fa1,fa2"),
            (0xe205_1553, "fclass.d a0,fa0"),
            (0xa2b5_2553, "feq.d a0,fa0,fa1"),
        ]);
        let i = dec(0xe205_0553);
        assert_eq!((i.op, i.rd, i.rs1), (Op::FmvXD, 10, 10));
        assert_eq!(
            i.op.format().regs()[..2],
            [Some(RegFile::X), Some(RegFile::F)]
        );
        assert!(rejected(0x22c5_b553)); // fsgnj.d funct3=3
        assert!(rejected(0xe215_0553)); // fmv.x.d rs2 != 0
    }

    #[test]
    fn loads_stores_and_jumps() {
        check_texts(&[
            (0x8001_0503, "lb a0,-2048(sp)"),
            (0x0081_3407, "fld fs0,8(sp)"),
            (0x7fb1_3c27, "fsd fs11,2040(sp)"),
            (0x8bf0_2023, "sw t6,-1888(zero)"),
            (0x0000_8067, "jalr zero,0(ra)"),
            (0xfe05_8ee3, "beq a1,zero,fffc"),
            (0x0080_00ef, "jal ra,10008"),
            (0x1234_5537, "lui a0,0x12345"),
            (0xffff_ffb7, "lui t6,0xfffff"),
            (0x8000_0097, "auipc ra,0x80000"),
        ]);
        assert_eq!(dec(0x8000_0097).imm, -0x8000_0000);
        assert_eq!(dec(0x7fb1_3c27).imm, 2040);
        assert!(rejected(0x0000_9067)); // jalr with funct3=1
    }

    #[test]
    fn zba_zbb() {
        check_texts(&[
            (0x08c5_853b, "add.uw a0,a1,a2"),
            (0x20c5_c533, "sh2add a0,a1,a2"),
            (0x40c5_f533, "andn a0,a1,a2"),
            (0x6005_9513, "clz a0,a1"),
            (0x6025_951b, "cpopw a0,a1"),
            (0x6045_9513, "sext.b a0,a1"),
            (0x0805_c53b, "zext.h a0,a1"),
            (0x0ac5_e533, "max a0,a1,a2"),
            (0x60c5_953b, "rolw a0,a1,a2"),
            (0x6015_d51b, "roriw a0,a1,0x1"),
            (0x2875_d513, "orc.b a0,a1"),
            (0x6b85_d513, "rev8 a0,a1"),
        ]);
    }

    #[test]
    fn illegal_encodings() {
        // All-zero halfword: the defined illegal instruction.
        let err = decode(&[0, 0, 0, 0], 0x1234).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Unknown {
                arch: "riscv64",
                addr: 0x1234,
                bytes: vec![0, 0]
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown riscv64 instruction at 0x1234: bytes 00 00"
        );
        // Reserved RVC encodings.
        for half in [0x8000u32, 0x9c41, 0x2001, 0x6101, 0x6501, 0x4002, 0x8002] {
            assert!(rejected(half), "{half:#06x}");
        }
        // Privileged and custom.
        for word in [
            0x1020_0073u32,
            0x3020_0073,
            0x1050_0073,
            0x1200_0073,
            0x0000_000b,
        ] {
            assert!(rejected(word), "{word:#010x}");
        }
        // 48-bit encodings and truncation.
        assert!(matches!(
            decode(&[0x1f, 0, 0, 0, 0, 0], 8),
            Err(DecodeError::Unknown { .. })
        ));
        assert_eq!(
            decode(&[0x13, 0x05, 0x15], 8),
            Err(DecodeError::Truncated {
                arch: "riscv64",
                addr: 8,
                available: 3
            })
        );
        assert!(matches!(
            decode(&[0x01], 8),
            Err(DecodeError::Truncated { available: 1, .. })
        ));
        assert!(matches!(
            decode(&[], 8),
            Err(DecodeError::Truncated { available: 0, .. })
        ));
        // decode32 only takes 32-bit encodings.
        assert_eq!(decode32(0x0000_4188), None); // c.lw bits
        assert_eq!(decode32(0x0000_001f), None); // 48-bit prefix
    }

    #[test]
    fn flow_kinds() {
        let flow = |enc: u32| dec(enc).flow(ADDR);
        assert_eq!(flow(0x0080_006f), Flow::Jump(ADDR + 8)); // jal zero
        assert_eq!(flow(0x0080_00ef), Flow::Call(ADDR + 8)); // jal ra
        assert_eq!(flow(0x0080_02ef), Flow::Call(ADDR + 8)); // jal t0
        assert_eq!(flow(0xa001), Flow::Jump(ADDR)); // c.j
        assert_eq!(flow(0x0000_8067), Flow::Return); // jalr zero,0(ra)
        assert_eq!(flow(0x8082), Flow::Return); // c.jr ra
        assert_eq!(flow(0x8282), Flow::Return); // c.jr t0
        assert_eq!(flow(0x0080_8067), Flow::IndirectJump); // jalr zero,8(ra)
        assert_eq!(flow(0x8782), Flow::IndirectJump); // c.jr a5
        assert_eq!(flow(0x0007_80e7), Flow::IndirectCall); // jalr ra,0(a5)
        assert_eq!(flow(0x9782), Flow::IndirectCall); // c.jalr a5
        assert_eq!(flow(0x0002_82e7), Flow::IndirectCall); // jalr t0,0(t0)
        assert_eq!(flow(0xfe05_8ee3), Flow::Branch(ADDR - 4)); // beq
        assert_eq!(flow(0xdd7d), Flow::Branch(ADDR - 2)); // c.beqz
        assert_eq!(flow(0x0000_0073), Flow::Syscall);
        assert_eq!(flow(0x0010_0073), Flow::Stop); // ebreak
        assert_eq!(flow(0x9002), Flow::Stop); // c.ebreak
        assert_eq!(flow(0xc000_1073), Flow::Stop); // unimp
        assert_eq!(flow(0xc000_2573), Flow::Next); // rdcycle a0
        assert_eq!(flow(0x0000_0013), Flow::Next);
    }

    #[test]
    fn every_rvc_expansion_decodes() {
        for half in 0..=u16::MAX {
            if let Some((word, form)) = compressed::expand(half) {
                let insn = decode32(word);
                assert!(insn.is_some(), "{} {half:#06x} -> {word:#010x}", form.name);
            }
        }
    }

    #[test]
    fn never_panics() {
        // Every halfword, and a deterministic spread of 32-bit words, with
        // every possible truncation.
        for half in 0..=u16::MAX {
            let b = half.to_le_bytes();
            let _ = decode(&b, 0).map(|i| i.text(0));
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = (state as u32).to_le_bytes();
            for n in 0..=4 {
                if let Ok(i) = decode(&b[..n], state) {
                    let _ = (i.text(state), i.flow(state));
                }
            }
        }
    }

    #[test]
    fn riscv_decode_crate_gaps() {
        // What the crate misses (must stay true, or the module docs drift).
        let missed: &[(u32, &str)] = &[
            (0x0040, "c.addi4spn"),
            (0x2100, "c.fld"),
            (0xa708, "c.fsd"),
            (0x1501, "c.addi"),
            (0x5f81, "c.li"),
            (0x7101, "c.addi16sp"),
            (0xa001, "c.j"),
            (0x8082, "c.jr"),
            (0x852e, "c.mv"),
            (0x757e, "c.ldsp"),
            (0x0081_3407, "fld"),
            (0x7fb1_3c27, "fsd"),
            (0x6ac5_c543, "fmadd.d"),
            (0x02c5_8553, "fadd.d"),
            (0xe205_0553, "fmv.x.d"),
            (0xc025_7553, "fcvt.l.s"),
            (0x8330_000f, "fence.tso"),
            (0x0ff5_878f, "fence with rd/rs1 set"),
            (0xfff5_978f, "fence.i with fields set"),
            (0x6005_9513, "clz"),
            (0x08c5_853b, "add.uw"),
        ];
        for &(enc, what) in missed {
            assert!(
                riscv_decode::decode(enc).is_err(),
                "crate now decodes {what}"
            );
            assert!(decode(&bytes(enc), 0).is_ok(), "we must decode {what}");
        }
        // What the crate accepts but must be rejected.
        let lax: &[(u32, &str)] = &[
            (0x0000_9067, "jalr funct3=1"),
            (0x1015_a52f, "lr.w rs2!=0"),
            (0x00c5_d553, "fadd.s rm=5"),
            (0x1020_0073, "sret"),
            (0x1050_0073, "wfi"),
        ];
        for &(enc, what) in lax {
            assert!(
                riscv_decode::decode(enc).is_ok(),
                "crate now rejects {what}"
            );
            assert!(rejected(enc), "we must reject {what}");
        }
        // The all-zero halfword is "Ok(Illegal)" for the crate.
        assert_eq!(riscv_decode::decode(0), Ok(C::Illegal));
    }
}
