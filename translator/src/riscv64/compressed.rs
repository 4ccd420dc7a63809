//! The RVC (compressed, 16-bit) instructions of RV64C with F and D, as one
//! table.
//!
//! Every 16-bit instruction is expanded here, and only here, to the 32-bit
//! instruction it stands for (RISC-V unprivileged ISA, chapter "C"); the
//! 32-bit decoder then decodes that word like any other. One [`Form`] row per
//! compressed mnemonic says where its fields sit in the 16 bits, which 32-bit
//! instruction it becomes, which encodings are reserved, and how objdump
//! prints it. Rows are tried in order and the first whose fixed bits match
//! decides; a reserved encoding of that row is an error, not a fall-through.
//!
//! Hints (for example `c.addi zero,1`, `c.li zero,5`, `c.slli64`) are decoded:
//! they expand to instructions without architectural effect beyond their
//! 32-bit meaning. Reserved encodings are rejected: quadrant 0 funct3 100,
//! `c.addi4spn` with a zero immediate (which includes the all-zero illegal
//! instruction), `c.addiw`/`c.lwsp`/`c.ldsp` with rd = x0, `c.jr` with
//! rs1 = x0, `c.lui` and `c.addi16sp` with a zero immediate, and the two free
//! slots after `c.subw`/`c.addw`.

/// Where a register number comes from in the 16 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Src {
    /// Not an operand of the expansion: register x0.
    X0,
    /// Always x1 (`ra`).
    Ra,
    /// Always x2 (`sp`).
    Sp,
    /// Full register number in bits 11:7 (rd / rs1).
    Hi5,
    /// Full register number in bits 6:2 (rs2).
    Lo5,
    /// Register x8 + bits 9:7 (rs1' / rd').
    Hi3,
    /// Register x8 + bits 4:2 (rd' / rs2').
    Lo3,
}

impl Src {
    /// The register number this source selects in `half`.
    const fn reg(self, half: u16) -> u32 {
        let h = half as u32;
        match self {
            Src::X0 => 0,
            Src::Ra => 1,
            Src::Sp => 2,
            Src::Hi5 => (h >> 7) & 0x1f,
            Src::Lo5 => (h >> 2) & 0x1f,
            Src::Hi3 => 8 + ((h >> 7) & 7),
            Src::Lo3 => 8 + ((h >> 2) & 7),
        }
    }
}

/// One run of immediate bits: bits `hi..=lo` of the 16-bit word land at
/// bits `to..` of the immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seg {
    hi: u8,
    lo: u8,
    to: u8,
}

/// Shorthand for a [`Seg`].
const fn seg(hi: u8, lo: u8, to: u8) -> Seg {
    Seg { hi, lo, to }
}

/// No immediate.
const NO_IMM: &[Seg] = &[];
/// CIW `c.addi4spn`: nzuimm[5:4|9:6|2|3] in bits 12:5.
const CIW: &[Seg] = &[seg(12, 11, 4), seg(10, 7, 6), seg(6, 6, 2), seg(5, 5, 3)];
/// CL/CS word: uimm[5:3] in 12:10, uimm[2|6] in 6:5.
const CLS_W: &[Seg] = &[seg(12, 10, 3), seg(6, 6, 2), seg(5, 5, 6)];
/// CL/CS doubleword: uimm[5:3] in 12:10, uimm[7:6] in 6:5.
const CLS_D: &[Seg] = &[seg(12, 10, 3), seg(6, 5, 6)];
/// CI: imm[5] in 12, imm[4:0] in 6:2 (also CB `c.andi` and the shifts).
const CI: &[Seg] = &[seg(12, 12, 5), seg(6, 2, 0)];
/// CI `c.lui`: nzimm[17] in 12, nzimm[16:12] in 6:2.
const CI_LUI: &[Seg] = &[seg(12, 12, 17), seg(6, 2, 12)];
/// CI `c.addi16sp`: nzimm[9] in 12, nzimm[4|6|8:7|5] in 6:2.
const CI_16SP: &[Seg] = &[
    seg(12, 12, 9),
    seg(6, 6, 4),
    seg(5, 5, 6),
    seg(4, 3, 7),
    seg(2, 2, 5),
];
/// CI `c.lwsp`: uimm[5] in 12, uimm[4:2|7:6] in 6:2.
const CI_LWSP: &[Seg] = &[seg(12, 12, 5), seg(6, 4, 2), seg(3, 2, 6)];
/// CI `c.ldsp`/`c.fldsp`: uimm[5] in 12, uimm[4:3|8:6] in 6:2.
const CI_LDSP: &[Seg] = &[seg(12, 12, 5), seg(6, 5, 3), seg(4, 2, 6)];
/// CSS `c.swsp`: uimm[5:2|7:6] in 12:7.
const CSS_W: &[Seg] = &[seg(12, 9, 2), seg(8, 7, 6)];
/// CSS `c.sdsp`/`c.fsdsp`: uimm[5:3|8:6] in 12:7.
const CSS_D: &[Seg] = &[seg(12, 10, 3), seg(9, 7, 6)];
/// CB branches: offset[8|4:3] in 12:10, offset[7:6|2:1|5] in 6:2.
const CB: &[Seg] = &[
    seg(12, 12, 8),
    seg(11, 10, 3),
    seg(6, 5, 6),
    seg(4, 3, 1),
    seg(2, 2, 5),
];
/// CJ `c.j`: offset[11|4|9:8|10|6|7|3:1|5] in 12:2.
const CJ: &[Seg] = &[
    seg(12, 12, 11),
    seg(11, 11, 4),
    seg(10, 9, 8),
    seg(8, 8, 10),
    seg(7, 7, 6),
    seg(6, 6, 7),
    seg(5, 3, 1),
    seg(2, 2, 5),
];

/// How the expansion's fields are placed in the 32-bit word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    /// rd, rs1, rs2.
    R,
    /// rd, rs1, imm[11:0] (also the shift-immediates).
    I,
    /// rs1, rs2, imm[11:0] split.
    S,
    /// rs1, rs2, imm[12:1] scrambled.
    B,
    /// rd, imm[31:12].
    U,
    /// rd, imm[20:1] scrambled.
    J,
}

/// Which decoded value makes an encoding of a row reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reserved {
    /// Every encoding of the row is valid.
    Never,
    /// The immediate is zero.
    ZeroImm,
    /// The register field in bits 11:7 is x0.
    ZeroHi5,
}

/// How objdump (`-M no-aliases`) prints the operands of a compressed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// The operands of the 32-bit expansion, unchanged.
    Full,
    /// `rd,imm` (decimal).
    RdImm,
    /// `rd,0xshamt`.
    RdShamt,
    /// `rd` alone.
    Rd,
    /// `rd,rs2`.
    RdRs2,
    /// `rs1` alone.
    Rs1,
    /// `rs1,target`.
    Rs1Target,
    /// `target` alone.
    Target,
    /// No operands.
    Bare,
}

/// One compressed instruction form: its fixed bits, its 32-bit expansion and
/// its printed syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Form {
    /// objdump mnemonic, e.g. `c.addi16sp`.
    pub(crate) name: &'static str,
    /// Bits that must equal `bits`.
    mask: u16,
    /// Value of the masked bits.
    bits: u16,
    /// The expansion's opcode, funct3 and funct7, all other fields zero.
    base: u32,
    /// Field placement of the expansion.
    enc: Enc,
    /// Source of the expansion's rd.
    rd: Src,
    /// Source of the expansion's rs1.
    rs1: Src,
    /// Source of the expansion's rs2.
    rs2: Src,
    /// Immediate bit runs, empty for none.
    imm: &'static [Seg],
    /// Whether the immediate is sign-extended from its top bit.
    signed: bool,
    /// Which encodings of this form are reserved.
    reserved: Reserved,
    /// How objdump prints the operands.
    pub(crate) syntax: Syntax,
}

impl Form {
    /// A row with every register x0, no immediate, nothing reserved.
    const fn new(name: &'static str, mask: u16, bits: u16, base: u32, enc: Enc) -> Form {
        Form {
            name,
            mask,
            bits,
            base,
            enc,
            rd: Src::X0,
            rs1: Src::X0,
            rs2: Src::X0,
            imm: NO_IMM,
            signed: false,
            reserved: Reserved::Never,
            syntax: Syntax::Full,
        }
    }

    /// Sets the register sources.
    const fn regs(self, rd: Src, rs1: Src, rs2: Src) -> Form {
        Form {
            rd,
            rs1,
            rs2,
            ..self
        }
    }

    /// Sets an unsigned immediate.
    const fn uimm(self, imm: &'static [Seg]) -> Form {
        Form {
            imm,
            signed: false,
            ..self
        }
    }

    /// Sets a sign-extended immediate.
    const fn simm(self, imm: &'static [Seg]) -> Form {
        Form {
            imm,
            signed: true,
            ..self
        }
    }

    /// Marks encodings as reserved.
    const fn reserved(self, reserved: Reserved) -> Form {
        Form { reserved, ..self }
    }

    /// Sets the printed syntax.
    const fn syntax(self, syntax: Syntax) -> Form {
        Form { syntax, ..self }
    }

    /// Gathers (and sign-extends) the immediate of `half`.
    fn immediate(&self, half: u16) -> i64 {
        let mut value = 0u64;
        let mut top = 0u32;
        for s in self.imm {
            let width = u32::from(s.hi - s.lo) + 1;
            let field = (u64::from(half) >> s.lo) & ((1 << width) - 1);
            value |= field << s.to;
            top = top.max(u32::from(s.to) + width);
        }
        if self.signed && top > 0 {
            let shift = 64 - top;
            ((value << shift) as i64) >> shift
        } else {
            value as i64
        }
    }

    /// Whether `half` (which matches this row) is a reserved encoding.
    fn is_reserved(&self, half: u16, imm: i64) -> bool {
        match self.reserved {
            Reserved::Never => false,
            Reserved::ZeroImm => imm == 0,
            Reserved::ZeroHi5 => Src::Hi5.reg(half) == 0,
        }
    }

    /// Builds the 32-bit expansion of `half`.
    fn encode(&self, half: u16, imm: i64) -> u32 {
        let (rd, rs1, rs2) = (self.rd.reg(half), self.rs1.reg(half), self.rs2.reg(half));
        let imm = imm as u32;
        let bit = |n: u32| (imm >> n) & 1;
        let base = self.base;
        match self.enc {
            Enc::R => base | rd << 7 | rs1 << 15 | rs2 << 20,
            Enc::I => base | rd << 7 | rs1 << 15 | (imm & 0xfff) << 20,
            Enc::S => base | (imm & 0x1f) << 7 | rs1 << 15 | rs2 << 20 | (imm >> 5 & 0x7f) << 25,
            Enc::B => {
                base | bit(11) << 7
                    | (imm >> 1 & 0xf) << 8
                    | rs1 << 15
                    | rs2 << 20
                    | (imm >> 5 & 0x3f) << 25
                    | bit(12) << 31
            }
            Enc::U => base | rd << 7 | (imm & 0xffff_f000),
            Enc::J => {
                base | rd << 7
                    | (imm & 0x000f_f000)
                    | bit(11) << 20
                    | (imm >> 1 & 0x3ff) << 21
                    | bit(20) << 31
            }
        }
    }
}

// 32-bit templates (opcode | funct3 << 12 | funct7 << 25) of the expansions.
const ADDI: u32 = 0x0000_0013;
const ADDIW: u32 = 0x0000_001b;
const SLLI: u32 = 0x0000_1013;
const SRLI: u32 = 0x0000_5013;
const SRAI: u32 = 0x4000_5013;
const ANDI: u32 = 0x0000_7013;
const LUI: u32 = 0x0000_0037;
const LW: u32 = 0x0000_2003;
const LD: u32 = 0x0000_3003;
const FLD: u32 = 0x0000_3007;
const SW: u32 = 0x0000_2023;
const SD: u32 = 0x0000_3023;
const FSD: u32 = 0x0000_3027;
const ADD: u32 = 0x0000_0033;
const SUB: u32 = 0x4000_0033;
const XOR: u32 = 0x0000_4033;
const OR: u32 = 0x0000_6033;
const AND: u32 = 0x0000_7033;
const ADDW: u32 = 0x0000_003b;
const SUBW: u32 = 0x4000_003b;
const JAL: u32 = 0x0000_006f;
const JALR: u32 = 0x0000_0067;
const BEQ: u32 = 0x0000_0063;
const BNE: u32 = 0x0000_1063;
const EBREAK: u32 = 0x0010_0073;

/// Mask of quadrant (bits 1:0) and funct3 (bits 15:13).
const Q_F3: u16 = 0xe003;

use Enc::{B, I, J, R, S, U};
use Src::{Hi3, Hi5, Lo3, Lo5, Ra, Sp, X0};

/// Every RV64C (+F/D) form, in match order.
static FORMS: &[Form] = &[
    // ---- Quadrant 0: stack-pointer adds, loads and stores with x8..x15 ----
    Form::new("c.addi4spn", Q_F3, 0x0000, ADDI, I)
        .regs(Lo3, Sp, X0)
        .uimm(CIW)
        .reserved(Reserved::ZeroImm),
    Form::new("c.fld", Q_F3, 0x2000, FLD, I)
        .regs(Lo3, Hi3, X0)
        .uimm(CLS_D),
    Form::new("c.lw", Q_F3, 0x4000, LW, I)
        .regs(Lo3, Hi3, X0)
        .uimm(CLS_W),
    Form::new("c.ld", Q_F3, 0x6000, LD, I)
        .regs(Lo3, Hi3, X0)
        .uimm(CLS_D),
    Form::new("c.fsd", Q_F3, 0xa000, FSD, S)
        .regs(X0, Hi3, Lo3)
        .uimm(CLS_D),
    Form::new("c.sw", Q_F3, 0xc000, SW, S)
        .regs(X0, Hi3, Lo3)
        .uimm(CLS_W),
    Form::new("c.sd", Q_F3, 0xe000, SD, S)
        .regs(X0, Hi3, Lo3)
        .uimm(CLS_D),
    // ---- Quadrant 1: immediates, x8..x15 arithmetic, jumps and branches ----
    Form::new("c.addi", Q_F3, 0x0001, ADDI, I)
        .regs(Hi5, Hi5, X0)
        .simm(CI)
        .syntax(Syntax::RdImm),
    Form::new("c.addiw", Q_F3, 0x2001, ADDIW, I)
        .regs(Hi5, Hi5, X0)
        .simm(CI)
        .reserved(Reserved::ZeroHi5)
        .syntax(Syntax::RdImm),
    Form::new("c.li", Q_F3, 0x4001, ADDI, I)
        .regs(Hi5, X0, X0)
        .simm(CI)
        .syntax(Syntax::RdImm),
    Form::new("c.addi16sp", 0xef83, 0x6101, ADDI, I)
        .regs(Sp, Sp, X0)
        .simm(CI_16SP)
        .reserved(Reserved::ZeroImm)
        .syntax(Syntax::RdImm),
    Form::new("c.lui", Q_F3, 0x6001, LUI, U)
        .regs(Hi5, X0, X0)
        .simm(CI_LUI)
        .reserved(Reserved::ZeroImm),
    Form::new("c.srli64", 0xfc7f, 0x8001, SRLI, I)
        .regs(Hi3, Hi3, X0)
        .syntax(Syntax::Rd),
    Form::new("c.srli", 0xec03, 0x8001, SRLI, I)
        .regs(Hi3, Hi3, X0)
        .uimm(CI)
        .syntax(Syntax::RdShamt),
    Form::new("c.srai64", 0xfc7f, 0x8401, SRAI, I)
        .regs(Hi3, Hi3, X0)
        .syntax(Syntax::Rd),
    Form::new("c.srai", 0xec03, 0x8401, SRAI, I)
        .regs(Hi3, Hi3, X0)
        .uimm(CI)
        .syntax(Syntax::RdShamt),
    Form::new("c.andi", 0xec03, 0x8801, ANDI, I)
        .regs(Hi3, Hi3, X0)
        .simm(CI)
        .syntax(Syntax::RdImm),
    Form::new("c.sub", 0xfc63, 0x8c01, SUB, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.xor", 0xfc63, 0x8c21, XOR, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.or", 0xfc63, 0x8c41, OR, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.and", 0xfc63, 0x8c61, AND, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.subw", 0xfc63, 0x9c01, SUBW, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.addw", 0xfc63, 0x9c21, ADDW, R)
        .regs(Hi3, Hi3, Lo3)
        .syntax(Syntax::RdRs2),
    Form::new("c.j", Q_F3, 0xa001, JAL, J)
        .simm(CJ)
        .syntax(Syntax::Target),
    Form::new("c.beqz", Q_F3, 0xc001, BEQ, B)
        .regs(X0, Hi3, X0)
        .simm(CB)
        .syntax(Syntax::Rs1Target),
    Form::new("c.bnez", Q_F3, 0xe001, BNE, B)
        .regs(X0, Hi3, X0)
        .simm(CB)
        .syntax(Syntax::Rs1Target),
    // ---- Quadrant 2: shifts, stack-relative loads/stores, register moves ----
    Form::new("c.slli64", 0xf07f, 0x0002, SLLI, I)
        .regs(Hi5, Hi5, X0)
        .syntax(Syntax::Rd),
    Form::new("c.slli", Q_F3, 0x0002, SLLI, I)
        .regs(Hi5, Hi5, X0)
        .uimm(CI)
        .syntax(Syntax::RdShamt),
    Form::new("c.fldsp", Q_F3, 0x2002, FLD, I)
        .regs(Hi5, Sp, X0)
        .uimm(CI_LDSP),
    Form::new("c.lwsp", Q_F3, 0x4002, LW, I)
        .regs(Hi5, Sp, X0)
        .uimm(CI_LWSP)
        .reserved(Reserved::ZeroHi5),
    Form::new("c.ldsp", Q_F3, 0x6002, LD, I)
        .regs(Hi5, Sp, X0)
        .uimm(CI_LDSP)
        .reserved(Reserved::ZeroHi5),
    Form::new("c.jr", 0xf07f, 0x8002, JALR, I)
        .regs(X0, Hi5, X0)
        .reserved(Reserved::ZeroHi5)
        .syntax(Syntax::Rs1),
    Form::new("c.mv", 0xf003, 0x8002, ADD, R)
        .regs(Hi5, X0, Lo5)
        .syntax(Syntax::RdRs2),
    Form::new("c.ebreak", 0xffff, 0x9002, EBREAK, R).syntax(Syntax::Bare),
    Form::new("c.jalr", 0xf07f, 0x9002, JALR, I)
        .regs(Ra, Hi5, X0)
        .syntax(Syntax::Rs1),
    Form::new("c.add", 0xf003, 0x9002, ADD, R)
        .regs(Hi5, Hi5, Lo5)
        .syntax(Syntax::RdRs2),
    Form::new("c.fsdsp", Q_F3, 0xa002, FSD, S)
        .regs(X0, Sp, Lo5)
        .uimm(CSS_D),
    Form::new("c.swsp", Q_F3, 0xc002, SW, S)
        .regs(X0, Sp, Lo5)
        .uimm(CSS_W),
    Form::new("c.sdsp", Q_F3, 0xe002, SD, S)
        .regs(X0, Sp, Lo5)
        .uimm(CSS_D),
];

/// The form `half` belongs to, whether or not the encoding is reserved.
pub(crate) fn form(half: u16) -> Option<&'static Form> {
    FORMS.iter().find(|f| half & f.mask == f.bits)
}

/// Expands a 16-bit instruction to its 32-bit equivalent, with the form it
/// was written in. `None` for reserved encodings, including all-zero, and
/// for anything that is not a 16-bit instruction.
pub(crate) fn expand(half: u16) -> Option<(u32, &'static Form)> {
    let form = form(half)?;
    let imm = form.immediate(half);
    if form.is_reserved(half, imm) {
        return None;
    }
    Some((form.encode(half, imm), form))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expansion of `half`, which must be valid.
    fn word(half: u16) -> u32 {
        expand(half)
            .unwrap_or_else(|| panic!("{half:#06x} should expand"))
            .0
    }

    #[test]
    fn every_row_is_well_formed() {
        for f in FORMS {
            assert_eq!(f.bits & !f.mask, 0, "{}: bits outside mask", f.name);
            assert_ne!(f.bits & 3, 3, "{}: not a 16-bit quadrant", f.name);
            assert!(f.name.starts_with("c."), "{}", f.name);
        }
    }

    #[test]
    fn every_row_is_reachable() {
        for f in FORMS {
            let found = (0..=u16::MAX).any(|h| expand(h).is_some_and(|(_, g)| g == f));
            assert!(found, "{} never matches first", f.name);
        }
    }

    #[test]
    fn quadrant0() {
        assert_eq!(word(0x0040), 0x0041_0413); // c.addi4spn s0,sp,4 -> addi s0,sp,4
        assert_eq!(word(0x1ffc), 0x3fc1_0793); // c.addi4spn a5,sp,1020
        assert_eq!(word(0x2100), 0x0005_3407); // c.fld fs0,0(a0)
        assert_eq!(word(0x5de8), 0x07c5_a503); // c.lw a0,124(a1)
        assert_eq!(word(0x7ef0), 0x0f86_b603); // c.ld a2,248(a3)
        assert_eq!(word(0xa708), 0x00a7_3427); // c.fsd fa0,8(a4)
        assert_eq!(word(0xc05c), 0x00f4_2223); // c.sw a5,4(s0)
        assert_eq!(word(0xe104), 0x0095_3023); // c.sd s1,0(a0)
    }

    #[test]
    fn quadrant1() {
        assert_eq!(word(0x0001), 0x0000_0013); // c.nop -> addi zero,zero,0
        assert_eq!(word(0x1501), 0xfe05_0513); // c.addi a0,-32
        assert_eq!(word(0x35fd), 0xfff5_859b); // c.addiw a1,-1
        assert_eq!(word(0x5f81), 0xfe00_0f93); // c.li t6,-32
        assert_eq!(word(0x7101), 0xe001_0113); // c.addi16sp sp,-512
        assert_eq!(word(0x617d), 0x1f01_0113); // c.addi16sp sp,496
        assert_eq!(word(0x7d81), 0xfffe_0db7); // c.lui s11,0xfffe0
        assert_eq!(word(0x9301), 0x0207_5713); // c.srli a4,32
        assert_eq!(word(0x937d), 0x03f7_5713); // c.srli a4,63
        assert_eq!(word(0x9781), 0x4207_d793); // c.srai a5,32
        assert_eq!(word(0x9801), 0xfe04_7413); // c.andi s0,-32
        assert_eq!(word(0x8c05), 0x4094_0433); // c.sub s0,s1
        assert_eq!(word(0x9c1d), 0x40f4_043b); // c.subw s0,a5
        assert_eq!(word(0x9d25), 0x0095_053b); // c.addw a0,s1
        assert_eq!(word(0xa001), 0x0000_006f); // c.j . (offset 0)
        assert_eq!(word(0xdd7d), 0xfe05_0fe3); // c.beqz a0,.-2
        assert_eq!(word(0xe089), 0x0004_9163); // c.bnez s1,.+2
    }

    #[test]
    fn quadrant2() {
        assert_eq!(word(0x1ffe), 0x03ff_9f93); // c.slli t6,63
        assert_eq!(word(0x0502), 0x0005_1513); // c.slli64 a0 -> slli a0,a0,0
        assert_eq!(word(0x347e), 0x1f81_3407); // c.fldsp fs0,504(sp)
        assert_eq!(word(0x50fe), 0x0fc1_2083); // c.lwsp ra,252(sp)
        assert_eq!(word(0x757e), 0x1f81_3503); // c.ldsp a0,504(sp)
        assert_eq!(word(0x8082), 0x0000_8067); // c.jr ra -> jalr zero,0(ra)
        assert_eq!(word(0x852e), 0x00b0_0533); // c.mv a0,a1 -> add a0,zero,a1
        assert_eq!(word(0x9002), 0x0010_0073); // c.ebreak
        assert_eq!(word(0x9282), 0x0002_80e7); // c.jalr t0 -> jalr ra,0(t0)
        assert_eq!(word(0x952e), 0x00b5_0533); // c.add a0,a1
        assert_eq!(word(0xa42a), 0x00a1_3427); // c.fsdsp fa0,8(sp)
        assert_eq!(word(0xdfa2), 0x0e81_2e23); // c.swsp s0,252(sp)
        assert_eq!(word(0xff86), 0x1e11_3c23); // c.sdsp ra,504(sp)
    }

    #[test]
    fn reserved_encodings() {
        for half in [
            0x0000u16, // all zero: c.addi4spn with zero immediate
            0x0010,    // c.addi4spn a2,sp,0
            0x8000,    // quadrant 0 funct3 100
            0x9c41,    // after c.subw/c.addw
            0x9c61, 0x2001, // c.addiw zero
            0x6101, // c.addi16sp sp,0
            0x6001, // c.lui zero,0
            0x6501, // c.lui a0,0
            0x4002, // c.lwsp zero
            0x6002, // c.ldsp zero
            0x8002, // c.jr zero
        ] {
            assert_eq!(expand(half), None, "{half:#06x} is reserved");
        }
        assert_eq!(expand(0x0003), None, "not a 16-bit instruction");
    }

    #[test]
    fn hints_expand() {
        assert_eq!(word(0x0005), 0x0010_0013); // c.addi zero,1 -> addi zero,zero,1
        assert_eq!(word(0x4015), 0x0050_0013); // c.li zero,5
        assert_eq!(word(0x6005), 0x0000_1037); // c.lui zero,0x1
        assert_eq!(word(0x802a), 0x00a0_0033); // c.mv zero,a0
        assert_eq!(word(0x8101), 0x0005_5513); // c.srli64 a0 -> srli a0,a0,0
        assert_eq!(word(0x8501), 0x4005_5513); // c.srai64 a0
    }
}
