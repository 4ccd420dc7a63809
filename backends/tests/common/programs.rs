//! Random IR programs for differential tests and translation-speed
//! measurements: dozens of ops on earlier results of any type, then a
//! diamond whose join takes a block parameter; every result is stored to
//! guest memory. NaNs from payload-free arithmetic are canonicalised in
//! the program so JIT and interpreter results compare exactly.

use std::sync::OnceLock;

use vmtrans_ir::interp::GuestState;
use vmtrans_ir::{BlockCall, FloatCC, Function, Imm, Opcode, Terminator, Type, Value};

use super::cases::*;
use super::{iconst64, ins, interpret, typed_regs};

/// Cases the interpreter accepts, with their immediates.
fn supported() -> &'static [(Case, Vec<Imm>)] {
    static CASES: OnceLock<Vec<(Case, Vec<Imm>)>> = OnceLock::new();
    CASES.get_or_init(|| {
        cases()
            .into_iter()
            .filter_map(|c| {
                let imms = immediates(&c);
                let imm = *imms.first()?;
                let mut f = Function::new("probe", 0, typed_regs());
                let b = f.add_block();
                let args: Vec<Value> = c
                    .args
                    .iter()
                    .map(|&t| {
                        let a = iconst64(&mut f, b, 0);
                        ins(&mut f, b, Opcode::Load, t, &[a], Imm::None).unwrap()
                    })
                    .collect();
                ins(&mut f, b, c.op, c.ty, &args, imm);
                let pc = iconst64(&mut f, b, 0);
                f.set_terminator(b, Terminator::Exit { pc });
                let mut s = GuestState::new(&f.regs);
                interpret(&f, &mut s, &[0; 32]).ok()?;
                Some((c, imms))
            })
            .collect()
    })
}

/// Replaces a NaN result of payload-free arithmetic by the canonical NaN.
fn canonicalise(f: &mut Function, b: vmtrans_ir::Block, c: &Case, r: Value) -> Value {
    let rt = f.value_type(r);
    let uno = Imm::Fcc(FloatCC::Uno);
    if rt.is_float() {
        let nan = if rt == Type::F32 {
            0x7fc0_0000
        } else {
            0x7ff8 << 48
        };
        let u = ins(f, b, Opcode::Fcmp, rt, &[r, r], uno).unwrap();
        let k = ins(f, b, Opcode::Fconst, rt, &[], Imm::Int(nan)).unwrap();
        return ins(f, b, Opcode::Select, rt, &[u, k, r], Imm::None).unwrap();
    }
    let lane = if c.ty.bits() == 32 {
        Type::F32
    } else {
        Type::F64
    };
    let nan = if lane == Type::F32 {
        0x7fc0_0000
    } else {
        0x7ff8 << 48
    };
    let m = ins(f, b, Opcode::Vfcmp, lane, &[r, r], uno).unwrap();
    let k = ins(f, b, Opcode::Fconst, lane, &[], Imm::Int(nan)).unwrap();
    let ks = ins(f, b, Opcode::Vsplat, lane, &[k], Imm::None).unwrap();
    ins(f, b, Opcode::Vbitselect, lane, &[m, ks, r], Imm::None).unwrap()
}

struct Gen {
    rng: XorShift,
    pool: Vec<(Value, Type)>,
}

impl Gen {
    fn pick(&mut self, ty: Type) -> Value {
        let of: Vec<Value> = self
            .pool
            .iter()
            .filter(|p| p.1 == ty)
            .map(|p| p.0)
            .collect();
        of[self.rng.next() as usize % of.len()]
    }

    /// Appends one random op on pool values; returns its result.
    fn step(&mut self, f: &mut Function, b: vmtrans_ir::Block) -> Option<Value> {
        let cases = supported();
        let (c, imms) = &cases[self.rng.next() as usize % cases.len()];
        let imm = imms[self.rng.next() as usize % imms.len()];
        let args: Vec<Value> = c.args.iter().map(|&t| self.pick(t)).collect();
        let r = ins(f, b, c.op, c.ty, &args, imm)?;
        Some(if nan_payload_free(c.op) {
            canonicalise(f, b, c, r)
        } else {
            r
        })
    }
}

/// A random program of `len` ops plus a diamond.
pub fn program(seed: u64, len: usize) -> Function {
    let mut f = Function::new(format!("prog{seed:x}"), 0x1000, typed_regs());
    let b0 = f.add_block();
    let mut g = Gen {
        rng: XorShift(seed | 1),
        pool: Vec::new(),
    };
    for (i, t) in Type::ALL.iter().enumerate() {
        let a = iconst64(&mut f, b0, i as u64 * 16);
        let v = ins(&mut f, b0, Opcode::Load, *t, &[a], Imm::None).unwrap();
        g.pool.push((v, *t));
    }
    for _ in 0..len {
        if let Some(r) = g.step(&mut f, b0) {
            let t = f.value_type(r);
            g.pool.push((r, t));
        }
    }
    // Diamond: the then-arm computes one more op, the else-arm passes an
    // older value of the same type; the join stores what arrives.
    let (then_b, else_b, join) = (f.add_block(), f.add_block(), f.add_block());
    let cond = g.pick(Type::I1);
    f.set_terminator(
        b0,
        Terminator::Brif {
            cond,
            then_dest: BlockCall::new(then_b),
            else_dest: BlockCall::new(else_b),
        },
    );
    let r = loop {
        if let Some(r) = g.step(&mut f, then_b) {
            break r;
        }
    };
    let t = f.value_type(r);
    let p = f.add_block_param(join, t);
    let other = g.pick(t);
    let to_join = |v| {
        Terminator::Jump(BlockCall {
            block: join,
            args: vec![v],
        })
    };
    f.set_terminator(then_b, to_join(r));
    f.set_terminator(else_b, to_join(other));
    g.pool.push((p, t));
    for (i, &(v, t)) in g.pool.iter().enumerate().skip(Type::ALL.len()) {
        if f.value(v).def != vmtrans_ir::ValueDef::Param(join, 0) && !defined_in(&f, v, b0) {
            continue;
        }
        let a = iconst64(&mut f, join, 256 + i as u64 * 16);
        ins(&mut f, join, Opcode::Store, t, &[a, v], Imm::None);
    }
    let pc = iconst64(&mut f, join, 0x2000);
    f.set_terminator(join, Terminator::Exit { pc });
    f
}

fn defined_in(f: &Function, v: Value, b: vmtrans_ir::Block) -> bool {
    match f.value(v).def {
        vmtrans_ir::ValueDef::Result(i) => f.block(b).insts.contains(&i),
        vmtrans_ir::ValueDef::Param(pb, _) => pb == b,
    }
}

pub fn memory(seed: u64, len: usize) -> Vec<u8> {
    let mut r = XorShift(seed ^ 0xabcd_ef01);
    let mut mem = vec![0u8; 256 + (len + 16) * 16];
    for (i, t) in Type::ALL.iter().enumerate() {
        let v = operand(*t, &mut r);
        mem[i * 16..i * 16 + 16].copy_from_slice(&v.to_le_bytes());
    }
    mem
}
