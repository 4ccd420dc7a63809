//! The verifier: checks that a function is well formed.
//!
//! Checked: every block in the layout ends in a terminator; branch targets are
//! blocks of the function and get one argument of the right type per
//! parameter; the stored CFG equals the terminators' edges; the entry block
//! has no parameters and no predecessors; every instruction has the operand
//! count, immediate kind and types its op's signature demands; every used
//! value is defined in the function and its definition dominates the use.
//! Messages name the function, the block and the instruction or value, with
//! the names the printer uses.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use petgraph::algo::dominators::{simple_fast, Dominators};

use crate::function::{Block, Function, Inst, InstData, Terminator, Value, ValueDef};
use crate::ops::{Imm, ImmKind, Opcode, Sig};
use crate::print::{inst_text, terminator_text, Numbering};
use crate::types::Type;

/// A malformed function: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("function {function}: {location}: {message}")]
pub struct VerifyError {
    /// Function name.
    pub function: String,
    /// Block (and instruction text) where the problem is.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// Verifies `f`; the first problem found is returned.
pub fn verify_function(f: &Function) -> Result<(), VerifyError> {
    Verifier::new(f).run()
}

/// Verifies every function of a module.
pub fn verify_module(m: &crate::Module) -> Result<(), VerifyError> {
    m.functions.iter().try_for_each(verify_function)
}

struct Verifier<'a> {
    f: &'a Function,
    num: Numbering,
    /// Block and position of each instruction in the layout.
    inst_pos: HashMap<Inst, (Block, usize)>,
}

type Check = Result<(), String>;

impl<'a> Verifier<'a> {
    fn new(f: &'a Function) -> Verifier<'a> {
        let mut inst_pos = HashMap::default();
        for &b in f.layout() {
            for (i, &inst) in f.block(b).insts.iter().enumerate() {
                inst_pos.insert(inst, (b, i));
            }
        }
        Verifier {
            f,
            num: Numbering::new(f),
            inst_pos,
        }
    }

    fn fail(&self, location: String, message: String) -> VerifyError {
        VerifyError {
            function: self.f.name.clone(),
            location,
            message,
        }
    }

    fn run(&self) -> Result<(), VerifyError> {
        let f = self.f;
        let Some(entry) = f.entry() else {
            return Err(self.fail("function".into(), "has no blocks".into()));
        };
        self.check_entry(entry)?;
        self.check_cfg()?;
        self.check_placement()?;
        let doms = simple_fast(f.cfg(), entry);
        for &b in f.layout() {
            let data = f.block(b);
            for &inst in &data.insts {
                let d = f.inst(inst);
                self.check_inst(d)
                    .and_then(|()| self.check_dominance(&doms, b, Some(inst), &d.args))
                    .map_err(|m| self.fail(self.inst_location(b, d), m))?;
            }
            let loc = self.num.block(b);
            let Some(term) = &data.term else {
                return Err(self.fail(loc, "has no terminator".into()));
            };
            self.check_terminator(term)
                .and_then(|()| self.check_dominance(&doms, b, None, &term.uses()))
                .map_err(|m| {
                    self.fail(format!("{loc}: {}", terminator_text(&self.num, term)), m)
                })?;
        }
        Ok(())
    }

    fn inst_location(&self, b: Block, d: &InstData) -> String {
        format!("{}: {}", self.num.block(b), inst_text(self.f, &self.num, d))
    }

    fn check_entry(&self, entry: Block) -> Result<(), VerifyError> {
        let loc = self.num.block(entry);
        if !self.f.block(entry).params.is_empty() {
            return Err(self.fail(loc, "the entry block has parameters".into()));
        }
        if !self.f.preds(entry).is_empty() {
            return Err(self.fail(loc, "the entry block has predecessors".into()));
        }
        Ok(())
    }

    fn check_cfg(&self) -> Result<(), VerifyError> {
        let from_terms = self.f.edges_from_terminators();
        let stored = self.f.stored_edges();
        if from_terms != stored {
            let show = |edges: &[(Block, Block)]| {
                edges
                    .iter()
                    .map(|(a, b)| format!("{}->{}", self.num.block(*a), self.num.block(*b)))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Err(self.fail(
                "CFG".into(),
                format!(
                    "stored edges [{}] differ from the terminators' [{}]",
                    show(&stored),
                    show(&from_terms)
                ),
            ));
        }
        Ok(())
    }

    /// Each instruction sits in one block once; each value names its true
    /// definition.
    fn check_placement(&self) -> Result<(), VerifyError> {
        let f = self.f;
        let mut seen = HashSet::default();
        for &b in f.layout() {
            let data = f.block(b);
            for (i, &p) in data.params.iter().enumerate() {
                if f.value(p).def != ValueDef::Param(b, i as u32) {
                    return Err(self.fail(
                        self.num.block(b),
                        format!("parameter {} has a stale definition", self.num.value(p)),
                    ));
                }
            }
            for &inst in &data.insts {
                if !seen.insert(inst) {
                    return Err(self.fail(
                        self.num.block(b),
                        format!("{inst} is placed more than once"),
                    ));
                }
                if let Some(r) = f.inst(inst).result {
                    if f.value(r).def != ValueDef::Result(inst) {
                        return Err(self.fail(
                            self.inst_location(b, f.inst(inst)),
                            "result value has a stale definition".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_dominance(
        &self,
        doms: &Dominators<Block>,
        block: Block,
        inst: Option<Inst>,
        uses: &[Value],
    ) -> Check {
        let reachable = doms.immediate_dominator(block).is_some() || Some(block) == self.f.entry();
        for &v in uses {
            if !self.f.is_valid_value(v) {
                return Err(format!("uses {v}, which does not exist"));
            }
            let (def_block, def_pos) = match self.f.value(v).def {
                ValueDef::Param(b, _) => (b, None),
                ValueDef::Result(i) => match self.inst_pos.get(&i) {
                    Some(&(b, pos)) => (b, Some(pos)),
                    None => {
                        return Err(format!(
                            "uses {}, whose instruction is not in the function",
                            self.num.value(v)
                        ))
                    }
                },
            };
            if !self.f.is_live_block(def_block) {
                return Err(format!(
                    "uses {}, defined in a removed block",
                    self.num.value(v)
                ));
            }
            let ok = if def_block == block {
                let use_pos = inst.map(|i| self.inst_pos[&i].1);
                match (def_pos, use_pos) {
                    (None, _) => true,
                    (Some(_), None) => true,
                    (Some(d), Some(u)) => d < u,
                }
            } else if !reachable {
                true
            } else {
                doms.dominators(block)
                    .is_some_and(|mut ds| ds.any(|d| d == def_block))
            };
            if !ok {
                return Err(format!(
                    "uses {}, whose definition does not dominate the use",
                    self.num.value(v)
                ));
            }
        }
        Ok(())
    }

    fn check_terminator(&self, t: &Terminator) -> Check {
        let f = self.f;
        for d in t.dests() {
            if !f.is_live_block(d.block) {
                return Err(format!(
                    "branches to {}, which is not in the function",
                    d.block
                ));
            }
            if Some(d.block) == f.entry() {
                return Err("branches to the entry block".into());
            }
            let params = &f.block(d.block).params;
            if params.len() != d.args.len() {
                return Err(format!(
                    "passes {} argument(s) to {}, which has {} parameter(s)",
                    d.args.len(),
                    self.num.block(d.block),
                    params.len()
                ));
            }
            for (a, p) in d.args.iter().zip(params) {
                self.expect_valid(*a)?;
                if f.value_type(*a) != f.value_type(*p) {
                    return Err(format!(
                        "argument {} is {} but parameter {} of {} is {}",
                        self.num.value(*a),
                        f.value_type(*a),
                        self.num.value(*p),
                        self.num.block(d.block),
                        f.value_type(*p)
                    ));
                }
            }
        }
        match t {
            Terminator::Brif { cond, .. } => self.expect_type(*cond, Type::I1),
            Terminator::Switch { index, cases, .. } => {
                self.expect_int(*index)?;
                let mut keys = HashSet::default();
                if cases.iter().all(|(k, _)| keys.insert(*k)) {
                    Ok(())
                } else {
                    Err("switch has duplicate case values".into())
                }
            }
            Terminator::Call { target: pc, .. }
            | Terminator::Return { pc }
            | Terminator::Exit { pc } => self.expect_type(*pc, Type::I64),
            Terminator::Jump(_) | Terminator::Trap { .. } => Ok(()),
        }
    }

    fn expect_valid(&self, v: Value) -> Check {
        if self.f.is_valid_value(v) {
            Ok(())
        } else {
            Err(format!("uses {v}, which does not exist"))
        }
    }

    fn expect_type(&self, v: Value, ty: Type) -> Check {
        self.expect_valid(v)?;
        let got = self.f.value_type(v);
        if got == ty {
            Ok(())
        } else {
            Err(format!("{} is {got}, expected {ty}", self.num.value(v)))
        }
    }

    fn expect_int(&self, v: Value) -> Check {
        self.expect_valid(v)?;
        let got = self.f.value_type(v);
        if got.is_int() {
            Ok(())
        } else {
            Err(format!(
                "{} is {got}, expected an integer",
                self.num.value(v)
            ))
        }
    }

    fn check_inst(&self, d: &InstData) -> Check {
        let sig = d.op.sig();
        for &a in &d.args {
            self.expect_valid(a)?;
        }
        if let Some(n) = sig.arity() {
            if d.args.len() != n {
                return Err(format!(
                    "{} takes {n} operand(s), has {}",
                    d.op,
                    d.args.len()
                ));
            }
        }
        if d.imm.kind() != sig.imm_kind() {
            return Err(format!(
                "{} takes a {:?} immediate, has {:?}",
                d.op,
                sig.imm_kind(),
                d.imm.kind()
            ));
        }
        self.check_result(d)?;
        self.check_operand_types(d)
    }

    fn check_result(&self, d: &InstData) -> Check {
        let expected = match d.imm {
            Imm::Helper(h) => h.result(),
            _ => d.op.sig().result_type(d.ty),
        };
        let got = d.result.map(|r| self.f.value_type(r));
        if expected == got {
            Ok(())
        } else {
            Err(format!("result should be {expected:?}, is {got:?}"))
        }
    }

    fn arg_types(&self, d: &InstData) -> Vec<Type> {
        d.args.iter().map(|&a| self.f.value_type(a)).collect()
    }

    fn check_operand_types(&self, d: &InstData) -> Check {
        use Sig::*;
        let ty = d.ty;
        let args = self.arg_types(d);
        let all = |want: Type| args.iter().all(|&t| t == want);
        let int = ty.is_int();
        let float = ty.is_float();
        let v128 = Type::V128;
        let ok = match d.op.sig() {
            IConst => int && imm_fits(d, ty),
            FConst => float && imm_fits(d, ty),
            VConst => ty == v128,
            IntUnary | IntBinary | IntFlag | IntTest | IntCompare => int && all(ty),
            Shift => int && args[0] == ty && args[1].is_int(),
            Select => args[0] == Type::I1 && args[1] == ty && args[2] == ty,
            Extend => int && args[0].is_int() && args[0].bits() < ty.bits(),
            Reduce => int && args[0].is_int() && args[0].bits() > ty.bits(),
            Bitcast => args[0].bits() == ty.bits() && args[0] != ty,
            FloatUnary | FloatUnaryRm | FloatBinary | FloatBinaryRm | FloatTernaryRm
            | FloatCompare | FloatClass => float && all(ty),
            IntToFloat => float && args[0].is_int() && args[0] != Type::I1,
            FloatToInt => int && ty != Type::I1 && args[0].is_float(),
            FloatToFloat => float && args[0].is_float() && args[0] != ty,
            Load => args[0] == Type::I64,
            Store => args[0] == Type::I64 && args[1] == ty,
            ReadReg | WriteReg => return self.check_reg(d, &args),
            AtomicRmw => int && ty != Type::I1 && args[0] == Type::I64 && args[1] == ty,
            AtomicCas => {
                int && ty != Type::I1 && args[0] == Type::I64 && args[1] == ty && args[2] == ty
            }
            Fence => true,
            Poll => ty == Type::I1,
            Helper => return self.check_helper(d, &args),
            VecUnary | VecBinary | VecCompare | VecTernary => ty.is_lane() && all(v128),
            VecFloatCompare => ty.is_float() && all(v128),
            VecShift => ty.is_lane() && args[0] == v128 && args[1].is_int(),
            VecSplat => ty.is_lane() && args[0] == ty,
            VecExtract => ty.is_lane() && args[0] == v128 && lane_ok(d, ty),
            VecInsert => ty.is_lane() && args[0] == v128 && args[1] == ty && lane_ok(d, ty),
            VecShuffle => all(v128) && shuffle_ok(d),
            VecReduce => ty.is_lane() && args[0] == v128,
        };
        if ok {
            Ok(())
        } else {
            let shown: Vec<String> = args.iter().map(Type::to_string).collect();
            Err(format!(
                "{}.{ty} does not accept operand types ({}){}",
                d.op,
                shown.join(", "),
                type_hint(d.op)
            ))
        }
    }

    fn check_reg(&self, d: &InstData, args: &[Type]) -> Check {
        let Imm::Reg(r) = d.imm else {
            return Err("missing register immediate".into());
        };
        let Some(desc) = self.f.regs.regs.get(r.index()) else {
            return Err(format!(
                "register index {} is outside the register file",
                r.0
            ));
        };
        let operand_ok = !matches!(d.op, Opcode::WriteReg | Opcode::LinkOut) || args[0] == desc.ty;
        if d.ty == desc.ty && operand_ok {
            Ok(())
        } else {
            Err(format!(
                "register %{} is {}, accessed as {}",
                desc.name, desc.ty, d.ty
            ))
        }
    }

    fn check_helper(&self, d: &InstData, args: &[Type]) -> Check {
        let Imm::Helper(h) = d.imm else {
            return Err("missing helper immediate".into());
        };
        if args == h.params() {
            Ok(())
        } else {
            Err(format!(
                "helper @{} takes {:?}, given {:?}",
                h.name(),
                h.params(),
                args
            ))
        }
    }
}

fn imm_fits(d: &InstData, ty: Type) -> bool {
    matches!(d.imm, Imm::Int(bits) if bits & !ty.mask() == 0)
}

fn lane_ok(d: &InstData, lane: Type) -> bool {
    matches!(d.imm, Imm::Lane(i) if u32::from(i) < lane.lanes())
}

fn shuffle_ok(d: &InstData) -> bool {
    matches!(d.imm, Imm::Bytes(b) if b.iter().all(|&i| i < 32))
}

fn type_hint(op: Opcode) -> &'static str {
    match op.sig().imm_kind() {
        ImmKind::Int => " (or the immediate does not fit)",
        ImmKind::Lane => " (or the lane index is out of range)",
        _ => "",
    }
}
