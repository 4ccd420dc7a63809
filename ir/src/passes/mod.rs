//! The optimization pipeline, defined once for every guest and backend.
//!
//! [`pipeline`] lists the passes of an [`OptLevel`]; [`optimize_module`]
//! runs them over every function in parallel (rayon), repeating the
//! pipeline until nothing changes (at most [`OptOptions::max_rounds`]
//! times), and verifies the function after every pass when
//! [`OptOptions::verify_each`] is set (the default in debug and test builds).
//!
//! The passes:
//! - [`ConstFold`]: folds ops on constants with the interpreter's own
//!   semantics ([`crate::interp::eval_pure`]), applies algebraic identities
//!   and turns branches on constants into jumps;
//! - [`BlockParams`]: removes block parameters that always receive the same
//!   value (the SSA builder makes many);
//! - [`ParamUnwrap`]: makes block parameters whose arguments all share one
//!   wrapper (a lane insert into a constant vector, a bitcast) carry the
//!   wrapped values, so loops carry scalar floats rather than vectors;
//! - [`FloatBits`]: drops NaN canonicalizations whose payload nothing
//!   observes and folds bitcast round trips;
//! - [`SinkPureHelpers`]: moves a read of the host FP flags to the one
//!   successor that uses it, off the paths that do not;
//! - [`BoundedLoopPolls`]: drops the back-edge polls of loops a counter
//!   ends within [`MAX_UNPOLLED_TRIPS`] iterations;
//! - [`ChunkedLoopPolls`]: polls counted loops that no constant bounds
//!   once per [`MAX_UNPOLLED_TRIPS`] iterations instead of on every trip
//!   (strip-mining them);
//! - [`RegAccess`]: removes redundant guest register reads and writes;
//! - [`Dce`]: removes unreachable blocks, unused side-effect-free
//!   instructions (dead loads too: a dead load's fault is not preserved) and
//!   unused block parameters — this is what removes dead flag computations.

mod block_params;
mod chunks;
mod const_fold;
mod dce;
mod float_bits;
mod known_bits;
pub mod loops;
mod polls;
mod regs;
mod sink;
mod unwrap;
mod util;

use rayon::prelude::*;

use crate::function::{Function, Module};
use crate::verify::{verify_function, VerifyError};

pub use block_params::BlockParams;
pub use chunks::ChunkedLoopPolls;
pub use const_fold::ConstFold;
pub use dce::Dce;
pub use float_bits::FloatBits;
pub use polls::{BoundedLoopPolls, MAX_UNPOLLED_TRIPS};
pub use regs::RegAccess;
pub use sink::SinkPureHelpers;
pub use unwrap::ParamUnwrap;

/// A function-level transformation.
pub trait Pass: Sync {
    /// Short name, for reports and errors.
    fn name(&self) -> &'static str;
    /// Transforms `f`; returns true when anything changed. The result must
    /// be a valid function with the same behaviour.
    fn run(&self, f: &mut Function) -> bool;
}

/// How hard to optimize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OptLevel {
    /// No passes.
    None,
    /// Folding, block-parameter cleanup and dead-code elimination.
    Basic,
    /// Everything, including guest register access elimination.
    #[default]
    Full,
}

static CONST_FOLD: ConstFold = ConstFold;
static BLOCK_PARAMS: BlockParams = BlockParams;
static REG_ACCESS: RegAccess = RegAccess;
static DCE: Dce = Dce;
static FLOAT_BITS: FloatBits = FloatBits;
static PARAM_UNWRAP: ParamUnwrap = ParamUnwrap;
static SINK_PURE_HELPERS: SinkPureHelpers = SinkPureHelpers;
static BOUNDED_LOOP_POLLS: BoundedLoopPolls = BoundedLoopPolls;
static CHUNKED_LOOP_POLLS: ChunkedLoopPolls = ChunkedLoopPolls;

/// The passes of `level`, in the order they run.
pub fn pipeline(level: OptLevel) -> Vec<&'static dyn Pass> {
    match level {
        OptLevel::None => Vec::new(),
        OptLevel::Basic => vec![&CONST_FOLD, &BLOCK_PARAMS, &DCE],
        OptLevel::Full => vec![
            &CONST_FOLD,
            &BLOCK_PARAMS,
            &PARAM_UNWRAP,
            &FLOAT_BITS,
            &SINK_PURE_HELPERS,
            &BOUNDED_LOOP_POLLS,
            &CHUNKED_LOOP_POLLS,
            &REG_ACCESS,
            &DCE,
        ],
    }
}

/// Options of [`optimize_module`] and [`optimize_function`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptOptions {
    /// Which pipeline.
    pub level: OptLevel,
    /// Run the verifier on the input and after every pass.
    pub verify_each: bool,
    /// At most this many runs of the whole pipeline per function.
    pub max_rounds: usize,
}

impl OptOptions {
    /// `level`, verifying in debug and test builds, at most 8 rounds.
    pub fn new(level: OptLevel) -> OptOptions {
        OptOptions {
            level,
            verify_each: cfg!(debug_assertions) || cfg!(test),
            max_rounds: 8,
        }
    }
}

impl Default for OptOptions {
    fn default() -> OptOptions {
        OptOptions::new(OptLevel::default())
    }
}

/// A pass produced an invalid function (a compiler bug), or the input was
/// invalid (`pass` is then `"input"`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("after pass {pass}: {error}")]
pub struct OptError {
    /// The pass that ran last.
    pub pass: &'static str,
    /// What the verifier found.
    pub error: VerifyError,
}

/// Optimizes one function; returns whether anything changed.
pub fn optimize_function(f: &mut Function, opts: &OptOptions) -> Result<bool, OptError> {
    let check = |f: &Function, pass: &'static str| {
        if opts.verify_each {
            verify_function(f).map_err(|error| OptError { pass, error })
        } else {
            Ok(())
        }
    };
    let passes = pipeline(opts.level);
    if passes.is_empty() {
        return Ok(false);
    }
    check(f, "input")?;
    let mut any = false;
    for _ in 0..opts.max_rounds {
        let mut changed = false;
        for pass in &passes {
            if pass.run(f) {
                changed = true;
                check(f, pass.name())?;
            }
        }
        any |= changed;
        if !changed {
            break;
        }
    }
    Ok(any)
}

/// Optimizes every function of `module`, in parallel.
pub fn optimize_module(module: &mut Module, opts: &OptOptions) -> Result<(), OptError> {
    module
        .functions
        .par_iter_mut()
        .try_for_each(|f| optimize_function(f, opts).map(|_| ()))
}

#[cfg(test)]
mod tests;
