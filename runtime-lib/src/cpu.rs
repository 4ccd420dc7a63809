//! The guest CPU state: the buffer generated code reads and writes.
//!
//! Its layout is defined by the ABI crate (header fields, then the register
//! file in declaration order); this module only owns the allocation and
//! offers typed accessors by register index or name.

use serde::{Deserialize, Serialize};
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use vmtrans_abi::{header, reg_offset, state_size, Arch, RegKind, REGS_OFFSET};

/// Index of the register called `name` in `arch`'s register file.
pub fn reg_index(arch: Arch, name: &str) -> Option<usize> {
    arch.registers().iter().position(|r| r.name == name)
}

/// Index of a register that the runtime relies on; panics with the name if
/// the ABI register table lacks it (a programming error, caught by tests).
pub fn required_reg(arch: Arch, name: &str) -> usize {
    reg_index(arch, name).unwrap_or_else(|| panic!("{arch} register table has no `{name}`"))
}

/// A heap-allocated, 16-byte aligned CPU state of `abi::state_size(arch)`
/// bytes, zeroed at creation.
///
/// Generated code holds a raw pointer to the same bytes while it runs, so
/// every accessor goes through raw pointers and takes `&self`; a `CpuState`
/// belongs to one guest thread (it is `Send`, not `Sync`).
pub struct CpuState {
    ptr: NonNull<u8>,
    arch: Arch,
    /// `state_size(arch)`, kept: every accessor checks bounds against it.
    size: usize,
}

// SAFETY: the buffer is owned by this value; moving it to another thread
// moves ownership.
unsafe impl Send for CpuState {}

fn layout(arch: Arch) -> Layout {
    Layout::from_size_align(state_size(arch), 16).expect("valid CPU state layout")
}

impl CpuState {
    /// A zeroed state for `arch`.
    pub fn new(arch: Arch) -> CpuState {
        // SAFETY: the layout has a non-zero size (the header alone is 64 bytes).
        let raw = unsafe { std::alloc::alloc_zeroed(layout(arch)) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout(arch)));
        CpuState {
            ptr,
            arch,
            size: state_size(arch),
        }
    }

    /// The guest architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The pointer generated code receives as its `state` argument.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Size of the state in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    fn field<T: Copy>(&self, offset: usize) -> *mut T {
        assert!(
            offset + std::mem::size_of::<T>() <= self.size(),
            "CPU state access out of bounds"
        );
        // SAFETY: in bounds (asserted); alignment follows from the ABI layout
        // (every field aligned to its size) and the 16-aligned allocation.
        unsafe { self.ptr.as_ptr().add(offset).cast() }
    }

    fn load<T: Copy>(&self, offset: usize) -> T {
        // SAFETY: `field` returns an in-bounds aligned pointer into our buffer.
        unsafe { self.field::<T>(offset).read() }
    }

    fn store<T: Copy>(&self, offset: usize, value: T) {
        // SAFETY: as in `load`.
        unsafe { self.field::<T>(offset).write(value) }
    }

    /// Register `index`, zero-extended to 64 bits (the low 64 bits of a
    /// 128-bit register).
    pub fn reg(&self, index: usize) -> u64 {
        let off = reg_offset(self.arch, index);
        match self.arch.registers()[index].kind {
            RegKind::Flag | RegKind::I8 => self.load::<u8>(off) as u64,
            RegKind::I32 => self.load::<u32>(off) as u64,
            RegKind::I64 | RegKind::V128 => self.load::<u64>(off),
        }
    }

    /// Sets register `index` (truncating to its width; a 128-bit register
    /// gets `value` in its low half and zero above).
    pub fn set_reg(&self, index: usize, value: u64) {
        let off = reg_offset(self.arch, index);
        match self.arch.registers()[index].kind {
            RegKind::Flag | RegKind::I8 => self.store(off, value as u8),
            RegKind::I32 => self.store(off, value as u32),
            RegKind::I64 => self.store(off, value),
            RegKind::V128 => self.store(off, value as u128),
        }
    }

    /// A 128-bit register (or any register zero-extended).
    pub fn reg_u128(&self, index: usize) -> u128 {
        match self.arch.registers()[index].kind {
            RegKind::V128 => self.load::<u128>(reg_offset(self.arch, index)),
            _ => self.reg(index) as u128,
        }
    }

    /// Sets a 128-bit register.
    pub fn set_reg_u128(&self, index: usize, value: u128) {
        match self.arch.registers()[index].kind {
            RegKind::V128 => self.store(reg_offset(self.arch, index), value),
            _ => self.set_reg(index, value as u64),
        }
    }

    /// Register called `name`, if the architecture has one.
    pub fn reg_by_name(&self, name: &str) -> Option<u64> {
        reg_index(self.arch, name).map(|i| self.reg(i))
    }

    /// Sets the register called `name`; false if there is none.
    pub fn set_reg_by_name(&self, name: &str, value: u64) -> bool {
        reg_index(self.arch, name)
            .map(|i| self.set_reg(i, value))
            .is_some()
    }

    /// A header field (one of `abi::header`).
    pub fn header(&self, field: usize) -> u64 {
        self.load::<u64>(field)
    }

    /// Sets a header field.
    pub fn set_header(&self, field: usize, value: u64) {
        self.store(field, value)
    }

    /// The interrupt word translated code polls at loop back edges.
    fn interrupt_word(&self) -> &AtomicU64 {
        // SAFETY: the header field is 8-byte aligned inside the live state
        // allocation, and it is only ever accessed atomically.
        unsafe { AtomicU64::from_ptr(self.as_ptr().add(header::INTERRUPT).cast()) }
    }

    /// True while an interrupt is requested (a signal may be waiting).
    pub fn interrupt_requested(&self) -> bool {
        self.interrupt_word().load(Ordering::Acquire) != 0
    }

    /// The 64-bit register at byte `offset` (a `reg_offset` of one).
    pub(crate) fn u64_at(&self, offset: usize) -> u64 {
        self.load(offset)
    }

    /// Sets the 64-bit register at byte `offset`.
    pub(crate) fn set_u64_at(&self, offset: usize, value: u64) {
        self.store(offset, value)
    }

    /// Asks translated code running on this state to leave at its next
    /// loop back edge (a signal may be waiting).
    pub fn request_interrupt(&self) {
        self.interrupt_word().store(1, Ordering::Release);
    }

    /// Withdraws the interrupt request; the dispatcher does this just before
    /// it looks for pending signals, so a signal posted later sets it again.
    pub fn clear_interrupt(&self) {
        self.interrupt_word().store(0, Ordering::Release);
    }

    /// Switches translated code on this state to parallel mode for good:
    /// guest atomics and fences become host atomics and barriers (see
    /// `abi::header::PARALLEL`).
    pub fn set_parallel(&self) {
        self.set_header(header::PARALLEL, 1);
    }

    /// True once [`CpuState::set_parallel`] was called.
    pub fn is_parallel(&self) -> bool {
        self.header(header::PARALLEL) != 0
    }

    /// Why translated code last returned (`abi::exit`).
    pub fn exit_reason(&self) -> u64 {
        self.header(header::EXIT_REASON)
    }

    /// Guest PC of the last trap.
    pub fn exit_pc(&self) -> u64 {
        self.header(header::EXIT_PC)
    }

    /// Faulting guest address of the last memory trap.
    pub fn fault_addr(&self) -> u64 {
        self.header(header::FAULT_ADDR)
    }

    /// The register area as bytes (copied).
    pub fn register_bytes(&self) -> Vec<u8> {
        let mut out = vec![0; self.size() - REGS_OFFSET];
        // SAFETY: the register area is `size - REGS_OFFSET` bytes of our buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(REGS_OFFSET),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        out
    }

    /// Copies the registers (not the header) from `other`.
    pub fn copy_registers_from(&self, other: &CpuState) {
        assert_eq!(
            self.arch, other.arch,
            "CPU states of different architectures"
        );
        let bytes = other.register_bytes();
        // SAFETY: same architecture, so the same register-area size.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.ptr.as_ptr().add(REGS_OFFSET),
                bytes.len(),
            )
        };
    }

    /// The registers as plain data (for snapshots).
    pub fn snapshot(&self) -> CpuSnapshot {
        let regs = self.arch.registers().iter().enumerate();
        CpuSnapshot {
            arch: self.arch,
            regs: regs
                .map(|(i, spec)| (spec.name.to_string(), self.reg_u128(i)))
                .collect(),
        }
    }

    /// Restores registers from a snapshot; unknown names are an error.
    pub fn restore(&self, snap: &CpuSnapshot) -> Result<(), String> {
        if snap.arch != self.arch {
            return Err(format!(
                "snapshot is for {}, state is {}",
                snap.arch, self.arch
            ));
        }
        for (name, value) in &snap.regs {
            let index =
                reg_index(self.arch, name).ok_or_else(|| format!("unknown register {name}"))?;
            self.set_reg_u128(index, *value);
        }
        Ok(())
    }
}

impl Drop for CpuState {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with the same layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout(self.arch)) }
    }
}

impl std::fmt::Debug for CpuState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("CpuState");
        s.field("arch", &self.arch);
        for (i, spec) in self.arch.registers().iter().enumerate() {
            let v = self.reg(i);
            if v != 0 {
                s.field(spec.name, &format_args!("{v:#x}"));
            }
        }
        s.finish()
    }
}

/// The register file as named values: the serde form of a [`CpuState`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuSnapshot {
    /// Guest architecture.
    pub arch: Arch,
    /// `(register name, value)` in register-table order.
    pub regs: Vec<(String, u128)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_round_trip_by_index_and_name() {
        let s = CpuState::new(Arch::Riscv64);
        assert_eq!(s.as_ptr() as usize % 16, 0);
        s.set_reg_by_name("a0", 0x1234);
        assert_eq!(s.reg(10), 0x1234);
        let fflags = required_reg(Arch::Riscv64, "fflags");
        s.set_reg(fflags, 0x1_0000_001f);
        assert_eq!(s.reg(fflags), 0x1f);
        let copy = CpuState::new(Arch::Riscv64);
        copy.restore(&s.snapshot()).unwrap();
        assert_eq!(copy.reg(10), 0x1234);
    }
}
