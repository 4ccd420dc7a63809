//! Property test: optimization never changes what a function does.
//!
//! Random well-typed functions are built with the [`FunctionBuilder`] from
//! a shrinkable description (blocks of random ops over a pool of values,
//! guest registers of several types through `use_reg`/`def_reg` and raw
//! `read_reg`/`write_reg`, loads/stores in a small memory window, helper
//! and guest calls, float and vector ops, branches, switches and bounded
//! loops). Each function is optimized at every level; the reference
//! interpreter must give the same outcome, registers and memory before and
//! after, and the text format must round-trip both versions.
//!
//! Set `OPT_EQ_STATS=1` (with `--nocapture`) to print, per case, the
//! instruction and block counts before and after and the outcome.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use vmtrans_ir::interp::{run, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::parse::parse_function;
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::print::print_function;
use vmtrans_ir::{
    AtomicOp, Block, FloatCC, Function, FunctionBuilder, GuestReg, Helper, Imm, IntCC, Opcode,
    RegFile, RoundingMode, TrapKind, Type, Value,
};

const WINDOW: u64 = 0x1000;
const WINDOW_LEN: u64 = 0x220;
/// The loop counter register: only loop back edges write it.
const COUNTER: GuestReg = GuestReg(10);

fn regfile() -> Arc<RegFile> {
    let regs = [
        ("x0", Type::I64),
        ("x1", Type::I64),
        ("x2", Type::I64),
        ("x3", Type::I64),
        ("w", Type::I32),
        ("h", Type::I8),
        ("fd", Type::F64),
        ("fs", Type::F32),
        ("cf", Type::I1),
        ("zf", Type::I1),
        ("cnt", Type::I64),
        ("q", Type::I128),
    ];
    Arc::new(RegFile::new(
        "prop",
        regs.iter().map(|(n, t)| (n.to_string(), *t)),
    ))
}

const INT_TYPES: [Type; 6] = [
    Type::I1,
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::I128,
];
const MEM_TYPES: [Type; 7] = [
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::I128,
    Type::F32,
    Type::F64,
];
const INT_BINARY: [Opcode; 18] = [
    Opcode::Iadd,
    Opcode::Isub,
    Opcode::Imul,
    Opcode::Umulhi,
    Opcode::Smulhi,
    Opcode::Sumulhi,
    Opcode::Udiv,
    Opcode::Sdiv,
    Opcode::Urem,
    Opcode::Srem,
    Opcode::Band,
    Opcode::Bor,
    Opcode::Bxor,
    Opcode::BandNot,
    Opcode::Umin,
    Opcode::Smax,
    Opcode::Ishl,
    Opcode::Sshr,
];
const INT_UNARY: [Opcode; 7] = [
    Opcode::Ineg,
    Opcode::Bnot,
    Opcode::Clz,
    Opcode::Ctz,
    Opcode::Popcnt,
    Opcode::Bswap,
    Opcode::Bitrev,
];
const FLAGS: [Opcode; 5] = [
    Opcode::UaddOverflow,
    Opcode::SaddOverflow,
    Opcode::UsubOverflow,
    Opcode::SsubOverflow,
    Opcode::Parity,
];
const FLOAT_BINARY: [Opcode; 9] = [
    Opcode::Fadd,
    Opcode::Fsub,
    Opcode::Fmul,
    Opcode::Fdiv,
    Opcode::Fmin,
    Opcode::Fmax,
    Opcode::Fminnum,
    Opcode::Fmaxnum,
    Opcode::Fcopysign,
];
const MODES: [RoundingMode; 6] = [
    RoundingMode::Rne,
    RoundingMode::Rtz,
    RoundingMode::Rdn,
    RoundingMode::Rup,
    RoundingMode::Rmm,
    RoundingMode::Dyn,
];

/// One random op: a kind and operand choices interpreted modulo whatever
/// is available.
#[derive(Clone, Debug)]
struct OpSpec {
    kind: u8,
    a: u8,
    b: u8,
    c: u8,
    imm: u64,
}

/// How a block ends; targets are offsets to later blocks.
#[derive(Clone, Debug)]
enum TermSpec {
    Jump(u8),
    Brif(u8, u8, u8),
    Switch(u8, u8, u8),
    Loop(u8),
    Call(u8, u16, bool),
    Exit(u8),
    Ret(u8),
    Trap,
}

#[derive(Clone, Debug)]
struct BlockSpec {
    ops: Vec<OpSpec>,
    term: TermSpec,
}

fn op_spec() -> impl Strategy<Value = OpSpec> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u64>(),
    )
        .prop_map(|(kind, a, b, c, imm)| OpSpec { kind, a, b, c, imm })
}

fn term_spec() -> impl Strategy<Value = TermSpec> {
    prop_oneof![
        3 => any::<u8>().prop_map(TermSpec::Jump),
        4 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(c, t, e)| TermSpec::Brif(c, t, e)),
        1 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(v, a, b)| TermSpec::Switch(v, a, b)),
        2 => any::<u8>().prop_map(TermSpec::Loop),
        1 => (any::<u8>(), any::<u16>(), any::<bool>())
            .prop_map(|(c, t, ok)| TermSpec::Call(c, t, ok)),
        1 => any::<u8>().prop_map(TermSpec::Exit),
        1 => any::<u8>().prop_map(TermSpec::Ret),
        1 => Just(TermSpec::Trap),
    ]
}

fn block_spec() -> impl Strategy<Value = BlockSpec> {
    (prop::collection::vec(op_spec(), 0..14), term_spec())
        .prop_map(|(ops, term)| BlockSpec { ops, term })
}

/// Initial guest state and memory.
#[derive(Clone, Debug)]
struct Setup {
    regs: Vec<u128>,
    counter: u8,
    dyn_rm: u8,
    memory: Vec<u8>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::collection::vec(any::<u128>(), 12),
        0u8..4,
        0u8..5,
        prop::collection::vec(any::<u8>(), 64),
    )
        .prop_map(|(regs, counter, dyn_rm, memory)| Setup {
            regs,
            counter,
            dyn_rm,
            memory,
        })
}

/// Interesting constants: zero, one, all ones, sign bit, max, small, raw.
fn constant(ty: Type, imm: u64) -> i128 {
    let w = ty.bits();
    let raw = i128::from(imm >> 3) | (i128::from(imm) << 64);
    match imm % 8 {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => 1i128.wrapping_shl(w - 1),
        4 => 1i128.wrapping_shl(w - 1).wrapping_sub(1),
        5 => i128::from((imm >> 3) % 16),
        _ => raw,
    }
}

fn float_constant(ty: Type, imm: u64) -> u64 {
    let f = match imm % 8 {
        0 => 0.0,
        1 => -0.0,
        2 => 1.5,
        3 => f64::NAN,
        4 => f64::INFINITY,
        5 => 1e-310,
        _ => return imm & ty.mask() as u64,
    };
    if ty == Type::F32 {
        u64::from((f as f32).to_bits())
    } else {
        f.to_bits()
    }
}

/// Builds one block's ops.
struct Gen<'a> {
    fb: &'a mut FunctionBuilder,
    pool: Vec<(Value, Type)>,
}

impl Gen<'_> {
    fn reg(&self, i: u8) -> (GuestReg, Type) {
        let regs = self.fb.regs();
        let r = GuestReg(u16::from(i) % regs.len() as u16);
        (r, regs.desc(r).ty)
    }

    fn push(&mut self, v: Value) -> Value {
        let ty = self.fb.func().value_type(v);
        self.pool.push((v, ty));
        v
    }

    /// Pool values satisfying `ok`, most recent first.
    fn recent(&self, ok: impl Fn(Type) -> bool) -> Vec<(Value, Type)> {
        self.pool
            .iter()
            .rev()
            .copied()
            .filter(|(_, t)| ok(*t))
            .collect()
    }

    /// Choice `i` among `fit` (most recent first): usually one of the last
    /// few, so computations chain and reach the observable state.
    fn choose(fit: &[(Value, Type)], i: u8) -> (Value, Type) {
        let i = usize::from(i);
        if i.is_multiple_of(8) {
            fit[i / 8 % fit.len()]
        } else {
            fit[i % fit.len().min(3)]
        }
    }

    /// A pool value of type `ty` (choice `i`), or a new constant.
    fn value_of(&mut self, ty: Type, i: u8, imm: u64) -> Value {
        let fit = self.recent(|t| t == ty);
        if !fit.is_empty() && !i.is_multiple_of(4) {
            return Self::choose(&fit, i / 4).0;
        }
        let v = if ty.is_float() {
            self.fb.fconst(ty, float_constant(ty, imm))
        } else if ty == Type::V128 {
            self.fb.vconst(u128::from(imm) * 0x1_0000_0001)
        } else {
            self.fb.iconst(ty, constant(ty, imm))
        };
        self.push(v)
    }

    /// Any pool value satisfying `ok` (choice `i`), else a constant of `dflt`.
    fn any_value(&mut self, i: u8, imm: u64, ok: fn(Type) -> bool, dflt: Type) -> (Value, Type) {
        let fit = self.recent(ok);
        if fit.is_empty() || i % 8 == 7 {
            let v = self.value_of(dflt, 0, imm);
            (v, dflt)
        } else {
            Self::choose(&fit, i)
        }
    }

    /// `v` as an i64 (extended, truncated or bitcast).
    fn widen_to_i64(&mut self, v: Value, ty: Type) -> Option<Value> {
        Some(match ty {
            Type::I64 => v,
            Type::F64 => self.fb.bitcast(Type::I64, v),
            Type::F32 => {
                let i = self.fb.bitcast(Type::I32, v);
                self.fb.uext(Type::I64, i)
            }
            Type::I128 => self.fb.ireduce(Type::I64, v),
            Type::V128 => return None,
            _ => self.fb.sext(Type::I64, v),
        })
    }

    /// Makes computations observable: every other pool value is folded
    /// into one register (the rest stay dead for DCE), and registers get
    /// the latest values of their types.
    fn sink(&mut self, block: usize) {
        let values: Vec<(Value, Type)> = self
            .pool
            .iter()
            .copied()
            .skip(block % 2)
            .step_by(2)
            .collect();
        let mut acc: Option<Value> = None;
        for (v, ty) in values {
            let Some(x) = self.widen_to_i64(v, ty) else {
                continue;
            };
            acc = Some(match acc {
                None => x,
                Some(a) => {
                    let r = self.fb.rotl(a, x);
                    self.fb.bxor(r, x)
                }
            });
        }
        if let Some(a) = acc {
            self.fb.def_reg(GuestReg((block % 4) as u16), a);
        }
        self.sink_latest(block);
    }

    /// Defines guest registers from the latest values of their types.
    fn sink_latest(&mut self, block: usize) {
        let regs = self.fb.regs().clone();
        for (i, desc) in regs.regs.iter().enumerate() {
            let r = GuestReg(i as u16);
            let fit = self.recent(|t| t == desc.ty);
            if r == COUNTER || fit.is_empty() || (i + block).is_multiple_of(3) {
                continue;
            }
            self.fb.def_reg(r, fit[(i + block) % fit.len().min(2)].0);
        }
    }

    fn int_value(&mut self, i: u8, imm: u64) -> (Value, Type) {
        let dflt = INT_TYPES[usize::from(i) % INT_TYPES.len()];
        self.any_value(i, imm, Type::is_int, dflt)
    }

    /// An address inside the memory window, derived from a pool value.
    fn address(&mut self, i: u8, imm: u64) -> Value {
        let (v, ty) = self.int_value(i, imm);
        let v = match ty.bits() {
            64 => v,
            w if w < 64 => self.fb.uext(Type::I64, v),
            _ => self.fb.ireduce(Type::I64, v),
        };
        let mask = self.fb.iconst(Type::I64, 0x1ff);
        let off = self.fb.band(v, mask);
        let base = self.fb.iconst(Type::I64, i128::from(WINDOW));
        self.fb.iadd(off, base)
    }

    fn op(&mut self, s: &OpSpec) {
        let pick = |n: usize| usize::from(s.b) % n;
        match s.kind % 20 {
            0 | 1 => {
                let (r, _) = self.reg(s.a);
                let v = self.fb.use_reg(r);
                self.push(v);
            }
            2 => {
                let ty = INT_TYPES[pick(INT_TYPES.len())];
                let v = self.fb.iconst(ty, constant(ty, s.imm));
                self.push(v);
            }
            3..=5 => {
                let (x, ty) = self.int_value(s.a, s.imm);
                let y = self.value_of(ty, s.c, s.imm);
                let (x, y) = if s.c % 4 == 1 { (y, x) } else { (x, y) };
                let op = INT_BINARY[pick(INT_BINARY.len())];
                let v = self.fb.ins(op, ty, &[x, y], Imm::None).unwrap();
                self.push(v);
            }
            6 => {
                let (x, ty) = self.int_value(s.a, s.imm);
                let op = INT_UNARY[pick(INT_UNARY.len())];
                let v = self.fb.ins(op, ty, &[x], Imm::None).unwrap();
                self.push(v);
            }
            7 => {
                let (x, ty) = self.int_value(s.a, s.imm);
                let (amt, _) = self.int_value(s.c, s.imm);
                let ops = [Opcode::Ushr, Opcode::Rotl, Opcode::Rotr, Opcode::Ishl];
                let v = self.fb.ins(ops[pick(4)], ty, &[x, amt], Imm::None).unwrap();
                self.push(v);
            }
            8 => {
                let (x, ty) = self.int_value(s.a, s.imm);
                let y = self.value_of(ty, s.c, s.imm);
                let v = if s.b.is_multiple_of(3) {
                    let op = FLAGS[pick(FLAGS.len())];
                    let args: &[Value] = if op == Opcode::Parity { &[x] } else { &[x, y] };
                    self.fb.ins(op, ty, args, Imm::None).unwrap()
                } else {
                    let cc = IntCC::ALL[pick(IntCC::ALL.len())];
                    self.fb.icmp(cc, x, y)
                };
                self.push(v);
            }
            9 => {
                let c = self.value_of(Type::I1, s.b, s.imm);
                let (x, ty) = self.any_value(s.a, s.imm, |_| true, Type::I64);
                let y = self.value_of(ty, s.c, s.imm >> 7);
                let v = self.fb.select(c, x, y);
                self.push(v);
            }
            10 => self.convert(s),
            11 => {
                let (r, ty) = self.reg(s.a);
                if r != COUNTER {
                    let v = self.value_of(ty, s.c, s.imm);
                    self.fb.def_reg(r, v);
                }
            }
            12 => {
                let addr = self.address(s.a, s.imm);
                let ty = MEM_TYPES[pick(MEM_TYPES.len())];
                let v = self.fb.load(ty, addr);
                self.push(v);
            }
            13 => {
                let addr = self.address(s.a, s.imm);
                let (v, _) = self.any_value(s.c, s.imm, |t| t != Type::V128, Type::I32);
                self.fb.store(addr, v);
            }
            14 | 15 => self.float(s),
            16 => {
                // Raw register access, bypassing SSA tracking.
                let (r, ty) = self.reg(s.a);
                if s.b.is_multiple_of(2) {
                    let v = self.fb.read_reg(r);
                    self.push(v);
                } else if r != COUNTER {
                    let v = self.value_of(ty, s.c, s.imm);
                    self.fb.write_reg(r, v);
                }
            }
            17 => {
                let h = [Helper::Syscall, Helper::ReadCycle, Helper::FpSetRounding][pick(3)];
                let args = if h == Helper::FpSetRounding {
                    vec![self.fb.iconst(Type::I32, i128::from(s.imm % 5))]
                } else {
                    Vec::new()
                };
                if let Some(v) = self.fb.call_helper(h, &args) {
                    self.push(v);
                }
            }
            18 => {
                let addr = self.address(s.a, s.imm & !7);
                let ty = [Type::I32, Type::I64][pick(2)];
                let x = self.value_of(ty, s.c, s.imm);
                let v = if s.b.is_multiple_of(3) {
                    let y = self.value_of(ty, s.c.wrapping_add(1), s.imm >> 5);
                    self.fb.atomic_cas(addr, x, y)
                } else {
                    let op = AtomicOp::ALL[pick(AtomicOp::ALL.len())];
                    self.fb.atomic_rmw(op, addr, x)
                };
                self.push(v);
            }
            _ => self.vector(s),
        }
    }

    /// Extensions, reductions and bitcasts.
    fn convert(&mut self, s: &OpSpec) {
        let (x, ty) = self.int_value(s.a, s.imm);
        let to = INT_TYPES[usize::from(s.b) % INT_TYPES.len()];
        let v = if to.bits() > ty.bits() {
            if s.c.is_multiple_of(2) {
                self.fb.uext(to, x)
            } else {
                self.fb.sext(to, x)
            }
        } else if to.bits() < ty.bits() {
            self.fb.ireduce(to, x)
        } else if ty == Type::I64 {
            self.fb.bitcast(Type::F64, x)
        } else if ty == Type::I32 {
            self.fb.bitcast(Type::F32, x)
        } else {
            return;
        };
        self.push(v);
    }

    fn float(&mut self, s: &OpSpec) {
        let ty = if s.c.is_multiple_of(3) {
            Type::F32
        } else {
            Type::F64
        };
        let rm = MODES[usize::from(s.c / 3) % MODES.len()];
        let x = self.value_of(ty, s.a, s.imm);
        let y = self.value_of(ty, s.c, s.imm >> 13);
        let v = match s.b % 10 {
            0..=2 => {
                let op = FLOAT_BINARY[usize::from(s.b) % FLOAT_BINARY.len()];
                let imm = if op.sig().imm_kind() == vmtrans_ir::ImmKind::Rm {
                    Imm::Rm(rm)
                } else {
                    Imm::None
                };
                self.fb.ins(op, ty, &[x, y], imm).unwrap()
            }
            3 => {
                let z = self.value_of(ty, s.a.wrapping_add(1), s.imm >> 20);
                self.fb.fma(rm, x, y, z)
            }
            4 => match s.b % 3 {
                0 => self.fb.fsqrt(rm, x),
                1 => self.fb.fround(rm, x),
                _ => self.fb.fclass(x),
            },
            5 => self
                .fb
                .fcmp(FloatCC::ALL[usize::from(s.b) % FloatCC::ALL.len()], x, y),
            6 => {
                let (i, ity) = self.int_value(s.a, s.imm);
                if ity == Type::I1 {
                    return;
                }
                if s.b.is_multiple_of(2) {
                    self.fb.fcvt_from_sint(ty, rm, i)
                } else {
                    self.fb.fcvt_from_uint(ty, rm, i)
                }
            }
            7 => {
                let to = INT_TYPES[1 + usize::from(s.b) % 5];
                if s.a.is_multiple_of(2) {
                    self.fb.fcvt_to_sint(to, x)
                } else {
                    self.fb.fcvt_to_uint(to, x)
                }
            }
            8 => {
                let other = if ty == Type::F32 {
                    Type::F64
                } else {
                    Type::F32
                };
                self.fb.fconvert(other, rm, x)
            }
            _ => {
                if s.a.is_multiple_of(2) {
                    self.fb.fneg(x)
                } else {
                    self.fb.fabs(x)
                }
            }
        };
        self.push(v);
    }

    /// A vector operand: a pool vector, a splat of a lane value, or a
    /// constant.
    fn vector_value(&mut self, lane: Type, i: u8, imm: u64) -> Value {
        let fit = self.recent(|t| t == Type::V128);
        match i % 3 {
            0 if !fit.is_empty() => Self::choose(&fit, i / 3).0,
            1 => {
                let x = self.value_of(lane, i / 3, imm);
                self.fb.vsplat(lane, x)
            }
            _ => self.value_of(Type::V128, 0, imm),
        }
    }

    /// A random vector op, whose result (or one lane of it) joins the pool.
    fn vector(&mut self, s: &OpSpec) {
        const LANES: [Type; 6] = [
            Type::I8,
            Type::I16,
            Type::I32,
            Type::I64,
            Type::F32,
            Type::F64,
        ];
        let lane = LANES[usize::from(s.b) % LANES.len()];
        let fits = |op: &&Opcode| {
            let name = op.name();
            let float = name.starts_with("vf");
            op.sig().is_vector()
                && !matches!(op, Opcode::Vsplat | Opcode::Vextract)
                && (!float || lane.bits() >= 32)
                && (op.sig() != vmtrans_ir::Sig::VecFloatCompare || lane.is_float())
                && !(name.starts_with("vnarrow") && lane.bits() < 16)
        };
        let ops: Vec<Opcode> = Opcode::ALL.iter().filter(fits).copied().collect();
        let op = ops[usize::from(s.c) % ops.len()];
        let x = self.vector_value(lane, s.a, s.imm);
        let y = self.vector_value(lane, s.a / 7, s.imm.rotate_left(17));
        let index = (s.imm % u64::from(lane.lanes())) as u8;
        let (args, imm) = match op.sig() {
            vmtrans_ir::Sig::VecBinary => (vec![x, y], Imm::None),
            vmtrans_ir::Sig::VecShift => {
                let (amount, _) = self.int_value(s.a, s.imm % 80);
                (vec![x, amount], Imm::None)
            }
            vmtrans_ir::Sig::VecCompare => (vec![x, y], Imm::Cc(IntCC::ALL[index as usize % 10])),
            vmtrans_ir::Sig::VecFloatCompare => {
                (vec![x, y], Imm::Fcc(FloatCC::ALL[index as usize % 8]))
            }
            vmtrans_ir::Sig::VecTernary => {
                let z = self.vector_value(lane, s.c, s.imm >> 3);
                (vec![x, y, z], Imm::None)
            }
            vmtrans_ir::Sig::VecShuffle => {
                let bytes = std::array::from_fn(|i| ((s.imm >> (i * 4)) as u8 & 0xf) * 2 % 32);
                (vec![x, y], Imm::Bytes(bytes))
            }
            vmtrans_ir::Sig::VecInsert => {
                let scalar = self.value_of(lane, s.b, s.imm);
                (vec![x, scalar], Imm::Lane(index))
            }
            _ => (vec![x], Imm::None),
        };
        let v = self.fb.ins(op, lane, &args, imm).unwrap();
        self.push(v);
        if self.fb.func().value_type(v) == Type::V128 {
            let e = self.fb.vextract(lane, index, v);
            self.push(e);
        }
    }

    /// A pc value for exits and returns.
    fn pc(&mut self, i: u8) -> Value {
        if i.is_multiple_of(2) {
            self.fb.iconst(Type::I64, 0x4000 + i128::from(i))
        } else {
            self.value_of(Type::I64, i, u64::from(i))
        }
    }
}

/// Builds the function a description stands for.
///
/// Every block is reachable: each non-final block's first successor is the
/// next block, and a block that leaves the function early branches to the
/// next block or to an extra block that leaves. (The builder cannot yet
/// build unreachable cycles of single-predecessor blocks.)
fn build(blocks: &[BlockSpec]) -> Function {
    let mut fb = FunctionBuilder::new("prop", 0x1000, regfile());
    let entry = fb.current_block().unwrap();
    let mut ids: Vec<Block> = vec![entry];
    for _ in 1..blocks.len() {
        ids.push(fb.create_block());
    }
    let n = blocks.len();
    for (i, spec) in blocks.iter().enumerate() {
        fb.switch_to_block(ids[i]);
        let mut g = Gen {
            fb: &mut fb,
            pool: Vec::new(),
        };
        for op in &spec.ops {
            g.op(op);
        }
        g.sink(i);
        terminate(&mut g, &spec.term, i, n, &ids);
    }
    fb.finish()
}

/// Ends block `i` of `n`.
fn terminate(g: &mut Gen, term: &TermSpec, i: usize, n: usize, ids: &[Block]) {
    if i + 1 == n {
        return leave(g, term);
    }
    let next = ids[i + 1];
    // Any later block.
    let fwd = |k: u8| ids[i + 1 + usize::from(k) % (n - i - 1)];
    match *term {
        TermSpec::Jump(_) => g.fb.jump(next, &[]),
        TermSpec::Brif(c, t, e) => {
            let cond = g.value_of(Type::I1, c, u64::from(t));
            g.fb.brif(cond, next, fwd(e));
        }
        TermSpec::Switch(v, a, b) => {
            let (x, _) = g.int_value(v, u64::from(v));
            let x = match g.fb.func().value_type(x).bits() {
                64 => x,
                w if w < 64 => g.fb.uext(Type::I64, x),
                _ => g.fb.ireduce(Type::I64, x),
            };
            let three = g.fb.iconst(Type::I64, 3);
            let idx = g.fb.band(x, three);
            g.fb.switch(idx, &[(0, fwd(a)), (2, fwd(b))], next);
        }
        TermSpec::Loop(back) if i > 0 => {
            let c = g.fb.use_reg(COUNTER);
            let one = g.fb.iconst(Type::I64, 1);
            let c1 = g.fb.isub(c, one);
            g.fb.def_reg(COUNTER, c1);
            let zero = g.fb.iconst(Type::I64, 0);
            let more = g.fb.icmp(IntCC::Sgt, c, zero);
            let target = ids[1 + usize::from(back) % i];
            g.fb.brif(more, target, next);
        }
        TermSpec::Call(_, t, ok) => {
            let target = 0x8000 + u64::from(t) * 16;
            let tv = g.fb.iconst(Type::I64, i128::from(target));
            let ret = if ok { target + 4 } else { target + 8 };
            g.fb.call(tv, ret, next);
        }
        TermSpec::Loop(p) | TermSpec::Exit(p) | TermSpec::Ret(p) => {
            let side = g.fb.create_block();
            let cond = g.value_of(Type::I1, p, u64::from(p));
            g.fb.brif(cond, side, next);
            g.fb.switch_to_block(side);
            leave(g, term);
        }
        TermSpec::Trap => {
            let side = g.fb.create_block();
            let cond = g.value_of(Type::I1, 0, 0);
            g.fb.brif(cond, next, side);
            g.fb.switch_to_block(side);
            leave(g, term);
        }
    }
}

/// Leaves the function as `term` says (exit for branching shapes).
fn leave(g: &mut Gen, term: &TermSpec) {
    match *term {
        TermSpec::Ret(p) => {
            let pc = g.pc(p);
            g.fb.ret(pc);
        }
        TermSpec::Trap => g.fb.trap(TrapKind::Illegal, 0x1234),
        TermSpec::Exit(p)
        | TermSpec::Jump(p)
        | TermSpec::Brif(p, ..)
        | TermSpec::Switch(p, ..)
        | TermSpec::Loop(p)
        | TermSpec::Call(p, ..) => {
            let pc = g.pc(p);
            g.fb.exit(pc);
        }
    }
}

/// Deterministic helpers and callees.
struct PropEnv {
    cycles: u64,
}

impl Env for PropEnv {
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        match h {
            Helper::Syscall => {
                let r = state.regs[0].wrapping_mul(3).wrapping_add(state.regs[1]);
                state.regs[0] = r & u128::from(u64::MAX);
                state.regs[8] ^= 1;
                mem.store(WINDOW + 0x200, 8, state.regs[2])
                    .map_err(|f| InterpError::Unsupported(format!("syscall store: {f}")))?;
                Ok(None)
            }
            Helper::ReadCycle => {
                self.cycles += 7;
                Ok(Some(self.cycles.into()))
            }
            Helper::FpSetRounding => {
                state.dyn_rm =
                    RoundingMode::from_number(args[0] as u32).unwrap_or(RoundingMode::Rne);
                Ok(None)
            }
            other => Err(InterpError::Unsupported(format!("helper {}", other.name()))),
        }
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        state.regs[3] ^= u128::from(target);
        state.regs[0] = (state.regs[0] + 1) & u128::from(u64::MAX);
        state.regs[6] = u128::from(1.25f64.to_bits());
        Ok(target + 4)
    }
}

type Observation = (Result<Outcome, String>, GuestState, BTreeMap<u64, u8>);

fn observe(f: &Function, s: &Setup) -> Observation {
    let mut state = GuestState::new(&f.regs);
    for (i, desc) in f.regs.regs.iter().enumerate() {
        state.regs[i] = s.regs[i] & desc.ty.mask();
    }
    state.regs[COUNTER.index()] = u128::from(s.counter);
    state.dyn_rm = RoundingMode::from_number(u32::from(s.dyn_rm)).unwrap();
    let mut mem = SparseMemory::with_region(WINDOW..WINDOW + WINDOW_LEN);
    mem.write_bytes(WINDOW, &s.memory);
    let r = run(f, &mut state, &mut mem, &mut PropEnv { cycles: 0 }, 50_000);
    // Error locations name instructions, which passes renumber: compare the
    // kind of error only.
    let r = r.map_err(|e| match e {
        InterpError::OutOfFuel { .. } => "out of fuel".to_string(),
        other => format!("{other}"),
    });
    (r, state, mem.nonzero_bytes())
}

fn assert_round_trip(f: &Function) -> Result<(), TestCaseError> {
    let text = print_function(f);
    let parsed = parse_function(&text, f.regs.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert_eq!(print_function(&parsed), text);
    Ok(())
}

fn program() -> impl Strategy<Value = Vec<BlockSpec>> {
    prop::collection::vec(block_spec(), 1..7)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn optimization_preserves_behaviour(blocks in program(), s in setup()) {
        let original = build(&blocks);
        vmtrans_ir::verify::verify_function(&original)
            .map_err(|e| TestCaseError::fail(format!("generator bug: {e}")))?;
        assert_round_trip(&original)?;
        let before = observe(&original, &s);
        prop_assert!(
            !matches!(&before.0, Err(e) if e != "out of fuel"),
            "original failed: {:?}", before.0
        );
        for level in [OptLevel::Basic, OptLevel::Full] {
            let mut f = original.clone();
            let opts = OptOptions { level, verify_each: true, max_rounds: 8 };
            optimize_function(&mut f, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
            assert_round_trip(&f)?;
            if before.0.is_err() {
                continue; // out of fuel: the optimized function may finish
            }
            let after = observe(&f, &s);
            if std::env::var_os("OPT_EQ_STATS").is_some() {
                eprintln!(
                    "{level:?} insts {} -> {} blocks {} -> {} outcome {:?}",
                    original.inst_count(), f.inst_count(),
                    original.layout().len(), f.layout().len(), before.0
                );
            }
            prop_assert_eq!(
                &before, &after,
                "{:?}\n--- original\n{}\n--- optimized\n{}",
                level, print_function(&original), print_function(&f)
            );
        }
    }
}
