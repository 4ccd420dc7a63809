//! Guest loads that must stay opaque to Cranelift.
//!
//! Float ops in the guest's dynamic rounding mode run as native SSE code,
//! which rounds in the MXCSR mode the runtime keeps equal to the guest's.
//! Cranelift, however, folds float ops on constants assuming
//! round-to-nearest, and its alias analysis (which cannot be turned off)
//! forwards a value stored to guest memory into a later load, turning
//! `volatile double x = 1; x / 3` into a constant it then folds in the
//! wrong mode. Operands that are constants in the IR already take the exact
//! slow path; this module finds the guest loads whose values reach a
//! dynamically rounded op, so they are emitted as loads Cranelift cannot
//! forward (see [`super::Lower::load`]).

use std::collections::HashSet;

use vmtrans_ir::{Function, Imm, Inst, Opcode, RoundingMode, ValueDef};

/// True for an op that rounds in the guest's dynamic mode and that
/// Cranelift folds when its operands are constants.
fn rounds_dynamically(op: Opcode, imm: &Imm) -> bool {
    use Opcode as O;
    matches!(
        op,
        O::Fadd
            | O::Fsub
            | O::Fmul
            | O::Fdiv
            | O::Fsqrt
            | O::Fma
            | O::Fround
            | O::FcvtFromSint
            | O::FcvtFromUint
            | O::Fconvert
    ) && matches!(imm, Imm::Rm(RoundingMode::Dyn))
}

/// The loads whose results flow (through any chain of pure ops and block
/// parameters) into an op that rounds in the dynamic mode.
pub(super) fn loads_feeding_dynamic_rounding(f: &Function) -> HashSet<Inst> {
    let mut work = Vec::new();
    for &block in f.layout() {
        for &inst in &f.block(block).insts {
            let d = f.inst(inst);
            if rounds_dynamically(d.op, &d.imm) {
                work.extend(d.args.iter().copied());
            }
        }
    }
    let mut seen = HashSet::new();
    let mut loads = HashSet::new();
    while let Some(v) = work.pop() {
        if !seen.insert(v) {
            continue;
        }
        match f.value(v).def {
            ValueDef::Result(inst) => {
                let d = f.inst(inst);
                if d.op == Opcode::Load {
                    loads.insert(inst);
                } else if vmtrans_ir::interp::effect_of(d.op).is_none() {
                    work.extend(d.args.iter().copied());
                }
            }
            ValueDef::Param(block, index) => {
                for pred in f.preds(block) {
                    let Some(term) = &f.block(pred).term else {
                        continue;
                    };
                    for call in term.dests() {
                        if call.block == block {
                            if let Some(&arg) = call.args.get(index as usize) {
                                work.push(arg);
                            }
                        }
                    }
                }
            }
        }
    }
    loads
}
