//! Guest memory, guest registers, atomics and runtime helpers.
//!
//! A guest address becomes `mem + (addr & GUEST_ADDR_MASK)` (no `mem +`
//! when guest memory is at host address 0, [`GuestBase::Zero`]), or, for an
//! address `x + c` with a small constant `c`, `mem + (x & GUEST_ADDR_MASK)`
//! with `c` in the access's displacement (the guards around the guest space
//! make the difference fault; see [`vmtrans_abi::GUEST_DISP_LIMIT`]), so
//! accesses off one base register share its mask; an address the ops that
//! compute it keep below 2^40 (a zero-extended, scaled index plus a table
//! address) is not masked, and a pointer a loop steps through memory is
//! masked where the loop is entered (see [`super::induction`]). The access is
//! a plain little-endian host load or store at any alignment (no call on
//! the fast path; a fault is a host signal the runtime turns into a guest
//! one). Registers are loads and stores at their CPU-state offsets, `i1`
//! registers one byte each.

use cranelift_codegen::ir::{self as cl, types, AtomicRmwOp, BlockArg, InstBuilder};
use vmtrans_abi::{
    helpers, GuestBase, GUEST_ADDR_BITS, GUEST_ADDR_MASK, GUEST_DISP_LIMIT, GUEST_INDEX_BITS,
};
use vmtrans_ir::{AtomicOp, Function, GuestReg, Helper, Imm, Opcode, Type, Value};

use super::int::IntBin;
use super::{cl_type, Lower};
use crate::BackendError;

/// How many nested constant additions [`base_plus_disp`] folds.
const DISP_CHAIN_DEPTH: u32 = 4;

/// How many defining ops deep [`Lower::value_bits`] looks.
const VALUE_BITS_DEPTH: u32 = 6;

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

/// `(x, c)` when `v` is the 64-bit `iadd x, (iconst c)` (either operand
/// order) or `isub x, (iconst -c)` (x86 `push` and `sub rsp` step the
/// stack pointer down with `isub`).
pub(super) fn plus_constant(f: &Function, v: Value) -> Option<(Value, i64)> {
    let d = f.defining_inst(v)?;
    if !matches!(d.op, Opcode::Iadd | Opcode::Isub) || d.ty != Type::I64 {
        return None;
    }
    let constant = |v: Value| super::i64_constant(f, v).map(|c| c as i64);
    match (d.op, constant(d.args[0]), constant(d.args[1])) {
        (Opcode::Iadd, _, Some(c)) => Some((d.args[0], c)),
        (Opcode::Iadd, Some(c), None) => Some((d.args[1], c)),
        (Opcode::Isub, _, Some(c)) => Some((d.args[0], c.wrapping_neg())),
        _ => None,
    }
}

/// `(x, c)` when `addr` is `x` plus constants, added by up to
/// [`DISP_CHAIN_DEPTH`] `iadd`s, that sum to `c` with every partial sum
/// below [`GUEST_DISP_LIMIT`] in magnitude. Chains are common: a loop
/// bumps a pointer and then stores off the bumped one (`addi a2, a2, 4;
/// sw a5, -4(a2)`), and the store should share the mask of the
/// pointer's other accesses.
pub(super) fn base_plus_disp(f: &Function, addr: Value) -> Option<(Value, i32)> {
    let (mut x, mut total) = (addr, 0i64);
    for _ in 0..DISP_CHAIN_DEPTH {
        let Some((next, c)) = plus_constant(f, x) else {
            break;
        };
        let sum = total + c;
        if c.unsigned_abs() >= GUEST_DISP_LIMIT as u64
            || sum.unsigned_abs() >= GUEST_DISP_LIMIT as u64
        {
            break;
        }
        (x, total) = (next, sum);
    }
    (x != addr).then_some((x, total as i32))
}

/// The guest address `addr` as a base and a displacement (0 when it is
/// not a base plus constants; see [`base_plus_disp`]).
pub(super) fn split_address(f: &Function, addr: Value) -> (Value, i32) {
    base_plus_disp(f, addr).unwrap_or((addr, 0))
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

/// The plain integer op of an atomic one (`None` for an exchange).
fn plain_op(op: AtomicOp) -> Option<IntBin> {
    Some(match op {
        AtomicOp::Xchg => return None,
        AtomicOp::Add => IntBin::Add,
        AtomicOp::And => IntBin::And,
        AtomicOp::Or => IntBin::Or,
        AtomicOp::Xor => IntBin::Xor,
        AtomicOp::Smin => IntBin::Smin,
        AtomicOp::Smax => IntBin::Smax,
        AtomicOp::Umin => IntBin::Umin,
        AtomicOp::Umax => IntBin::Umax,
    })
}

impl Lower<'_> {
    /// The host address of guest address `addr`.
    pub(super) fn host_addr(&mut self, addr: cl::Value) -> cl::Value {
        let masked = self.b.ins().band_imm_s(addr, GUEST_ADDR_MASK as i64);
        self.plus_mem_base(masked)
    }

    /// The host address of guest address `p`: masked unless the ops that
    /// compute it keep it inside the guest space.
    pub(super) fn host_addr_of(&mut self, p: Value) -> cl::Value {
        let v = self.val(p);
        if self.value_bits(p, VALUE_BITS_DEPTH) <= GUEST_ADDR_BITS {
            self.plus_mem_base(v)
        } else {
            self.host_addr(v)
        }
    }

    /// The host address of guest offset `offset` (already inside the
    /// guest space): itself when guest memory is at host address 0.
    fn plus_mem_base(&mut self, offset: cl::Value) -> cl::Value {
        match self.opts.guest_base {
            GuestBase::Zero => offset,
            GuestBase::Argument => self.b.ins().iadd(self.mem, offset),
        }
    }

    /// The `mem` argument for calls to other translated functions and the
    /// runtime: a constant 0 (rematerialized where used, so no register
    /// holds it across the function) when guest memory is at host address 0
    /// (the callee may use its `mem`, 0 then, as a zero base register; see
    /// [`Lower::host_addr_disp`]).
    pub(super) fn mem_arg(&mut self) -> cl::Value {
        match self.opts.guest_base {
            GuestBase::Zero => self.b.ins().iconst(types::I64, 0),
            GuestBase::Argument => self.mem,
        }
    }

    /// The host address of guest address `addr` as a pointer and a
    /// displacement: `x + c` with a constant `c` below the displacement
    /// limit keeps `c` out of the mask, and an `x` known to be inside the
    /// guest space (a zero-extended index, say) is not masked at all.
    fn host_addr_disp(&mut self, addr: Value) -> (cl::Value, i32) {
        let (x, disp) = split_address(self.f, addr);
        if let Some(q) = self.loop_host_pointer(x, disp) {
            return (q, disp);
        }
        if let Some((base, index)) = self.base_plus_index(x) {
            let base = self.host_addr_of(base);
            let index = self.val(index);
            return (self.b.ins().iadd(base, index), disp);
        }
        let xv = self.val(x);
        if self.value_bits(x, VALUE_BITS_DEPTH) > GUEST_ADDR_BITS {
            return (self.host_addr(xv), disp);
        }
        if self.opts.guest_base == GuestBase::Zero && self.is_scaled_index(x) {
            // x86 addressing has no index-without-base form that Cranelift
            // emits: `table + (i << 2)` alone would cost a separate shift.
            // The `mem` argument, 0 here, is the base register that lets
            // the shift fold into the access (`disp(mem, i, 4)`).
            return (self.b.ins().iadd(self.mem, xv), disp);
        }
        (self.plus_mem_base(xv), disp)
    }

    /// `(base, index)` when `x`, a guest address the ops that compute it do
    /// not keep inside the guest space, is `base + index` (either order)
    /// with `|index|` below 2^[`GUEST_INDEX_BITS`] (a sign-extended 32-bit
    /// index, scaled, say): the access is then at the host address of
    /// `base` plus `index`, so a loop-invariant base is masked once, outside
    /// the loop. It differs from the masked sum only for an access that
    /// crosses either end of the guest space, which lands in a guard.
    fn base_plus_index(&self, x: Value) -> Option<(Value, Value)> {
        let d = self.def_of(x)?;
        if d.op != Opcode::Iadd
            || d.ty != Type::I64
            || self.value_bits(x, VALUE_BITS_DEPTH) <= GUEST_ADDR_BITS
        {
            return None;
        }
        [(d.args[0], d.args[1]), (d.args[1], d.args[0])]
            .into_iter()
            .find(|&(_, index)| self.index_bits(index, VALUE_BITS_DEPTH) <= GUEST_INDEX_BITS)
    }

    /// An upper bound on the magnitude of 64-bit `v` read as signed (it is
    /// above -2^bits and below 2^bits), `depth` defining ops deep.
    fn index_bits(&self, v: Value, depth: u32) -> u32 {
        let unsigned = self.value_bits(v, depth);
        let Some(d) = self.def_of(v).filter(|_| depth > 0) else {
            return unsigned;
        };
        let signed = match d.op {
            Opcode::Sext => self.ty(d.args[0]).bits(),
            Opcode::Ishl => match self.constant(d.args[1]) {
                Some(k) if k < 8 => self.index_bits(d.args[0], depth - 1) + k as u32,
                _ => 64,
            },
            _ => 64,
        };
        unsigned.min(signed)
    }

    /// True when `v` is `ishl y, k` with `k` of 1 to 3 (an index scaled by
    /// 2, 4 or 8, which an x86 address can do for free).
    fn is_scaled_index(&self, v: Value) -> bool {
        self.def_of(v).is_some_and(|d| {
            d.op == Opcode::Ishl
                && matches!(
                    self.def_of(d.args[1]).map(|k| (k.op, k.imm)),
                    Some((Opcode::Iconst, Imm::Int(1..=3)))
                )
        })
    }

    /// An upper bound on the significant bits of integer `v` (it is below
    /// 2^bits), read from the ops defining it, `depth` levels deep.
    fn value_bits(&self, v: Value, depth: u32) -> u32 {
        let width = self.ty(v).bits();
        let Some(d) = self.def_of(v).filter(|_| depth > 0) else {
            return width;
        };
        let arg = |i: usize| self.value_bits(d.args[i], depth - 1);
        let amount = |i: usize| {
            self.def_of(d.args[i]).and_then(|c| match (c.op, c.imm) {
                (Opcode::Iconst, Imm::Int(k)) if k < u128::from(width) => Some(k as u32),
                _ => None,
            })
        };
        let bits = match d.op {
            Opcode::Iconst => match d.imm {
                Imm::Int(k) => 128 - k.leading_zeros(),
                _ => width,
            },
            Opcode::Uext | Opcode::Ireduce => arg(0),
            // A sign extension of a value whose top bit is clear adds none.
            Opcode::Sext => match arg(0) {
                b if b < self.ty(d.args[0]).bits() => b,
                _ => width,
            },
            Opcode::Band => arg(0).min(arg(1)),
            Opcode::Bor | Opcode::Bxor => arg(0).max(arg(1)),
            Opcode::Iadd => arg(0).max(arg(1)) + 1,
            Opcode::Ushr => amount(1).map_or(width, |k| arg(0).saturating_sub(k)),
            Opcode::Ishl => amount(1).map_or(width, |k| arg(0) + k),
            _ => width,
        };
        bits.min(width)
    }

    pub(super) fn load(&mut self, ty: Type, addr: Value) -> cl::Value {
        let (p, disp) = self.host_addr_disp(addr);
        let v = self.b.ins().load(cl_type(ty), self.guest_flags, p, disp);
        if ty == Type::I1 {
            self.b.ins().band_imm_s(v, 1)
        } else {
            v
        }
    }

    /// A guest load of `ty` (8, 16 or 32 bits) extended to `to` in the
    /// access itself (see [`super::extload`]).
    pub(super) fn extending_load(
        &mut self,
        signed: bool,
        ty: Type,
        to: Type,
        addr: Value,
    ) -> cl::Value {
        let (p, disp) = self.host_addr_disp(addr);
        let (t, flags, ins) = (cl_type(to), self.guest_flags, self.b.ins());
        match (ty, signed) {
            (Type::I8, false) => ins.uload8(t, flags, p, disp),
            (Type::I8, true) => ins.sload8(t, flags, p, disp),
            (Type::I16, false) => ins.uload16(t, flags, p, disp),
            (Type::I16, true) => ins.sload16(t, flags, p, disp),
            (_, false) => ins.uload32(flags, p, disp),
            (_, true) => ins.sload32(flags, p, disp),
        }
    }

    /// A guest load Cranelift's alias analysis cannot forward a stored
    /// value into (an atomic load is a plain `mov` on x86_64): its value
    /// feeds a dynamically rounded float op, which must not see constants.
    pub(super) fn opaque_load(&mut self, ty: Type, addr: Value) -> cl::Value {
        let a = self.val(addr);
        let p = self.host_addr(a);
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

    pub(super) fn store(&mut self, addr: Value, x: cl::Value) {
        let (p, disp) = self.host_addr_disp(addr);
        self.b.ins().store(self.guest_flags, x, p, disp);
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

    /// The header's `PARALLEL` flag: true once other
    /// code may access guest memory concurrently (see
    /// [`vmtrans_abi::header::PARALLEL`]). A plain load: the flag only
    /// changes in a system call of this thread or before the thread starts.
    fn parallel(&mut self) -> cl::Value {
        let flag = self.b.ins().load(
            types::I8,
            self.state_flags,
            self.state,
            vmtrans_abi::header::PARALLEL as i32,
        );
        self.b
            .ins()
            .icmp_imm_s(cl::condcodes::IntCC::NotEqual, flag, 0)
    }

    /// Runs `atomic` when the guest is parallel and `plain` otherwise, in
    /// blocks of their own; both return a value of `ty`, the result.
    fn parallel_or_plain(
        &mut self,
        ty: Type,
        atomic: impl FnOnce(&mut Self) -> cl::Value,
        plain: impl FnOnce(&mut Self) -> cl::Value,
    ) -> cl::Value {
        let parallel = self.parallel();
        let (atomic_block, plain_block) = (self.b.create_block(), self.b.create_block());
        let join = self.b.create_block();
        let result = self.b.append_block_param(join, cl_type(ty));
        self.b
            .ins()
            .brif(parallel, atomic_block, &[], plain_block, &[]);
        self.b.switch_to_block(atomic_block);
        let v = atomic(self);
        self.b.ins().jump(join, &[BlockArg::Value(v)]);
        self.b.switch_to_block(plain_block);
        let v = plain(self);
        self.b.ins().jump(join, &[BlockArg::Value(v)]);
        self.b.switch_to_block(join);
        result
    }

    /// A guest atomic read-modify-write: the host's atomic instruction when
    /// the guest is parallel, else a plain load, op and store (atomic for
    /// the only thread, which takes signals only at poll points). This is
    /// QEMU's non-parallel mode; a locked x86 instruction costs some 20
    /// cycles, and glibc takes a lock in every `malloc` and `free`.
    pub(super) fn atomic_rmw(
        &mut self,
        op: AtomicOp,
        ty: Type,
        addr: cl::Value,
        x: cl::Value,
    ) -> cl::Value {
        let p = self.host_addr(addr);
        let flags = self.guest_flags;
        self.parallel_or_plain(
            ty,
            |me| {
                me.b.ins()
                    .atomic_rmw(cl_type(ty), flags, atomic_op(op), p, x)
            },
            |me| {
                let old = me.b.ins().load(cl_type(ty), flags, p, 0);
                let new = match plain_op(op) {
                    Some(bin) => me.int_binary(bin, ty, old, x),
                    None => x,
                };
                me.b.ins().store(flags, new, p, 0);
                old
            },
        )
    }

    /// A guest compare-and-swap, atomic only when the guest is parallel
    /// (see [`Lower::atomic_rmw`]). The plain form always stores (the old
    /// value back on a miss), as a locked `cmpxchg` always writes.
    pub(super) fn atomic_cas(
        &mut self,
        ty: Type,
        addr: cl::Value,
        expected: cl::Value,
        new: cl::Value,
    ) -> cl::Value {
        let p = self.host_addr(addr);
        let flags = self.guest_flags;
        self.parallel_or_plain(
            ty,
            |me| me.b.ins().atomic_cas(flags, p, expected, new),
            |me| {
                let old = me.b.ins().load(cl_type(ty), flags, p, 0);
                let hit = me.b.ins().icmp(cl::condcodes::IntCC::Equal, old, expected);
                let stored = me.b.ins().select(hit, new, old);
                me.b.ins().store(flags, stored, p, 0);
                old
            },
        )
    }

    /// A guest memory barrier: a host `mfence` when the guest is parallel,
    /// nothing otherwise (one thread sees its own accesses in order).
    pub(super) fn fence(&mut self) {
        let parallel = self.parallel();
        let (fence_block, join) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(parallel, fence_block, &[], join, &[]);
        self.b.switch_to_block(fence_block);
        self.b.ins().fence();
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(join);
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
