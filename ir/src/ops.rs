//! The IR operations, declared once.
//!
//! `for_each_op!` holds one row per operation: variant, text/builder name,
//! signature and a one-line meaning. The opcode enum, its names, the builder
//! methods, the printer, the parser and the type rules are all generated from
//! (or driven by) that table, so adding an op is one new row plus its
//! semantics in the interpreter and its lowering in the backend (both
//! exhaustive matches, so a missing case is a compile error).
//!
//! Semantics that differ between guests are made explicit and total here;
//! lifters compose them into their guest's behaviour:
//! - Shift amounts are taken modulo the bit width.
//! - `udiv`/`urem` by zero give 0 and the dividend; `sdiv`/`srem` by zero give
//!   0 and the dividend; `sdiv(MIN, -1)` is `MIN` and `srem(MIN, -1)` is 0. No
//!   op traps: a guest that faults on division checks and uses `trap`.
//! - `fcvt_to_sint`/`fcvt_to_uint` truncate toward zero, saturate, and give 0
//!   for NaN.
//! - `fmin`/`fmax` are IEEE 754-2019 minimum/maximum (NaN if either is NaN,
//!   -0 < +0); `fminnum`/`fmaxnum` are minimumNumber/maximumNumber. Lifters
//!   canonicalise NaN results where the guest does.
//! - Float ops with a rounding mode take it as an immediate; `dyn` means the
//!   guest's current dynamic mode (the runtime mirrors it in the host).
//!   Vector float arithmetic always rounds in the dynamic mode.
//! - A NaN result is the first NaN operand, quieted, or the default NaN when
//!   no operand is NaN: the negative quiet NaN with a zero payload
//!   (`0xffc00000` / `0xfff8000000000000`), which is what the x86_64 host's
//!   instructions return, so the backend adds nothing to arithmetic and an
//!   x86 guest's scalar float ops need no fix-up. IEEE exception flags are not part of the IR
//!   semantics; guests read them through the `fp_sync_flags` helper.
//! - Widening and narrowing vector ops take the *source* lane type.
//! - Loads stay even when their value is unused: guest code probes memory
//!   that way, and the fault must happen where the hardware's would.

use std::fmt;

use crate::types::Type;

/// Calls `$m!` with the table of every op: `Variant method Sig "meaning",`.
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            // Constants.
            Iconst iconst IConst "Integer constant (immediate bits).",
            Fconst fconst FConst "Float constant (immediate IEEE bits).",
            Vconst vconst VConst "128-bit vector constant.",
            // Integer arithmetic and logic.
            Ineg ineg IntUnary "Two's complement negation.",
            Bnot bnot IntUnary "Bitwise not.",
            Clz clz IntUnary "Count leading zeros (width for zero).",
            Ctz ctz IntUnary "Count trailing zeros (width for zero).",
            Popcnt popcnt IntUnary "Count set bits.",
            Bswap bswap IntUnary "Reverse byte order.",
            Bitrev bitrev IntUnary "Reverse bit order.",
            Iadd iadd IntBinary "Wrapping addition.",
            Isub isub IntBinary "Wrapping subtraction.",
            Imul imul IntBinary "Wrapping multiplication (low half).",
            Umulhi umulhi IntBinary "High half of the unsigned product.",
            Smulhi smulhi IntBinary "High half of the signed product.",
            Sumulhi sumulhi IntBinary "High half of signed x times unsigned y.",
            Udiv udiv IntBinary "Unsigned division; x/0 = 0.",
            Sdiv sdiv IntBinary "Signed division toward zero; x/0 = 0, MIN/-1 = MIN.",
            Urem urem IntBinary "Unsigned remainder; x%0 = x.",
            Srem srem IntBinary "Signed remainder (sign of x); x%0 = x, MIN%-1 = 0.",
            Band band IntBinary "Bitwise and.",
            Bor bor IntBinary "Bitwise or.",
            Bxor bxor IntBinary "Bitwise xor.",
            BandNot band_not IntBinary "x and not y.",
            Umin umin IntBinary "Unsigned minimum.",
            Umax umax IntBinary "Unsigned maximum.",
            Smin smin IntBinary "Signed minimum.",
            Smax smax IntBinary "Signed maximum.",
            Ishl ishl Shift "Shift left; amount modulo width.",
            Ushr ushr Shift "Logical shift right; amount modulo width.",
            Sshr sshr Shift "Arithmetic shift right; amount modulo width.",
            Rotl rotl Shift "Rotate left; amount modulo width.",
            Rotr rotr Shift "Rotate right; amount modulo width.",
            // Flags: each its own value, so unused ones are dead code.
            UaddOverflow uadd_overflow IntFlag "Carry out of x + y (unsigned overflow).",
            SaddOverflow sadd_overflow IntFlag "Signed overflow of x + y.",
            UsubOverflow usub_overflow IntFlag "Borrow of x - y (x < y unsigned).",
            SsubOverflow ssub_overflow IntFlag "Signed overflow of x - y.",
            Parity parity IntTest "1 if the low byte has an even number of set bits (x86 PF).",
            Icmp icmp IntCompare "Integer comparison.",
            Select select Select "c ? x : y.",
            Uext uext Extend "Zero extension to a wider integer.",
            Sext sext Extend "Sign extension to a wider integer.",
            Ireduce ireduce Reduce "Truncation to a narrower integer.",
            Bitcast bitcast Bitcast "Reinterpret bits as another type of the same width.",
            // Floating point.
            Fneg fneg FloatUnary "Flip the sign bit.",
            Fabs fabs FloatUnary "Clear the sign bit.",
            Fsqrt fsqrt FloatUnaryRm "Square root.",
            Fround fround FloatUnaryRm "Round to an integral value in the given mode.",
            Fadd fadd FloatBinaryRm "Addition.",
            Fsub fsub FloatBinaryRm "Subtraction.",
            Fmul fmul FloatBinaryRm "Multiplication.",
            Fdiv fdiv FloatBinaryRm "Division.",
            Fma fma FloatTernaryRm "Fused x * y + z with one rounding.",
            Fmin fmin FloatBinary "IEEE minimum: NaN if either is NaN; -0 < +0.",
            Fmax fmax FloatBinary "IEEE maximum: NaN if either is NaN; -0 < +0.",
            Fminnum fminnum FloatBinary "IEEE minimumNumber: the number if one is NaN.",
            Fmaxnum fmaxnum FloatBinary "IEEE maximumNumber: the number if one is NaN.",
            Fcopysign fcopysign FloatBinary "Magnitude of x with the sign of y.",
            Fcmp fcmp FloatCompare "Float comparison.",
            Fclass fclass FloatClass "RISC-V style class mask (bit 0 -inf .. bit 9 quiet NaN).",
            FcvtFromSint fcvt_from_sint IntToFloat "Signed integer to float.",
            FcvtFromUint fcvt_from_uint IntToFloat "Unsigned integer to float.",
            FcvtToSint fcvt_to_sint FloatToInt "Float to signed integer: truncate, saturate, NaN to 0.",
            FcvtToUint fcvt_to_uint FloatToInt "Float to unsigned integer: truncate, saturate, NaN to 0.",
            Fconvert fconvert FloatToFloat "Float to float of another width.",
            // Guest memory (any alignment) and guest registers.
            Load load Load "Load from guest address.",
            Store store Store "Store to guest address.",
            ReadReg read_reg ReadReg "Read a guest register from the CPU state.",
            WriteReg write_reg WriteReg "Write a guest register to the CPU state.",
            LinkIn link_in ReadReg "The value of a guest register the host linkage hands over: a parameter at a function's entry, a callee's result in a call's landing block (the CPU state's value when there is no linkage).",
            LinkOut link_out WriteReg "Hand a guest register's value to the host linkage for the call or return ending the block (a CPU state write when there is no linkage).",
            AtomicRmw atomic_rmw AtomicRmw "Atomic read-modify-write; yields the old value.",
            AtomicCas atomic_cas AtomicCas "Atomic compare-and-swap; yields the old value.",
            Fence fence Fence "Full memory fence.",
            Poll poll Poll "1 when the runtime asks translated code to leave at this safe point (a signal is pending); read afresh every time.",
            CallHelper call_helper Helper "Call a runtime helper with the CPU state.",
            // 128-bit vectors; the type suffix is the lane type.
            Vineg vineg VecUnary "Lane-wise negation.",
            Viabs viabs VecUnary "Lane-wise absolute value.",
            Vpopcnt vpopcnt VecUnary "Lane-wise popcount.",
            Vfneg vfneg VecUnary "Lane-wise float negation.",
            Vfabs vfabs VecUnary "Lane-wise float absolute value.",
            Vfsqrt vfsqrt VecUnary "Lane-wise square root (dynamic rounding).",
            VswidenLo vswiden_lo VecUnary "Sign-extend the low half's lanes to double width.",
            VswidenHi vswiden_hi VecUnary "Sign-extend the high half's lanes to double width.",
            VuwidenLo vuwiden_lo VecUnary "Zero-extend the low half's lanes to double width.",
            VuwidenHi vuwiden_hi VecUnary "Zero-extend the high half's lanes to double width.",
            VfcvtFromSint vfcvt_from_sint VecUnary "Lane-wise signed int to float of the same width.",
            VfcvtToSint vfcvt_to_sint VecUnary "Lane-wise float to signed int: truncate, saturate, NaN 0.",
            Viadd viadd VecBinary "Lane-wise wrapping addition.",
            Visub visub VecBinary "Lane-wise wrapping subtraction.",
            Vimul vimul VecBinary "Lane-wise wrapping multiplication.",
            Vand vand VecBinary "Bitwise and.",
            Vor vor VecBinary "Bitwise or.",
            Vxor vxor VecBinary "Bitwise xor.",
            VandNot vand_not VecBinary "x and not y.",
            Vumin vumin VecBinary "Lane-wise unsigned minimum.",
            Vumax vumax VecBinary "Lane-wise unsigned maximum.",
            Vsmin vsmin VecBinary "Lane-wise signed minimum.",
            Vsmax vsmax VecBinary "Lane-wise signed maximum.",
            VuaddSat vuadd_sat VecBinary "Lane-wise unsigned saturating addition.",
            VsaddSat vsadd_sat VecBinary "Lane-wise signed saturating addition.",
            VusubSat vusub_sat VecBinary "Lane-wise unsigned saturating subtraction.",
            VssubSat vssub_sat VecBinary "Lane-wise signed saturating subtraction.",
            Vuavg vuavg VecBinary "Lane-wise unsigned rounding average.",
            Vfadd vfadd VecBinary "Lane-wise float addition.",
            Vfsub vfsub VecBinary "Lane-wise float subtraction.",
            Vfmul vfmul VecBinary "Lane-wise float multiplication.",
            Vfdiv vfdiv VecBinary "Lane-wise float division.",
            Vfmin vfmin VecBinary "Lane-wise IEEE minimum.",
            Vfmax vfmax VecBinary "Lane-wise IEEE maximum.",
            Vfminnum vfminnum VecBinary "Lane-wise IEEE minimumNumber.",
            Vfmaxnum vfmaxnum VecBinary "Lane-wise IEEE maximumNumber.",
            Vswizzle vswizzle VecBinary "Bytes of x picked by the byte indices in y; index >= 16 gives 0.",
            VzipLo vzip_lo VecBinary "Interleave the low halves of x and y.",
            VzipHi vzip_hi VecBinary "Interleave the high halves of x and y.",
            VuzpEven vuzp_even VecBinary "Even-numbered lanes of x then of y.",
            VuzpOdd vuzp_odd VecBinary "Odd-numbered lanes of x then of y.",
            VnarrowTrunc vnarrow_trunc VecBinary "Truncate lanes of x then y to half width.",
            VnarrowSsat vnarrow_ssat VecBinary "Signed lanes of x then y to half width, signed saturation.",
            VnarrowUsat vnarrow_usat VecBinary "Signed lanes of x then y to half width, unsigned saturation.",
            Vishl vishl VecShift "Lane-wise shift left by a scalar (>= width gives 0).",
            Vushr vushr VecShift "Lane-wise logical shift right by a scalar (>= width gives 0).",
            Vsshr vsshr VecShift "Lane-wise arithmetic shift right by a scalar (saturates at width-1).",
            Vicmp vicmp VecCompare "Lane-wise integer compare: all ones or zero per lane.",
            Vfcmp vfcmp VecFloatCompare "Lane-wise float compare: all ones or zero per lane.",
            Vsplat vsplat VecSplat "Every lane set to a scalar.",
            Vextract vextract VecExtract "One lane as a scalar.",
            Vinsert vinsert VecInsert "Replace one lane.",
            Vshuffle vshuffle VecShuffle "Bytes of x:y (0..31) picked by constant indices.",
            VreduceAdd vreduce_add VecReduce "Wrapping sum of all lanes.",
            VreduceUmax vreduce_umax VecReduce "Unsigned maximum of all lanes.",
            VreduceUmin vreduce_umin VecReduce "Unsigned minimum of all lanes.",
            VreduceSmax vreduce_smax VecReduce "Signed maximum of all lanes.",
            VreduceSmin vreduce_smin VecReduce "Signed minimum of all lanes.",
            Vbitselect vbitselect VecTernary "Bits of x where c is 1, of y where 0 (args c, x, y).",
        }
    };
}
pub(crate) use for_each_op;

macro_rules! define_opcode {
    ($($variant:ident $method:ident $sig:ident $doc:literal,)*) => {
        /// An IR operation. See the module docs for the semantics rules.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Opcode {
            $(#[doc = $doc] $variant,)*
        }

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];

            /// The name used in the text format and as the builder method.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Opcode::$variant => stringify!($method),)*
                }
            }

            /// The operand/immediate/result shape of this op.
            pub const fn sig(self) -> Sig {
                match self {
                    $(Opcode::$variant => Sig::$sig,)*
                }
            }

            /// One-line meaning, from the table.
            pub const fn doc(self) -> &'static str {
                match self {
                    $(Opcode::$variant => $doc,)*
                }
            }
        }
    };
}
for_each_op!(define_opcode);

impl Opcode {
    /// Parses a name printed by [`Opcode::name`].
    pub fn from_name(name: &str) -> Option<Opcode> {
        Opcode::ALL.iter().copied().find(|op| op.name() == name)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shape of an op: its operands, immediate, controlling type and result.
///
/// Every instruction carries a controlling type `ty`. For most ops it is the
/// result type; for compares, flags and stores it is the operand type; for
/// vector ops it is the lane type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sig {
    /// () → ty, integer immediate.
    IConst,
    /// () → ty (float), immediate holds the IEEE bits.
    FConst,
    /// () → v128, immediate holds the bits.
    VConst,
    /// (ty) → ty, integer.
    IntUnary,
    /// (ty, ty) → ty, integer.
    IntBinary,
    /// (ty, any integer) → ty.
    Shift,
    /// (ty, ty) → i1.
    IntFlag,
    /// (ty) → i1.
    IntTest,
    /// (ty, ty) → i1 with an [`IntCC`].
    IntCompare,
    /// (i1, ty, ty) → ty.
    Select,
    /// (narrower integer) → ty.
    Extend,
    /// (wider integer) → ty.
    Reduce,
    /// (same width) → ty.
    Bitcast,
    /// (ty) → ty, float.
    FloatUnary,
    /// (ty) → ty, float, with a [`RoundingMode`].
    FloatUnaryRm,
    /// (ty, ty) → ty, float.
    FloatBinary,
    /// (ty, ty) → ty, float, with a [`RoundingMode`].
    FloatBinaryRm,
    /// (ty, ty, ty) → ty, float, with a [`RoundingMode`].
    FloatTernaryRm,
    /// (ty, ty) → i1 with a [`FloatCC`].
    FloatCompare,
    /// (ty) → i32.
    FloatClass,
    /// (integer) → ty (float), with a [`RoundingMode`].
    IntToFloat,
    /// (float) → ty (integer).
    FloatToInt,
    /// (float) → ty (float), with a [`RoundingMode`].
    FloatToFloat,
    /// (i64 address) → ty.
    Load,
    /// (i64 address, ty) → nothing.
    Store,
    /// () → ty, with a [`GuestReg`](crate::GuestReg).
    ReadReg,
    /// (ty) → nothing, with a [`GuestReg`](crate::GuestReg).
    WriteReg,
    /// (i64 address, ty) → ty, with an [`AtomicOp`].
    AtomicRmw,
    /// (i64 address, ty expected, ty new) → ty.
    AtomicCas,
    /// () → nothing.
    Fence,
    /// () → i1, read from the CPU state header each time it runs.
    Poll,
    /// (helper's arguments) → helper's result, with a [`Helper`].
    Helper,
    /// (v128) → v128.
    VecUnary,
    /// (v128, v128) → v128.
    VecBinary,
    /// (v128, integer) → v128.
    VecShift,
    /// (v128, v128) → v128 with an [`IntCC`].
    VecCompare,
    /// (v128, v128) → v128 with a [`FloatCC`].
    VecFloatCompare,
    /// (lane) → v128.
    VecSplat,
    /// (v128) → lane, with a lane index.
    VecExtract,
    /// (v128, lane) → v128, with a lane index.
    VecInsert,
    /// (v128, v128) → v128, with 16 byte indices.
    VecShuffle,
    /// (v128) → lane.
    VecReduce,
    /// (v128, v128, v128) → v128.
    VecTernary,
}

/// Which immediate an op carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImmKind {
    /// No immediate.
    None,
    /// Raw bits ([`Imm::Int`]).
    Int,
    /// [`Imm::Cc`].
    Cc,
    /// [`Imm::Fcc`].
    Fcc,
    /// [`Imm::Rm`].
    Rm,
    /// [`Imm::Reg`].
    Reg,
    /// [`Imm::Atomic`].
    Atomic,
    /// [`Imm::Helper`].
    Helper,
    /// [`Imm::Lane`].
    Lane,
    /// [`Imm::Bytes`].
    Bytes,
}

impl Sig {
    /// Number of value operands, or `None` when it varies (helpers).
    pub const fn arity(self) -> Option<usize> {
        use Sig::*;
        Some(match self {
            IConst | FConst | VConst | ReadReg | Fence | Poll => 0,
            IntUnary | IntTest | Extend | Reduce | Bitcast | FloatUnary | FloatUnaryRm
            | FloatClass | IntToFloat | FloatToInt | FloatToFloat | Load | WriteReg | VecUnary
            | VecSplat | VecExtract | VecReduce => 1,
            IntBinary | Shift | IntFlag | IntCompare | FloatBinary | FloatBinaryRm
            | FloatCompare | Store | AtomicRmw | VecBinary | VecShift | VecCompare
            | VecFloatCompare | VecInsert | VecShuffle => 2,
            Select | FloatTernaryRm | AtomicCas | VecTernary => 3,
            Helper => return None,
        })
    }

    /// The immediate this shape carries.
    pub const fn imm_kind(self) -> ImmKind {
        use Sig::*;
        match self {
            IConst | FConst | VConst => ImmKind::Int,
            IntCompare | VecCompare => ImmKind::Cc,
            FloatCompare | VecFloatCompare => ImmKind::Fcc,
            FloatUnaryRm | FloatBinaryRm | FloatTernaryRm | IntToFloat | FloatToFloat => {
                ImmKind::Rm
            }
            ReadReg | WriteReg => ImmKind::Reg,
            AtomicRmw => ImmKind::Atomic,
            Helper => ImmKind::Helper,
            VecExtract | VecInsert => ImmKind::Lane,
            VecShuffle => ImmKind::Bytes,
            _ => ImmKind::None,
        }
    }

    /// True for vector shapes, whose controlling type is a lane type.
    pub const fn is_vector(self) -> bool {
        use Sig::*;
        matches!(
            self,
            VecUnary
                | VecBinary
                | VecShift
                | VecCompare
                | VecFloatCompare
                | VecSplat
                | VecExtract
                | VecInsert
                | VecShuffle
                | VecReduce
                | VecTernary
        )
    }

    /// The result type for controlling type `ty`, or `None` for ops without a
    /// result. Helpers are resolved by [`Helper::result`] instead.
    pub fn result_type(self, ty: Type) -> Option<Type> {
        use Sig::*;
        match self {
            Store | WriteReg | Fence => None,
            IntFlag | IntTest | IntCompare | FloatCompare | Poll => Some(Type::I1),
            FloatClass => Some(Type::I32),
            VecExtract | VecReduce => Some(ty),
            VConst => Some(Type::V128),
            s if s.is_vector() => Some(Type::V128),
            _ => Some(ty),
        }
    }
}

/// Integer comparison conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntCC {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Signed less than.
    Slt,
    /// Signed less or equal.
    Sle,
    /// Signed greater than.
    Sgt,
    /// Signed greater or equal.
    Sge,
    /// Unsigned less than.
    Ult,
    /// Unsigned less or equal.
    Ule,
    /// Unsigned greater than.
    Ugt,
    /// Unsigned greater or equal.
    Uge,
}

/// Float comparison conditions. Ordered ones are false when either is NaN;
/// `Uno` is true exactly then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatCC {
    /// Ordered and equal.
    Eq,
    /// Unordered or not equal.
    Ne,
    /// Ordered and less.
    Lt,
    /// Ordered and less or equal.
    Le,
    /// Ordered and greater.
    Gt,
    /// Ordered and greater or equal.
    Ge,
    /// Neither is NaN.
    Ord,
    /// Either is NaN.
    Uno,
}

/// IEEE rounding modes, numbered as RISC-V's `frm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// To nearest, ties to even.
    Rne,
    /// Toward zero.
    Rtz,
    /// Toward negative infinity.
    Rdn,
    /// Toward positive infinity.
    Rup,
    /// To nearest, ties away from zero.
    Rmm,
    /// The guest's current dynamic rounding mode.
    Dyn,
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// Swap.
    Xchg,
    /// Wrapping add.
    Add,
    /// And.
    And,
    /// Or.
    Or,
    /// Xor.
    Xor,
    /// Signed minimum.
    Smin,
    /// Signed maximum.
    Smax,
    /// Unsigned minimum.
    Umin,
    /// Unsigned maximum.
    Umax,
}

/// Runtime helpers generated code may call. Each gets the CPU state, so the
/// builder writes dirty guest registers back before the call and reads them
/// again after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Helper {
    /// Linux system call: number and arguments in the guest ABI's registers,
    /// result written back to the guest's result register.
    Syscall,
    /// Cycle counter (RISC-V `cycle`, x86 `rdtsc`), i64.
    ReadCycle,
    /// Wall-clock timer (RISC-V `time`, aarch64 `cntvct_el0`), i64.
    ReadTime,
    /// Frequency of [`Helper::ReadTime`] in Hz, i64.
    ReadTimeFreq,
    /// Retired-instruction counter, i64.
    ReadInstret,
    /// x86 CPUID: reads eax/ecx, writes eax/ebx/ecx/edx.
    Cpuid,
    /// Moves the host's accumulated IEEE exception flags into the guest's flag
    /// register and clears them on the host.
    FpSyncFlags,
    /// The host's accumulated IEEE exception flags (x86 MXCSR bits 0-5: IE
    /// DE ZE OE UE PE), i32, left as they are. Pure: see [`Helper::is_pure`].
    FpHostFlags,
    /// Sets the guest dynamic rounding mode (i32 argument, a [`RoundingMode`]
    /// number) in the host.
    FpSetRounding,
    /// Guest code may have been modified (fence.i, cache maintenance): drop
    /// stale translations.
    FlushCode,
    /// One x86 x87 instruction on the guest's x87 state, run exactly by the
    /// host's x87 unit: i32 descriptor (`vmtrans_abi::x87`), i64 memory
    /// source bits; i64 memory destination bits.
    X87,
}

impl Helper {
    /// Every helper.
    pub const ALL: [Helper; 11] = [
        Helper::Syscall,
        Helper::ReadCycle,
        Helper::ReadTime,
        Helper::ReadTimeFreq,
        Helper::ReadInstret,
        Helper::Cpuid,
        Helper::FpSyncFlags,
        Helper::FpHostFlags,
        Helper::FpSetRounding,
        Helper::FlushCode,
        Helper::X87,
    ];

    /// Name in the text format (after `@`).
    pub const fn name(self) -> &'static str {
        match self {
            Helper::Syscall => "syscall",
            Helper::ReadCycle => "read_cycle",
            Helper::ReadTime => "read_time",
            Helper::ReadTimeFreq => "read_time_freq",
            Helper::ReadInstret => "read_instret",
            Helper::Cpuid => "cpuid",
            Helper::FpSyncFlags => "fp_sync_flags",
            Helper::FpHostFlags => "fp_host_flags",
            Helper::FpSetRounding => "fp_set_rounding",
            Helper::FlushCode => "flush_code",
            Helper::X87 => "x87",
        }
    }

    /// Argument types.
    pub const fn params(self) -> &'static [Type] {
        match self {
            Helper::FpSetRounding => &[Type::I32],
            Helper::X87 => &[Type::I32, Type::I64],
            _ => &[],
        }
    }

    /// Result type, if any.
    pub const fn result(self) -> Option<Type> {
        match self {
            Helper::ReadCycle | Helper::ReadTime | Helper::ReadTimeFreq | Helper::ReadInstret => {
                Some(Type::I64)
            }
            Helper::FpHostFlags => Some(Type::I32),
            Helper::X87 => Some(Type::I64),
            _ => None,
        }
    }

    /// A pure helper reads host state only and changes nothing the guest
    /// can see: guest registers need no reload after it, and a call whose
    /// result is unused can be removed. (They are written back before it, to
    /// keep the guest's earlier operations before it.)
    pub const fn is_pure(self) -> bool {
        matches!(self, Helper::FpHostFlags)
    }

    /// Parses a name printed by [`Helper::name`].
    pub fn from_name(name: &str) -> Option<Helper> {
        Helper::ALL.into_iter().find(|h| h.name() == name)
    }
}

/// Why a `trap` terminator stops the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    /// An undefined or unsupported instruction (guest SIGILL).
    Illegal,
    /// A breakpoint instruction (guest SIGTRAP).
    Breakpoint,
    /// Integer division fault (x86 #DE, guest SIGFPE).
    DivideError,
    /// Bytes that could not be decoded were reached (guest SIGILL).
    Undecodable,
}

macro_rules! name_table {
    ($ty:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// Name in the text format.
            pub const fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }

            /// Parses a name printed by `name`.
            pub fn from_name(name: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

name_table!(IntCC {
    Eq = "eq", Ne = "ne", Slt = "slt", Sle = "sle", Sgt = "sgt", Sge = "sge",
    Ult = "ult", Ule = "ule", Ugt = "ugt", Uge = "uge",
});
name_table!(FloatCC {
    Eq = "eq", Ne = "ne", Lt = "lt", Le = "le", Gt = "gt", Ge = "ge", Ord = "ord", Uno = "uno",
});
name_table!(RoundingMode {
    Rne = "rne", Rtz = "rtz", Rdn = "rdn", Rup = "rup", Rmm = "rmm", Dyn = "dyn",
});
name_table!(AtomicOp {
    Xchg = "xchg", Add = "add", And = "and", Or = "or", Xor = "xor",
    Smin = "smin", Smax = "smax", Umin = "umin", Umax = "umax",
});
name_table!(TrapKind {
    Illegal = "illegal", Breakpoint = "breakpoint", DivideError = "divide_error",
    Undecodable = "undecodable",
});

impl IntCC {
    /// The condition with operands swapped (`a < b` ⇔ `b > a`).
    pub const fn swapped(self) -> IntCC {
        use IntCC::*;
        match self {
            Eq => Eq,
            Ne => Ne,
            Slt => Sgt,
            Sle => Sge,
            Sgt => Slt,
            Sge => Sle,
            Ult => Ugt,
            Ule => Uge,
            Ugt => Ult,
            Uge => Ule,
        }
    }

    /// The negated condition.
    pub const fn inverse(self) -> IntCC {
        use IntCC::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            Slt => Sge,
            Sle => Sgt,
            Sgt => Sle,
            Sge => Slt,
            Ult => Uge,
            Ule => Ugt,
            Ugt => Ule,
            Uge => Ult,
        }
    }
}

impl RoundingMode {
    /// The RISC-V `frm` encoding (0..4), `Dyn` is 7.
    pub const fn number(self) -> u32 {
        match self {
            RoundingMode::Rne => 0,
            RoundingMode::Rtz => 1,
            RoundingMode::Rdn => 2,
            RoundingMode::Rup => 3,
            RoundingMode::Rmm => 4,
            RoundingMode::Dyn => 7,
        }
    }

    /// Inverse of [`RoundingMode::number`]; reserved encodings give `None`.
    pub const fn from_number(n: u32) -> Option<RoundingMode> {
        Some(match n {
            0 => RoundingMode::Rne,
            1 => RoundingMode::Rtz,
            2 => RoundingMode::Rdn,
            3 => RoundingMode::Rup,
            4 => RoundingMode::Rmm,
            7 => RoundingMode::Dyn,
            _ => return None,
        })
    }
}

/// An instruction's immediate operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Imm {
    /// None.
    None,
    /// Raw bits (constants), already masked to the type's width.
    Int(u128),
    /// Integer condition.
    Cc(IntCC),
    /// Float condition.
    Fcc(FloatCC),
    /// Rounding mode.
    Rm(RoundingMode),
    /// Guest register.
    Reg(crate::GuestReg),
    /// Atomic operation.
    Atomic(AtomicOp),
    /// Runtime helper.
    Helper(Helper),
    /// Vector lane index.
    Lane(u8),
    /// Byte indices for `vshuffle`.
    Bytes([u8; 16]),
}

impl Imm {
    /// Which kind of immediate this is.
    pub const fn kind(&self) -> ImmKind {
        match self {
            Imm::None => ImmKind::None,
            Imm::Int(_) => ImmKind::Int,
            Imm::Cc(_) => ImmKind::Cc,
            Imm::Fcc(_) => ImmKind::Fcc,
            Imm::Rm(_) => ImmKind::Rm,
            Imm::Reg(_) => ImmKind::Reg,
            Imm::Atomic(_) => ImmKind::Atomic,
            Imm::Helper(_) => ImmKind::Helper,
            Imm::Lane(_) => ImmKind::Lane,
            Imm::Bytes(_) => ImmKind::Bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &op in Opcode::ALL {
            assert!(seen.insert(op.name()), "duplicate op name {}", op.name());
            assert_eq!(Opcode::from_name(op.name()), Some(op));
        }
        assert_eq!(Opcode::from_name("nonsense"), None);
    }

    #[test]
    fn immediate_kinds_follow_signatures() {
        assert_eq!(Opcode::Icmp.sig().imm_kind(), ImmKind::Cc);
        assert_eq!(Opcode::Fadd.sig().imm_kind(), ImmKind::Rm);
        assert_eq!(Opcode::Iadd.sig().imm_kind(), ImmKind::None);
        assert_eq!(Opcode::Iadd.sig().arity(), Some(2));
        assert_eq!(Opcode::CallHelper.sig().arity(), None);
    }

    #[test]
    fn conditions_invert_and_swap() {
        for &cc in IntCC::ALL {
            assert_eq!(cc.inverse().inverse(), cc);
            assert_eq!(cc.swapped().swapped(), cc);
        }
        assert_eq!(IntCC::Slt.swapped(), IntCC::Sgt);
        assert_eq!(IntCC::Ult.inverse(), IntCC::Uge);
    }
}
