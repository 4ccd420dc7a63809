//! Terminators: branches, switches, guest calls, returns, exits and traps.
//!
//! Leaving a function stores the exit reason in the CPU-state header and
//! returns the guest PC (see [`vmtrans_abi::exit`]); an exit to another
//! translated function's entry enters that function's body as a host tail
//! call instead. A guest call is a host
//! call — direct when the target is a constant with a translation in the
//! same module, through [`vmtrans_abi::helpers::CALL`] otherwise — followed
//! by the return-address check: a callee that left with `JUMP` is resumed
//! once through [`vmtrans_abi::helpers::CONTINUE`]; a `RETURN` to the
//! expected address continues in line; anything else is returned as is.
//! A direct call passes the linkage registers to the callee's body and
//! takes its results (see [`super::linkage`]); after a call through the
//! runtime, or a resumed one, they come from the CPU state.

use cranelift_codegen::ir::{self as cl, condcodes::IntCC, types, BlockArg, InstBuilder};
use cranelift_frontend::Switch;
use cranelift_module::FuncId;
use vmtrans_abi::{exit, header, helpers};
use vmtrans_ir::{Block, BlockCall, Opcode, Terminator, TrapKind, Value};

use super::linkage::has_linkage;
use super::Lower;
use crate::BackendError;

fn trap_reason(kind: TrapKind) -> u64 {
    match kind {
        TrapKind::Illegal => exit::TRAP_ILLEGAL,
        TrapKind::Breakpoint => exit::TRAP_BREAKPOINT,
        TrapKind::DivideError => exit::TRAP_DIVIDE,
        TrapKind::Undecodable => exit::TRAP_UNDECODABLE,
    }
}

impl Lower<'_> {
    /// Lowers the terminator of `block`.
    ///
    /// Cranelift lays a conditional branch's *second* destination right
    /// after the branch (its block order is a depth-first reverse
    /// post-order that enters the first destination first). A branch whose
    /// first destination stays in more of `block`'s loops than its second
    /// (a loop's continue edge against its exit) is emitted with the
    /// condition inverted and the destinations swapped, so the loop body
    /// falls through into its latch and an iteration takes one jump back
    /// instead of a jump out to the latch and one back.
    pub(super) fn lower_terminator(
        &mut self,
        block: Block,
        term: &Terminator,
    ) -> Result<(), BackendError> {
        match term {
            Terminator::Jump(dest) => {
                let (block, args) = self.dest(dest);
                self.b.ins().jump(block, &args);
            }
            Terminator::Brif {
                cond,
                then_dest,
                else_dest,
            } if self.is_poll(*cond) => self.poll_branch(*cond, then_dest, else_dest),
            Terminator::Brif {
                cond,
                then_dest,
                else_dest,
            } => {
                let c = self.val(*cond);
                let (tb, targs) = self.dest(then_dest);
                let (eb, eargs) = self.dest(else_dest);
                if self.stays_deeper(block, then_dest.block, else_dest.block) {
                    let not_c = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                    self.b.ins().brif(not_c, eb, &eargs, tb, &targs);
                } else {
                    self.b.ins().brif(c, tb, &targs, eb, &eargs);
                }
            }
            Terminator::Switch {
                index,
                cases,
                default,
            } => self.switch(*index, cases, default),
            Terminator::Call {
                target,
                return_pc,
                cont,
            } => self.guest_call(*target, *return_pc, cont)?,
            Terminator::Return { pc } => {
                let pc = self.val(*pc);
                let r = self.b.ins().iconst(types::I64, exit::RETURN as i64);
                self.store_header(header::EXIT_REASON, r);
                let mut results = vec![pc];
                results.extend(self.return_linkage());
                self.b.ins().return_(&results);
            }
            Terminator::Exit { pc } => match self.tail_callee(block, *pc) {
                Some(callee) => self.tail_call(callee, *pc),
                None => {
                    let pc = self.val(*pc);
                    self.leave(exit::JUMP, pc);
                }
            },
            Terminator::Trap { kind, pc } => {
                let pc = self.b.ins().iconst(types::I64, *pc as i64);
                self.store_header(header::EXIT_PC, pc);
                self.leave(trap_reason(*kind), pc);
            }
        }
        Ok(())
    }

    /// True when `cond` is the result of a `poll`.
    fn is_poll(&self, cond: Value) -> bool {
        self.def_of(cond).is_some_and(|d| d.op == Opcode::Poll)
    }

    /// A poll's branch: to `exit` when a signal is pending, else on along
    /// `on` (a loop's back edge), whose arguments are computed in a block
    /// of their own after the branch. Cranelift rematerializes an add of a
    /// constant (a pointer's or counter's step) in each block that uses it:
    /// computed before the branch, the stepped values the exit writes back
    /// are recomputed there from the old ones, which then live beside the
    /// new ones up to the branch and cost a register copy each per
    /// iteration. After the branch, each old value dies where its
    /// successor is computed.
    fn poll_branch(&mut self, cond: Value, exit: &BlockCall, on: &BlockCall) {
        let c = self.val(cond);
        let (exit_block, exit_args) = self.dest(exit);
        let edge = self.b.create_block();
        self.b.ins().brif(c, exit_block, &exit_args, edge, &[]);
        self.b.switch_to_block(edge);
        let (on_block, on_args) = self.dest(on);
        self.b.ins().jump(on_block, &on_args);
    }

    /// True when the edge from `from` to `a` stays inside more loops than
    /// the edge to `b`.
    fn stays_deeper(&self, from: Block, a: Block, b: Block) -> bool {
        self.loops
            .as_ref()
            .is_some_and(|l| l.common_depth(from, a) > l.common_depth(from, b))
    }

    /// The Cranelift block and arguments of a branch destination.
    fn dest(&mut self, dest: &BlockCall) -> (cl::Block, Vec<BlockArg>) {
        let mut args: Vec<BlockArg> = dest
            .args
            .iter()
            .map(|&a| BlockArg::Value(self.val(a)))
            .collect();
        let pointers = self.host_pointer_args(dest);
        args.extend(pointers.into_iter().map(BlockArg::Value));
        (self.block(dest.block), args)
    }

    fn store_header(&mut self, offset: usize, v: cl::Value) {
        self.b
            .ins()
            .store(self.state_flags, v, self.state, offset as i32);
    }

    /// Stores `reason` (not `RETURN`) in the header and returns `pc`.
    fn leave(&mut self, reason: u64, pc: cl::Value) {
        let r = self.b.ins().iconst(types::I64, reason as i64);
        self.store_header(header::EXIT_REASON, r);
        self.jump_to_leave_block(pc);
    }

    /// Returns `pc` (the exit reason is in the header already) through
    /// the function's one leave block. Sharing it keeps the return's
    /// fixed result registers and the placeholder linkage results out of
    /// every exit, so they constrain register allocation in one cold
    /// place only.
    fn jump_to_leave_block(&mut self, pc: cl::Value) {
        let leave = match self.leave_block {
            Some(block) => block,
            None => {
                let block = self.b.create_block();
                self.b.append_block_param(block, types::I64);
                self.b.set_cold_block(block);
                self.leave_block = Some(block);
                block
            }
        };
        self.b.ins().jump(leave, &[BlockArg::Value(pc)]);
    }

    /// Fills the leave block, when some exit needed it: `return pc`, with
    /// placeholders in the linkage slots (see [`super::linkage`]).
    pub(super) fn fill_leave_block(&mut self) {
        let Some(block) = self.leave_block else {
            return;
        };
        self.b.switch_to_block(block);
        let mut results = vec![self.b.block_params(block)[0]];
        results.extend(self.unused_linkage());
        self.b.ins().return_(&results);
    }

    /// A switch through Cranelift's jump-table/compare-tree builder; cases
    /// with arguments go through small blocks that pass them.
    fn switch(&mut self, index: Value, cases: &[(u64, BlockCall)], default: &BlockCall) {
        let ty = self.ty(index);
        let idx = self.val(index);
        let mut sw = Switch::new();
        let mut pending = Vec::new();
        for (k, dest) in cases {
            if u128::from(*k) & !ty.mask() != 0 {
                continue; // the index can never have this value
            }
            let target = self.switch_target(dest, &mut pending);
            sw.set_entry(u128::from(*k), target);
        }
        let otherwise = self.switch_target(default, &mut pending);
        sw.emit(&mut self.b, idx, otherwise);
        for (block, dest) in pending {
            self.b.switch_to_block(block);
            let (target, args) = self.dest(dest);
            self.b.ins().jump(target, &args);
        }
    }

    fn switch_target<'d>(
        &mut self,
        dest: &'d BlockCall,
        pending: &mut Vec<(cl::Block, &'d BlockCall)>,
    ) -> cl::Block {
        if dest.args.is_empty() {
            return self.block(dest.block);
        }
        let b = self.b.create_block();
        pending.push((b, dest));
        b
    }

    /// The constant a value is defined as, if it is an i64 `iconst`.
    pub(super) fn constant(&self, v: Value) -> Option<u64> {
        super::i64_constant(self.f, v)
    }

    fn guest_call(
        &mut self,
        target: Value,
        return_pc: u64,
        cont: &BlockCall,
    ) -> Result<(), BackendError> {
        let i64t = types::I64;
        let target_v = self.val(target);
        let direct = self.constant(target).and_then(|pc| (self.callees)(pc));
        let handed = self.call_linkage();
        let (pc, results) = match direct {
            Some(id) => {
                let f = self.module.declare_func_in_func(id, self.b.func);
                let args = self.body_args(&handed);
                let call = self.b.ins().call(f, &args);
                let results = self.b.inst_results(call).to_vec();
                (results[0], results[1..].to_vec())
            }
            None => {
                self.store_call_linkage(&handed);
                let f = self.import(helpers::CALL, &[i64t, i64t, i64t], &[i64t])?;
                let mem = self.mem_arg();
                let pc = self
                    .call(f, &[self.state, mem, target_v])
                    .expect("the call helper returns a PC");
                (pc, self.load_return_linkage())
            }
        };
        self.receive_linkage(&results);

        // Fast path: the callee returned to the expected address.
        let (cb, cargs) = self.dest(cont);
        let check_reason = self.b.create_block();
        let slow = self.b.create_block();
        let at_return = self.b.ins().icmp_imm_s(IntCC::Equal, pc, return_pc as i64);
        self.b.ins().brif(at_return, check_reason, &[], slow, &[]);
        self.b.switch_to_block(check_reason);
        let reason = self.load_exit_reason();
        let returned = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, reason, exit::RETURN as i64);
        self.b.ins().brif(returned, cb, &cargs, slow, &[]);

        // Otherwise a callee that jumped elsewhere in its frame is resumed
        // once, and the result is checked again.
        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        let reason = self.load_exit_reason();
        let resume = self.b.create_block();
        let check = self.b.create_block();
        let pc_p = self.b.append_block_param(check, i64t);
        let reason_p = self.b.append_block_param(check, i64t);
        let linkage_p: Vec<cl::Value> = self
            .return_linkage_types()
            .into_iter()
            .map(|ty| self.b.append_block_param(check, ty))
            .collect();
        let jumped = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, reason, exit::JUMP as i64);
        let now: Vec<BlockArg> = [pc, reason]
            .iter()
            .chain(&results)
            .map(|&v| BlockArg::Value(v))
            .collect();
        self.b.ins().brif(jumped, resume, &[], check, &now);

        self.b.switch_to_block(resume);
        self.b.set_cold_block(resume);
        let f = self.import(helpers::CONTINUE, &[i64t, i64t, i64t], &[i64t])?;
        let mem = self.mem_arg();
        let pc2 = self
            .call(f, &[self.state, mem, pc])
            .expect("continue returns a PC");
        let reason2 = self.load_exit_reason();
        let from_state = self.load_return_linkage();
        let later: Vec<BlockArg> = [pc2, reason2]
            .iter()
            .chain(&from_state)
            .map(|&v| BlockArg::Value(v))
            .collect();
        self.b.ins().jump(check, &later);

        // Continue in line only on a return to the expected address.
        self.b.switch_to_block(check);
        self.b.set_cold_block(check);
        let returned = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, reason_p, exit::RETURN as i64);
        let expected = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, pc_p, return_pc as i64);
        let ok = self.b.ins().band(returned, expected);
        let leave = self.b.create_block();
        self.receive_linkage(&linkage_p);
        self.b.ins().brif(ok, cb, &cargs, leave, &[]);

        // Passed up as the callee left: its reason is in the header. A
        // callee that returned to another address than `return_pc` left
        // its results in `linkage_p`, so they go up too.
        self.b.switch_to_block(leave);
        self.b.set_cold_block(leave);
        let mut passed = vec![pc_p];
        passed.extend(&linkage_p);
        self.b.ins().return_(&passed);
        Ok(())
    }

    /// The body to enter in place of leaving `block` for `pc`: a
    /// translated function's entry in this module, when bodies share the
    /// `tail` convention (they have a linkage). An exit after a runtime
    /// helper goes to the dispatcher: the helper may have flushed
    /// translations (`fence.i`, `isb`, x86 code found changed on entry,
    /// which exits to its own entry to be translated anew).
    fn tail_callee(&self, block: Block, pc: Value) -> Option<FuncId> {
        if !has_linkage(&self.f.regs) {
            return None;
        }
        let calls_helper = self
            .f
            .block(block)
            .insts
            .iter()
            .any(|&i| self.f.inst(i).op == Opcode::CallHelper);
        // An exit to this function's own entry is a poll's (a jump there
        // is a branch in the function): the signal is pending.
        let target = self.constant(pc).filter(|&pc| pc != self.f.entry_pc)?;
        if calls_helper {
            return None;
        }
        (self.callees)(target)
    }

    /// A jump to another function's entry (a guest tail call, or falling
    /// into the next function) enters its body in this function's host
    /// frame, so whatever the callee leaves with is what this function
    /// leaves with, and the host stack does not grow. The exit wrote every
    /// register to the state; the callee's linkage registers are read back
    /// from it (Cranelift forwards those stores). A pending signal leaves to
    /// the dispatcher as the exit would, so a loop of tail calls still
    /// reaches it.
    fn tail_call(&mut self, callee: FuncId, target: Value) {
        let pc = self.val(target);
        let pending = self.poll();
        let enter = self.b.create_block();
        let stay = self.b.create_block();
        self.b.ins().brif(pending, stay, &[], enter, &[]);

        self.b.switch_to_block(stay);
        self.b.set_cold_block(stay);
        self.leave(exit::JUMP, pc);

        self.b.switch_to_block(enter);
        let regs = self.f.regs.link_in.clone();
        let handed: Vec<cl::Value> = regs
            .iter()
            .map(|&r| self.read_reg(r, self.f.regs.desc(r).ty))
            .collect();
        let args = self.body_args(&handed);
        let f = self.module.declare_func_in_func(callee, self.b.func);
        self.b.ins().return_call(f, &args);
    }

    fn load_exit_reason(&mut self) -> cl::Value {
        self.b.ins().load(
            types::I64,
            self.state_flags,
            self.state,
            header::EXIT_REASON as i32,
        )
    }
}
