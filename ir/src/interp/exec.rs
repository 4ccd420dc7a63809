//! The execution loop: instructions with effects, terminators and fuel.

use crate::function::{Block, BlockCall, Function, Inst, InstData, Terminator};
use crate::ops::{AtomicOp, Imm};

use super::eval::{eval, EvalError};
use super::int::{self, IntBinOp};
use super::{effect_of, Effect, Env, GuestState, InterpError, Location, Memory, Outcome};

/// Where control goes after a terminator.
enum Next {
    Goto(Block),
    Leave(Outcome),
}

/// One activation of a function.
pub(super) struct Machine<'a> {
    f: &'a Function,
    state: &'a mut GuestState,
    mem: &'a mut dyn Memory,
    env: &'a mut dyn Env,
    fuel: u64,
    vals: Vec<u128>,
    block: Block,
}

impl<'a> Machine<'a> {
    pub(super) fn new(
        f: &'a Function,
        state: &'a mut GuestState,
        mem: &'a mut dyn Memory,
        env: &'a mut dyn Env,
        fuel: u64,
    ) -> Machine<'a> {
        Machine {
            f,
            state,
            mem,
            env,
            fuel,
            vals: vec![0; f.num_values()],
            block: f.entry().unwrap_or(Block(0)),
        }
    }

    pub(super) fn run(mut self) -> Result<Outcome, InterpError> {
        if self.f.entry().is_none() {
            return Err(InterpError::Unsupported(format!(
                "function {} has no blocks",
                self.f.name
            )));
        }
        loop {
            let f = self.f;
            let data = f.block(self.block);
            for &inst in &data.insts {
                self.burn(Some(inst))?;
                self.exec_inst(inst)?;
            }
            self.burn(None)?;
            let Some(term) = &data.term else {
                return Err(self.malformed(None, "block has no terminator".into()));
            };
            match self.exec_terminator(term)? {
                Next::Goto(b) => self.block = b,
                Next::Leave(outcome) => return Ok(outcome),
            }
        }
    }

    fn at(&self, inst: Option<Inst>) -> Location {
        Location::new(self.f, self.block, inst)
    }

    fn malformed(&self, inst: Option<Inst>, message: String) -> InterpError {
        InterpError::Malformed {
            at: self.at(inst),
            message,
        }
    }

    fn burn(&mut self, inst: Option<Inst>) -> Result<(), InterpError> {
        if self.fuel == 0 {
            return Err(InterpError::OutOfFuel { at: self.at(inst) });
        }
        self.fuel -= 1;
        Ok(())
    }

    fn exec_inst(&mut self, inst: Inst) -> Result<(), InterpError> {
        let d = self.f.inst(inst);
        let args: Vec<u128> = d.args.iter().map(|a| self.vals[a.index()]).collect();
        let result = match effect_of(d.op) {
            Some(effect) => self.effect(inst, d, effect, &args)?,
            None => Some(self.pure(inst, d, &args)?),
        };
        match (d.result, result) {
            (Some(r), Some(v)) => self.vals[r.index()] = v & self.f.value_type(r).mask(),
            (None, None) => {}
            (Some(_), None) => {
                return Err(self.malformed(Some(inst), "produced no value".into()));
            }
            (None, Some(_)) => {
                return Err(self.malformed(Some(inst), "has a value but no result".into()));
            }
        }
        Ok(())
    }

    fn pure(&self, inst: Inst, d: &InstData, args: &[u128]) -> Result<u128, InterpError> {
        let types: Vec<_> = d.args.iter().map(|&a| self.f.value_type(a)).collect();
        eval(d.op, d.ty, &d.imm, args, &types, Some(self.state.dyn_rm)).map_err(|e| {
            let message = match e {
                EvalError::IllTyped(m) => m,
                EvalError::NotPure => "effectful op evaluated as pure".into(),
                EvalError::DynamicRounding => "the dynamic rounding mode is `dyn`".into(),
            };
            self.malformed(Some(inst), message)
        })
    }

    fn effect(
        &mut self,
        inst: Inst,
        d: &InstData,
        effect: Effect,
        args: &[u128],
    ) -> Result<Option<u128>, InterpError> {
        let bytes = d.ty.bytes();
        let mask = d.ty.mask();
        let addr = || args[0] as u64;
        match effect {
            Effect::Load => Ok(Some(self.load(inst, addr(), bytes)? & mask)),
            Effect::Store => {
                self.store(inst, addr(), bytes, args[1] & mask)?;
                Ok(None)
            }
            Effect::ReadReg => {
                let r = self.reg_index(inst, &d.imm)?;
                Ok(Some(self.state.regs[r] & mask))
            }
            Effect::WriteReg => {
                let r = self.reg_index(inst, &d.imm)?;
                self.state.regs[r] = args[0] & mask;
                Ok(None)
            }
            Effect::AtomicRmw => self.atomic_rmw(inst, d, args).map(Some),
            Effect::AtomicCas => {
                let old = self.load(inst, addr(), bytes)?;
                if old == args[1] & mask {
                    self.store(inst, addr(), bytes, args[2] & mask)?;
                }
                Ok(Some(old))
            }
            Effect::Fence => Ok(None),
            Effect::Poll => Ok(Some(u128::from(self.env.poll()))),
            Effect::Helper => self.helper(inst, d, args),
        }
    }

    fn load(&mut self, inst: Inst, addr: u64, bytes: u32) -> Result<u128, InterpError> {
        self.mem
            .load(addr, bytes)
            .map_err(|fault| InterpError::Memory {
                at: self.at(Some(inst)),
                fault,
            })
    }

    fn store(&mut self, inst: Inst, addr: u64, bytes: u32, v: u128) -> Result<(), InterpError> {
        self.mem
            .store(addr, bytes, v)
            .map_err(|fault| InterpError::Memory {
                at: self.at(Some(inst)),
                fault,
            })
    }

    fn reg_index(&self, inst: Inst, imm: &Imm) -> Result<usize, InterpError> {
        match imm {
            Imm::Reg(r) if r.index() < self.state.regs.len() => Ok(r.index()),
            other => Err(self.malformed(
                Some(inst),
                format!(
                    "register {other:?} is not in the state ({} registers)",
                    self.state.regs.len()
                ),
            )),
        }
    }

    fn atomic_rmw(&mut self, inst: Inst, d: &InstData, args: &[u128]) -> Result<u128, InterpError> {
        let Imm::Atomic(op) = d.imm else {
            return Err(self.malformed(Some(inst), "missing atomic op".into()));
        };
        let (addr, bytes) = (args[0] as u64, d.ty.bytes());
        let old = self.load(inst, addr, bytes)?;
        let new = atomic_apply(op, d.ty, old, args[1]);
        self.store(inst, addr, bytes, new)?;
        Ok(old)
    }

    fn helper(
        &mut self,
        inst: Inst,
        d: &InstData,
        args: &[u128],
    ) -> Result<Option<u128>, InterpError> {
        let Imm::Helper(h) = d.imm else {
            return Err(self.malformed(Some(inst), "missing helper".into()));
        };
        let r = self
            .env
            .helper(h, args, self.state, self.mem)
            .map_err(|e| InterpError::Env {
                at: self.at(Some(inst)),
                source: Box::new(e),
            })?;
        if r.is_some() != h.result().is_some() {
            let msg = format!("helper @{} returned {r:?}", h.name());
            return Err(self.malformed(Some(inst), msg));
        }
        Ok(r)
    }

    fn exec_terminator(&mut self, term: &Terminator) -> Result<Next, InterpError> {
        let val = |v: crate::function::Value| self.vals[v.index()];
        match term {
            Terminator::Jump(dest) => Ok(self.goto(dest)),
            Terminator::Brif {
                cond,
                then_dest,
                else_dest,
            } => Ok(self.goto(if val(*cond) & 1 == 1 {
                then_dest
            } else {
                else_dest
            })),
            Terminator::Switch {
                index,
                cases,
                default,
            } => {
                let i = val(*index);
                let dest = cases
                    .iter()
                    .find(|(k, _)| u128::from(*k) == i)
                    .map_or(default, |(_, d)| d);
                Ok(self.goto(dest))
            }
            Terminator::Call {
                target,
                return_pc,
                cont,
            } => {
                let target = val(*target) as u64;
                let pc =
                    self.env
                        .call(target, self.state, self.mem)
                        .map_err(|e| InterpError::Env {
                            at: self.at(None),
                            source: Box::new(e),
                        })?;
                if pc == *return_pc {
                    Ok(self.goto(cont))
                } else {
                    Ok(Next::Leave(Outcome::Exit(pc)))
                }
            }
            Terminator::Return { pc } => Ok(Next::Leave(Outcome::Return(val(*pc) as u64))),
            Terminator::Exit { pc } => Ok(Next::Leave(Outcome::Exit(val(*pc) as u64))),
            Terminator::Trap { kind, pc } => Ok(Next::Leave(Outcome::Trap(*kind, *pc))),
        }
    }

    /// Passes the arguments (all read before any parameter is written).
    fn goto(&mut self, dest: &BlockCall) -> Next {
        let vals: Vec<u128> = dest.args.iter().map(|a| self.vals[a.index()]).collect();
        let params = &self.f.block(dest.block).params;
        for (&p, v) in params.iter().zip(vals) {
            self.vals[p.index()] = v;
        }
        Next::Goto(dest.block)
    }
}

/// The new memory value of an atomic read-modify-write.
fn atomic_apply(op: AtomicOp, ty: crate::types::Type, old: u128, x: u128) -> u128 {
    let bin = |b| int::binary(b, ty, old, x);
    match op {
        AtomicOp::Xchg => x & ty.mask(),
        AtomicOp::Add => bin(IntBinOp::Add),
        AtomicOp::And => bin(IntBinOp::And),
        AtomicOp::Or => bin(IntBinOp::Or),
        AtomicOp::Xor => bin(IntBinOp::Xor),
        AtomicOp::Smin => bin(IntBinOp::Smin),
        AtomicOp::Smax => bin(IntBinOp::Smax),
        AtomicOp::Umin => bin(IntBinOp::Umin),
        AtomicOp::Umax => bin(IntBinOp::Umax),
    }
}
