//! The op cases the differential tests draw from: every (op, type,
//! operand types) shape the verifier accepts, the immediates worth trying,
//! and edge-biased operand values.

use vmtrans_ir::{FloatCC, Imm, ImmKind, IntCC, Opcode, RoundingMode, Sig, Type};

/// Integer types.
pub const INTS: [Type; 6] = [
    Type::I1,
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::I128,
];
/// Float types.
pub const FLOATS: [Type; 2] = [Type::F32, Type::F64];
/// Vector lane types.
pub const LANES: [Type; 6] = [
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::F32,
    Type::F64,
];

/// One op at one controlling type with its operand types.
#[derive(Clone, Debug)]
pub struct Case {
    /// The op.
    pub op: Opcode,
    /// Its controlling type.
    pub ty: Type,
    /// Operand types.
    pub args: Vec<Type>,
}

/// A case.
pub fn case(op: Opcode, ty: Type, args: &[Type]) -> Case {
    Case {
        op,
        ty,
        args: args.to_vec(),
    }
}

/// Every (op, type, operand types) the verifier may accept, by signature.
pub fn cases() -> Vec<Case> {
    use Sig::*;
    let mut out = Vec::new();
    let v = Type::V128;
    for &op in Opcode::ALL {
        let sig = op.sig();
        match sig {
            IConst => out.extend(INTS.iter().map(|&t| case(op, t, &[]))),
            FConst => out.extend(FLOATS.iter().map(|&t| case(op, t, &[]))),
            VConst => out.push(case(op, v, &[])),
            IntUnary | IntTest => out.extend(INTS.iter().map(|&t| case(op, t, &[t]))),
            IntBinary | IntFlag | IntCompare => {
                out.extend(INTS.iter().map(|&t| case(op, t, &[t, t])))
            }
            Shift => {
                for &t in &INTS {
                    out.extend(INTS.iter().map(|&a| case(op, t, &[t, a])));
                }
            }
            Select => out.extend(Type::ALL.iter().map(|&t| case(op, t, &[Type::I1, t, t]))),
            Extend | Reduce => {
                for &to in &INTS {
                    for &from in &INTS {
                        let ok = if sig == Extend {
                            from.bits() < to.bits()
                        } else {
                            from.bits() > to.bits()
                        };
                        if ok {
                            out.push(case(op, to, &[from]));
                        }
                    }
                }
            }
            Bitcast => {
                for (a, b) in [
                    (Type::I32, Type::F32),
                    (Type::I64, Type::F64),
                    (Type::I128, Type::V128),
                ] {
                    out.push(case(op, a, &[b]));
                    out.push(case(op, b, &[a]));
                }
            }
            FloatUnary | FloatUnaryRm | FloatClass => {
                out.extend(FLOATS.iter().map(|&t| case(op, t, &[t])))
            }
            FloatBinary | FloatBinaryRm | FloatCompare => {
                out.extend(FLOATS.iter().map(|&t| case(op, t, &[t, t])))
            }
            FloatTernaryRm => out.extend(FLOATS.iter().map(|&t| case(op, t, &[t, t, t]))),
            IntToFloat => {
                for &f in &FLOATS {
                    out.extend(INTS[1..].iter().map(|&i| case(op, f, &[i])));
                }
            }
            FloatToInt => {
                for &i in &INTS[1..] {
                    out.extend(FLOATS.iter().map(|&f| case(op, i, &[f])));
                }
            }
            FloatToFloat => {
                out.push(case(op, Type::F64, &[Type::F32]));
                out.push(case(op, Type::F32, &[Type::F64]));
            }
            VecUnary | VecBinary | VecCompare | VecTernary => {
                let n = sig.arity().unwrap_or(0);
                out.extend(LANES.iter().map(|&t| case(op, t, &vec![v; n])));
            }
            VecFloatCompare => out.extend(FLOATS.iter().map(|&t| case(op, t, &[v, v]))),
            VecShift => {
                for &t in &LANES {
                    out.extend(INTS.iter().map(|&a| case(op, t, &[v, a])));
                }
            }
            VecSplat => out.extend(LANES.iter().map(|&t| case(op, t, &[t]))),
            VecExtract | VecReduce => out.extend(LANES.iter().map(|&t| case(op, t, &[v]))),
            VecInsert => out.extend(LANES.iter().map(|&t| case(op, t, &[v, t]))),
            VecShuffle => out.push(case(op, Type::I8, &[v, v])),
            Load | Store | ReadReg | WriteReg | AtomicRmw | AtomicCas | Fence | Poll | Helper => {}
        }
    }
    out
}

/// Immediates worth trying for a case (all conditions and rounding modes,
/// a few lanes, shuffles and constants).
pub fn immediates(c: &Case) -> Vec<Imm> {
    match c.op.sig().imm_kind() {
        ImmKind::None => vec![Imm::None],
        ImmKind::Cc => IntCC::ALL.iter().map(|&cc| Imm::Cc(cc)).collect(),
        ImmKind::Fcc => FloatCC::ALL.iter().map(|&cc| Imm::Fcc(cc)).collect(),
        ImmKind::Rm => RoundingMode::ALL.iter().map(|&rm| Imm::Rm(rm)).collect(),
        ImmKind::Lane => {
            let n = c.ty.lanes() as u8;
            let mut l = vec![0, n - 1, n / 2];
            l.dedup();
            l.into_iter().map(Imm::Lane).collect()
        }
        ImmKind::Bytes => {
            let mut masks = vec![[0u8; 16], [17u8; 16]];
            let mut ident = [0u8; 16];
            let mut rev = [0u8; 16];
            for i in 0..16 {
                ident[i] = i as u8;
                rev[i] = 31 - i as u8;
            }
            masks.push(ident);
            masks.push(rev);
            let mut rng = XorShift(0x5eed);
            masks.push(std::array::from_fn(|_| (rng.next() % 32) as u8));
            masks.into_iter().map(Imm::Bytes).collect()
        }
        ImmKind::Int => {
            let mut rng = XorShift(0xc0ffee ^ c.ty.bits() as u64);
            let mut vals: Vec<u128> = edge_values(c.ty).into_iter().take(6).collect();
            vals.push(rng.bits128());
            vals.into_iter()
                .map(|v| Imm::Int(v & c.ty.mask()))
                .collect()
        }
        ImmKind::Reg | ImmKind::Atomic | ImmKind::Helper => Vec::new(),
    }
}

/// A small deterministic generator (xorshift64*).
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 128 random bits.
    pub fn bits128(&mut self) -> u128 {
        u128::from(self.next()) | u128::from(self.next()) << 64
    }
}

const F32_EDGES: [u32; 28] = [
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0x7f80_0001,
    0xffc1_2345,
    0x0000_0001,
    0x007f_ffff,
    0x0080_0000,
    0x7f7f_ffff,
    0x3f00_0000,
    0x3fc0_0000,
    0x4020_0000,
    0xc020_0000,
    0x4060_0000,
    0x4f00_0000,
    0xcf00_0000,
    0x4f80_0000,
    0x5f00_0000,
    0xdf00_0000,
    0x5f80_0000,
    0x7f00_0000,
    0xff00_0000,
    0x3dcc_cccd,
    0x4b80_0001,
];

const F64_EDGES: [u64; 30] = [
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0xfff8_1234_5678_9abc,
    0x0000_0000_0000_0001,
    0x000f_ffff_ffff_ffff,
    0x0010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x3fe0_0000_0000_0000,
    0x3ff8_0000_0000_0000,
    0x4004_0000_0000_0000,
    0xc004_0000_0000_0000,
    0x41e0_0000_0000_0000,
    0xc1e0_0000_0000_0000,
    0x41f0_0000_0000_0000,
    0x43e0_0000_0000_0000,
    0xc3e0_0000_0000_0000,
    0x43f0_0000_0000_0000,
    0x47e0_0000_0000_0000,
    0xc7e0_0000_0000_0000,
    0x47f0_0000_0000_0000,
    0x3fb9_9999_9999_999a,
    0x4330_0000_0000_0001,
    0x3810_0000_0000_0000,
    0x4000_0000_0000_0001,
];

/// Interesting values of a type (as bits).
pub fn edge_values(ty: Type) -> Vec<u128> {
    match ty {
        Type::F32 => F32_EDGES.iter().map(|&b| u128::from(b)).collect(),
        Type::F64 => F64_EDGES.iter().map(|&b| u128::from(b)).collect(),
        Type::V128 => {
            let mut v = Vec::new();
            for chunk in F32_EDGES.chunks(4) {
                let lanes: Vec<u128> = chunk.iter().map(|&b| u128::from(b)).collect();
                v.push(pack(32, &lanes));
            }
            for chunk in F64_EDGES.chunks(2) {
                let lanes: Vec<u128> = chunk.iter().map(|&b| u128::from(b)).collect();
                v.push(pack(64, &lanes));
            }
            for w in [8u32, 16, 32, 64] {
                let t = int_of(w);
                let e = edge_values(t);
                let n = (128 / w) as usize;
                for k in 0..4 {
                    let lanes: Vec<u128> = (0..n).map(|i| e[(i * 3 + k * 5) % e.len()]).collect();
                    v.push(pack(w, &lanes));
                }
            }
            v.extend([0, u128::MAX, 1, 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100]);
            v
        }
        _ => {
            let w = ty.bits();
            let m = ty.mask();
            let min = 1u128 << (w - 1);
            let mut v = vec![
                0,
                1,
                2,
                3,
                7,
                m,
                m - 1,
                min,
                min + 1,
                min - 1,
                u128::from(w),
                u128::from(w - 1),
                u128::from(w + 1),
                0x5555_5555_5555_5555_5555_5555_5555_5555,
                0xaaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa,
                100,
                100u128.wrapping_neg(),
                0x8000_0000,
                0x1_0000_0000,
                0xffff_ffff,
                1u128 << 64,
                u128::from(u64::MAX),
            ];
            for x in &mut v {
                *x &= m;
            }
            v
        }
    }
}

pub fn int_of(bits: u32) -> Type {
    match bits {
        8 => Type::I8,
        16 => Type::I16,
        32 => Type::I32,
        _ => Type::I64,
    }
}

pub fn pack(w: u32, lanes: &[u128]) -> u128 {
    let m = if w == 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    };
    lanes
        .iter()
        .enumerate()
        .fold(0, |acc, (i, &l)| acc | (l & m) << (i as u32 * w))
}

/// An operand value: mostly edge values, sometimes random bits (with the
/// bits above the type left random to check that loads mask them).
pub fn operand(ty: Type, rng: &mut XorShift) -> u128 {
    let edges = edge_values(ty);
    let r = rng.next();
    let v = if r % 10 < 7 {
        edges[(r / 10) as usize % edges.len()]
    } else {
        rng.bits128()
    };
    if ty == Type::I1 {
        v | u128::from(rng.next() as u8 & 0xfe)
    } else {
        v
    }
}

/// Ops whose NaN results may carry any payload.
pub fn nan_payload_free(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        Fsqrt
            | Fround
            | Fadd
            | Fsub
            | Fmul
            | Fdiv
            | Fma
            | Fmin
            | Fmax
            | Fminnum
            | Fmaxnum
            | Fconvert
            | Vfsqrt
            | Vfadd
            | Vfsub
            | Vfmul
            | Vfdiv
            | Vfmin
            | Vfmax
            | Vfminnum
            | Vfmaxnum
    )
}
