//! Guest memory, guest registers, atomics and runtime helpers.
//!
//! A guest address becomes `mem + (addr & GUEST_ADDR_MASK)`; the access is
//! a plain little-endian host load or store at any alignment (no call on
//! the fast path; a fault is a host signal the runtime turns into a guest
//! one). Registers are loads and stores at their CPU-state offsets, `i1`
//! registers one byte each.

use cranelift_codegen::ir::{self as cl, types, AtomicRmwOp, InstBuilder};
use vmtrans_abi::{helpers, GUEST_ADDR_MASK};
use vmtrans_ir::{AtomicOp, GuestReg, Helper, Type};

use super::{cl_type, Lower};
use crate::BackendError;

/// The runtime symbol of a helper.
fn helper_symbol(h: Helper) -> &'static str {
    match h {
        Helper::Syscall => helpers::SYSCALL,
        Helper::ReadCycle => helpers::READ_CYCLE,
        Helper::ReadTime => helpers::READ_TIME,
        Helper::ReadTimeFreq => helpers::READ_TIME_FREQ,
        Helper::ReadInstret => helpers::READ_INSTRET,
        Helper::Cpuid => helpers::CPUID,
        Helper::FpSyncFlags => helpers::FP_SYNC_FLAGS,
        Helper::FpHostFlags => helpers::FP_HOST_FLAGS,
        Helper::FpSetRounding => helpers::FP_SET_ROUNDING,
        Helper::FlushCode => helpers::FLUSH_CODE,
        Helper::X87 => helpers::X87,
    }
}

fn atomic_op(op: AtomicOp) -> AtomicRmwOp {
    match op {
        AtomicOp::Xchg => AtomicRmwOp::Xchg,
        AtomicOp::Add => AtomicRmwOp::Add,
        AtomicOp::And => AtomicRmwOp::And,
        AtomicOp::Or => AtomicRmwOp::Or,
        AtomicOp::Xor => AtomicRmwOp::Xor,
        AtomicOp::Smin => AtomicRmwOp::Smin,
        AtomicOp::Smax => AtomicRmwOp::Smax,
        AtomicOp::Umin => AtomicRmwOp::Umin,
        AtomicOp::Umax => AtomicRmwOp::Umax,
    }
}

impl Lower<'_> {
    /// The host address of guest address `addr`.
    fn host_addr(&mut self, addr: cl::Value) -> cl::Value {
        let masked = self.b.ins().band_imm_s(addr, GUEST_ADDR_MASK as i64);
        self.b.ins().iadd(self.mem, masked)
    }

    pub(super) fn load(&mut self, ty: Type, addr: cl::Value) -> cl::Value {
        let p = self.host_addr(addr);
        let v = self.b.ins().load(cl_type(ty), self.guest_flags, p, 0);
        if ty == Type::I1 {
            self.b.ins().band_imm_s(v, 1)
        } else {
            v
        }
    }

    /// A guest load Cranelift's alias analysis cannot forward a stored
    /// value into (an atomic load is a plain `mov` on x86_64): its value
    /// feeds a dynamically rounded float op, which must not see constants.
    pub(super) fn opaque_load(&mut self, ty: Type, addr: cl::Value) -> cl::Value {
        let p = self.host_addr(addr);
        let int = match ty {
            Type::F32 => types::I32,
            Type::F64 => types::I64,
            Type::I1 => types::I8,
            Type::I8 | Type::I16 | Type::I32 | Type::I64 => cl_type(ty),
            // No atomic form for these: the plain load (rare as an operand of
            // a rounding op, and never a folding hazard seen in guest code).
            _ => return self.load(ty, addr),
        };
        let v = self.b.ins().atomic_load(int, self.guest_flags, p);
        match ty {
            Type::F32 | Type::F64 => self.bitcast(ty, v),
            Type::I1 => self.b.ins().band_imm_s(v, 1),
            _ => v,
        }
    }

    pub(super) fn store(&mut self, addr: cl::Value, x: cl::Value) {
        let p = self.host_addr(addr);
        self.b.ins().store(self.guest_flags, x, p, 0);
    }

    pub(super) fn read_reg(&mut self, reg: GuestReg, ty: Type) -> cl::Value {
        let off = self.layout.offset(reg.index()) as i32;
        let v = self
            .b
            .ins()
            .load(cl_type(ty), self.state_flags, self.state, off);
        if ty == Type::I1 {
            self.b.ins().band_imm_s(v, 1)
        } else {
            v
        }
    }

    /// `poll`: the interrupt word of the CPU state header, read with an
    /// atomic load so Cranelift never forwards or hoists it (the runtime sets
    /// it from another thread or a host signal handler).
    pub(super) fn poll(&mut self) -> cl::Value {
        let addr = self
            .b
            .ins()
            .iadd_imm_s(self.state, vmtrans_abi::header::INTERRUPT as i64);
        let word = self.b.ins().atomic_load(types::I8, self.state_flags, addr);
        self.b
            .ins()
            .icmp_imm_s(cl::condcodes::IntCC::NotEqual, word, 0)
    }

    pub(super) fn write_reg(&mut self, reg: GuestReg, x: cl::Value) {
        let off = self.layout.offset(reg.index()) as i32;
        self.b.ins().store(self.state_flags, x, self.state, off);
    }

    pub(super) fn atomic_rmw(
        &mut self,
        op: AtomicOp,
        ty: Type,
        addr: cl::Value,
        x: cl::Value,
    ) -> cl::Value {
        let p = self.host_addr(addr);
        self.b
            .ins()
            .atomic_rmw(cl_type(ty), self.guest_flags, atomic_op(op), p, x)
    }

    pub(super) fn atomic_cas(
        &mut self,
        addr: cl::Value,
        expected: cl::Value,
        new: cl::Value,
    ) -> cl::Value {
        let p = self.host_addr(addr);
        self.b.ins().atomic_cas(self.guest_flags, p, expected, new)
    }

    /// Calls the runtime helper `h` with the CPU state and `args`.
    pub(super) fn call_helper(
        &mut self,
        h: Helper,
        args: &[cl::Value],
    ) -> Result<Option<cl::Value>, BackendError> {
        let mut params = vec![types::I64];
        params.extend(h.params().iter().map(|&t| cl_type(t)));
        let returns: Vec<cl::Type> = h.result().map(cl_type).into_iter().collect();
        let f = self.import(helper_symbol(h), &params, &returns)?;
        let mut call_args = vec![self.state];
        call_args.extend_from_slice(args);
        Ok(self.call(f, &call_args))
    }
}
