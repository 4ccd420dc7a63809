//! String instructions `movs stos lods cmps scas`, with `rep`/`repe`/
//! `repne` as loops inside the instruction (rcx counts, DF picks the
//! direction, `cmps`/`scas` stop on ZF).

use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use vmtrans_ir::{Type, Value};

use crate::x86_64::regs::{DF, RCX, RDI, RSI, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{int_type, read_gpr, write_gpr};
use super::Fail;

/// True for the string forms (the SSE `movsd`/`cmpsd` share mnemonics).
pub fn is_string(insn: &Instruction) -> bool {
    (0..insn.op_count()).any(|i| {
        matches!(
            insn.op_kind(i),
            OpKind::MemorySegRSI | OpKind::MemoryESRDI | OpKind::MemorySegRDI
        )
    })
}

/// Element type of a string instruction.
fn elem(insn: &Instruction) -> Result<Type, Fail> {
    use Mnemonic as M;
    int_type(match insn.mnemonic() {
        M::Movsb | M::Stosb | M::Lodsb | M::Cmpsb | M::Scasb => 1,
        M::Movsw | M::Stosw | M::Lodsw | M::Cmpsw | M::Scasw => 2,
        M::Movsd | M::Stosd | M::Lodsd | M::Cmpsd | M::Scasd => 4,
        _ => 8,
    })
}

/// Lifts a string instruction, repeated or not.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    if insn.op_kind(0) == OpKind::MemorySegRSI && insn.memory_segment() != Register::DS
        || insn.op_kind(1) == OpKind::MemorySegRSI && insn.memory_segment() != Register::DS
    {
        return Err("string source with a segment override".into());
    }
    let ty = elem(insn)?;
    let compares = matches!(
        insn.mnemonic(),
        Mnemonic::Cmpsb
            | Mnemonic::Cmpsw
            | Mnemonic::Cmpsd
            | Mnemonic::Cmpsq
            | Mnemonic::Scasb
            | Mnemonic::Scasw
            | Mnemonic::Scasd
            | Mnemonic::Scasq
    );
    let repeated = insn.has_rep_prefix() || insn.has_repne_prefix();
    if !repeated {
        return step(insn, cx, ty);
    }
    // head: rcx == 0 → done; body: one step, rcx -= 1, stop on ZF for
    // the comparing forms; back to head.
    let head = cx.b.create_block();
    let body = cx.b.create_block();
    let done = cx.b.create_block();
    cx.b.jump(head, &[]);
    cx.b.switch_to_block(head);
    let c = cx.b.use_reg(RCX);
    let z = flags::is_zero(cx, c);
    cx.b.brif(z, done, body);
    cx.b.switch_to_block(body);
    step(insn, cx, ty)?;
    let c = cx.b.use_reg(RCX);
    let one = cx.const64(1);
    let c = cx.b.isub(c, one);
    cx.b.def_reg(RCX, c);
    if compares {
        let zf = cx.b.use_reg(ZF);
        // repe continues while equal, repne while not equal.
        let stop = if insn.has_repne_prefix() {
            zf
        } else {
            flags::not1(cx, zf)
        };
        cx.b.brif(stop, done, head);
    } else {
        cx.b.jump(head, &[]);
    }
    cx.b.switch_to_block(done);
    Ok(())
}

/// Advances `reg` by the element size in the direction DF gives.
fn advance(cx: &mut LiftCx, reg: vmtrans_ir::GuestReg, size: u32) {
    let df = cx.b.use_reg(DF);
    let up = cx.const64(u64::from(size));
    let down = cx.const64(u64::from(size).wrapping_neg());
    let delta = cx.b.select(df, down, up);
    let v = cx.b.use_reg(reg);
    let v = cx.b.iadd(v, delta);
    cx.b.def_reg(reg, v);
}

fn acc(ty: Type) -> Register {
    match ty {
        Type::I8 => Register::AL,
        Type::I16 => Register::AX,
        Type::I32 => Register::EAX,
        _ => Register::RAX,
    }
}

/// One iteration.
fn step(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    use Mnemonic as M;
    let size = ty.bytes();
    let si = cx.b.use_reg(RSI);
    let di = cx.b.use_reg(RDI);
    match insn.mnemonic() {
        M::Movsb | M::Movsw | M::Movsd | M::Movsq => {
            let v = cx.b.load(ty, si);
            cx.b.store(di, v);
            advance(cx, RSI, size);
            advance(cx, RDI, size);
        }
        M::Stosb | M::Stosw | M::Stosd | M::Stosq => {
            let v = read_gpr(cx, acc(ty))?;
            cx.b.store(di, v);
            advance(cx, RDI, size);
        }
        M::Lodsb | M::Lodsw | M::Lodsd | M::Lodsq => {
            let v = cx.b.load(ty, si);
            write_gpr(cx, acc(ty), v)?;
            advance(cx, RSI, size);
        }
        M::Cmpsb | M::Cmpsw | M::Cmpsd | M::Cmpsq => {
            let a = cx.b.load(ty, si);
            let b = cx.b.load(ty, di);
            compare(cx, a, b);
            advance(cx, RSI, size);
            advance(cx, RDI, size);
        }
        _ => {
            let a = read_gpr(cx, acc(ty))?;
            let b = cx.b.load(ty, di);
            compare(cx, a, b);
            advance(cx, RDI, size);
        }
    }
    Ok(())
}

fn compare(cx: &mut LiftCx, a: Value, b: Value) {
    let r = cx.b.isub(a, b);
    flags::sub(cx, a, b, r);
}
