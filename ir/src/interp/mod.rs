//! The reference interpreter: the semantic oracle for passes and backends.
//!
//! [`run`] executes one [`Function`] on a [`GuestState`] (the guest
//! registers), a [`Memory`] and an [`Env`] (helpers and guest calls), and
//! returns how control left the function. Every op's meaning is defined
//! here, bit-exactly, following the rules in [`crate::ops`]:
//! - integers of every width (`i1`..`i128`) are `u128` bit patterns masked to
//!   the width: wrapping arithmetic, total division, shifts modulo the width,
//!   high products of 128-bit operands by a 256-bit multiply;
//! - floats are IEEE bits, computed by a soft-float core that rounds exactly
//!   in every rounding mode (fused multiply-add included); `dyn` uses
//!   [`GuestState::dyn_rm`]. NaN results: the first NaN operand, quieted, or
//!   the canonical quiet NaN when the op creates one — the interpreter's
//!   choice, since the IR leaves NaN payloads to the host; lifters
//!   canonicalise where their guest does. IEEE exception flags are not
//!   modelled;
//! - vector ops work lane-wise with the lane type `ty` (lane 0 least
//!   significant); vector float arithmetic, `vfsqrt` and `vfcvt_from_sint`
//!   round in the dynamic mode; float lane ops read lanes by width, so
//!   `vfadd.i32` is `vfadd.f32`. Widening and narrowing ops take the
//!   *source* lane type (`vswiden_lo.i8` gives `i16` lanes);
//! - memory ops go through [`Memory`], register ops through the state,
//!   atomics are plain read-modify-writes (one thread), `fence` does nothing,
//!   helpers and guest calls go to the [`Env`].
//!
//! [`eval_pure`] exposes the side-effect-free part to the constant folder,
//! so folding can never disagree with execution.

mod eval;
mod exec;
mod float;
mod int;
mod memory;
mod vector;

use std::fmt;

use crate::function::{Block, Function, Inst, RegFile};
use crate::ops::{Helper, Imm, Opcode, RoundingMode, Sig, TrapKind};
use crate::print::{inst_text, Numbering};
use crate::types::Type;

pub use memory::{MemFault, Memory, SparseMemory};

/// The guest CPU state the interpreter reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestState {
    /// One value per register of the function's [`RegFile`], masked to the
    /// register's type.
    pub regs: Vec<u128>,
    /// The guest's dynamic rounding mode, used by ops rounding in `dyn`
    /// mode (never `Dyn` itself).
    pub dyn_rm: RoundingMode,
}

impl GuestState {
    /// All registers zero, rounding to nearest.
    pub fn new(regs: &RegFile) -> GuestState {
        GuestState {
            regs: vec![0; regs.len()],
            dyn_rm: RoundingMode::Rne,
        }
    }
}

/// How control left the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `exit` to the dispatcher at this guest PC (also a guest call that
    /// returned somewhere other than its return address).
    Exit(u64),
    /// Guest return to this PC.
    Return(u64),
    /// `trap` of this kind at this guest PC.
    Trap(TrapKind, u64),
}

/// What the interpreter asks of the world outside the function.
pub trait Env {
    /// Runs runtime helper `h` with its arguments; returns its result (which
    /// must be present exactly when [`Helper::result`] says so).
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError>;

    /// Runs the guest code at `target` (a guest call) and returns the guest
    /// PC it returned to.
    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<u64, InterpError>;

    /// The answer of a `poll`: whether the runtime wants the code to leave
    /// at this safe point. The interpreter has no asynchronous signals, so
    /// by default never.
    fn poll(&mut self) -> bool {
        false
    }
}

/// An environment with no helpers and no callees: every request is an
/// [`InterpError::Unsupported`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn helper(
        &mut self,
        h: Helper,
        _args: &[u128],
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        Err(InterpError::Unsupported(format!(
            "helper @{} called, but the environment provides no helpers",
            h.name()
        )))
    }

    fn call(
        &mut self,
        target: u64,
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        Err(InterpError::Unsupported(format!(
            "guest call to {target:#x}, but the environment provides no callees"
        )))
    }
}

/// Where in a function something happened, with the printer's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Function name.
    pub function: String,
    /// Block name (`block3`).
    pub block: String,
    /// Instruction text, or `None` for the terminator.
    pub inst: Option<String>,
}

impl Location {
    /// The location of `inst` (or of the terminator) in `block` of `f`.
    pub fn new(f: &Function, block: Block, inst: Option<Inst>) -> Location {
        let num = Numbering::new(f);
        Location {
            function: f.name.clone(),
            block: num.block(block),
            inst: inst.map(|i| inst_text(f, &num, f.inst(i))),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.inst.as_deref().unwrap_or("terminator");
        write!(f, "function {}: {}: {what}", self.function, self.block)
    }
}

/// Why interpretation stopped without an [`Outcome`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InterpError {
    /// A load, store or atomic faulted.
    #[error("{at}: memory fault: {fault}")]
    Memory {
        /// Where.
        at: Location,
        /// The access.
        fault: MemFault,
    },
    /// The fuel (a bound on executed instructions and terminators) ran out.
    #[error("{at}: out of fuel")]
    OutOfFuel {
        /// Where execution was.
        at: Location,
    },
    /// A helper or guest call failed.
    #[error("{at}: {source}")]
    Env {
        /// The helper call or `call` terminator.
        at: Location,
        /// What the environment reported.
        source: Box<InterpError>,
    },
    /// The function is malformed in a way the verifier rejects.
    #[error("{at}: {message}")]
    Malformed {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// Something an [`Env`] does not provide.
    #[error("{0}")]
    Unsupported(String),
}

/// Runs `func` from its entry block until it exits, returns or traps, or
/// until `fuel` instructions and terminators have run.
///
/// A `call` terminator asks `env` to run the callee; when the callee
/// returns to the call's `return_pc`, execution continues at the
/// continuation, otherwise the function is left with
/// [`Outcome::Exit`] of the PC it returned to.
pub fn run(
    func: &Function,
    state: &mut GuestState,
    mem: &mut dyn Memory,
    env: &mut dyn Env,
    fuel: u64,
) -> Result<Outcome, InterpError> {
    exec::Machine::new(func, state, mem, env, fuel).run()
}

/// Evaluates a side-effect-free op on constant operands (masked to
/// `arg_types`), exactly as [`run`] would.
///
/// `None` when the op has effects or reads state (memory, registers,
/// atomics, fences, helpers), when it rounds in the dynamic mode (scalar
/// `dyn` and all vector float arithmetic), or when the operands do not fit
/// the op.
pub fn eval_pure(
    op: Opcode,
    ty: Type,
    imm: &Imm,
    args: &[u128],
    arg_types: &[Type],
) -> Option<u128> {
    eval::eval(op, ty, imm, args, arg_types, None).ok()
}

/// The kind of state an effectful op touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Reads guest memory (may fault).
    Load,
    /// Writes guest memory.
    Store,
    /// Reads a guest register.
    ReadReg,
    /// Writes a guest register.
    WriteReg,
    /// Atomic read-modify-write of guest memory.
    AtomicRmw,
    /// Atomic compare-and-swap of guest memory.
    AtomicCas,
    /// Orders memory accesses.
    Fence,
    /// Asks whether the runtime wants translated code to stop.
    Poll,
    /// Calls the runtime, which may read and write all guest state.
    Helper,
}

impl Effect {
    /// True when the op must stay even if its result is unused. Register
    /// reads may be removed; guest loads stay, because a load whose value is
    /// unused is how guest code probes memory (it must fault where the
    /// hardware would).
    pub const fn has_side_effects(self) -> bool {
        match self {
            Effect::ReadReg | Effect::Poll => false,
            Effect::Load => true,
            Effect::Store
            | Effect::WriteReg
            | Effect::AtomicRmw
            | Effect::AtomicCas
            | Effect::Fence
            | Effect::Helper => true,
        }
    }
}

/// What state `op` touches, or `None` for a pure op.
pub const fn effect_of(op: Opcode) -> Option<Effect> {
    use Sig::*;
    match op.sig() {
        Load => Some(Effect::Load),
        Store => Some(Effect::Store),
        ReadReg => Some(Effect::ReadReg),
        WriteReg => Some(Effect::WriteReg),
        AtomicRmw => Some(Effect::AtomicRmw),
        AtomicCas => Some(Effect::AtomicCas),
        Fence => Some(Effect::Fence),
        Poll => Some(Effect::Poll),
        Helper => Some(Effect::Helper),
        IConst | FConst | VConst | IntUnary | IntBinary | Shift | IntFlag | IntTest
        | IntCompare | Select | Extend | Reduce | Bitcast | FloatUnary | FloatUnaryRm
        | FloatBinary | FloatBinaryRm | FloatTernaryRm | FloatCompare | FloatClass | IntToFloat
        | FloatToInt | FloatToFloat | VecUnary | VecBinary | VecShift | VecCompare
        | VecFloatCompare | VecSplat | VecExtract | VecInsert | VecShuffle | VecReduce
        | VecTernary => None,
    }
}

#[cfg(test)]
mod tests;
