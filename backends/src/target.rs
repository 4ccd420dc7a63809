//! Compilation options and the Cranelift target ISA they select.

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

use crate::BackendError;
use vmtrans_abi::GuestBase;

/// Which x86_64 CPU features generated code may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CpuTarget {
    /// [`CpuTarget::Baseline`] for AOT objects, [`CpuTarget::Native`] for
    /// the JIT.
    #[default]
    Default,
    /// Everything the machine compiling has.
    Native,
    /// x86-64-v2: SSE4.2, POPCNT, CMPXCHG16B — every x86_64 machine of the
    /// last fifteen years.
    Baseline,
    /// x86-64-v3: adds AVX2, BMI1/2, FMA and LZCNT.
    V3,
}

/// How much Cranelift optimizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimization: fastest compilation.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

/// Options shared by the AOT and JIT paths.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Cranelift optimization level.
    pub opt_level: OptLevel,
    /// CPU features generated code may use.
    pub cpu: CpuTarget,
    /// Run Cranelift's IR verifier on every function (slower; catches
    /// backend bugs early).
    pub verify: bool,
    /// Lower float ops whose static rounding mode is `rne` with the native
    /// instructions, which round in the host's (= the guest's dynamic)
    /// mode. Exact while the guest's dynamic mode is round-to-nearest, the
    /// default nearly every program keeps; `false` sends them through the
    /// exact slow-path helper instead.
    pub native_rne: bool,
    /// Compile functions on rayon's thread pool (AOT only).
    pub parallel: bool,
    /// Where the code finds guest memory: [`GuestBase::Zero`], the
    /// runtime's layout, unless the caller runs the code on memory of its
    /// own.
    pub guest_base: GuestBase,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            opt_level: OptLevel::Speed,
            cpu: CpuTarget::Default,
            verify: cfg!(debug_assertions),
            native_rne: false,
            parallel: true,
            guest_base: GuestBase::Zero,
        }
    }
}

/// True when `isa` has fused multiply-add instructions Cranelift uses
/// (otherwise its `fma` is a libm call, which generated code avoids).
pub fn has_fma(isa: &dyn cranelift_codegen::isa::TargetIsa) -> bool {
    let flag = |name: &str| {
        isa.isa_flags()
            .iter()
            .any(|f| f.name == name && f.as_bool() == Some(true))
    };
    flag("has_fma") && flag("has_avx")
}

/// The triple of the AOT target.
pub const AOT_TRIPLE: &str = "x86_64-unknown-linux-gnu";

fn isa_err(e: impl std::fmt::Display) -> BackendError {
    BackendError::Isa(e.to_string())
}

/// The shared (ISA-independent) Cranelift flags for `opts`.
fn shared_flags(opts: &CompileOptions, pic: bool) -> Result<settings::Flags, BackendError> {
    let mut b = settings::builder();
    let level = match opts.opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    b.set("opt_level", level).map_err(isa_err)?;
    b.set(
        "enable_verifier",
        if opts.verify { "true" } else { "false" },
    )
    .map_err(isa_err)?;
    b.set("is_pic", if pic { "true" } else { "false" })
        .map_err(isa_err)?;
    b.set("preserve_frame_pointers", "true").map_err(isa_err)?;
    Ok(settings::Flags::new(b))
}

/// The ISA for JIT code: this machine, with the features `opts.cpu`
/// selects (all of the host's by default; a named level must be one the
/// host has).
pub fn host_isa(opts: &CompileOptions) -> Result<OwnedTargetIsa, BackendError> {
    let native = cranelift_native::builder().map_err(isa_err)?;
    if !cfg!(target_arch = "x86_64") {
        return Err(BackendError::Isa(format!(
            "the host ({}) is not x86_64",
            native.triple()
        )));
    }
    let builder = match opts.cpu {
        CpuTarget::Default | CpuTarget::Native => native,
        level => with_level(
            cranelift_native::builder_with_options(false).map_err(isa_err)?,
            level,
        )?,
    };
    builder.finish(shared_flags(opts, false)?).map_err(isa_err)
}

/// The ISA for AOT objects: x86_64 Linux, position independent, with the
/// CPU features `opts.cpu` selects (x86-64-v2 by default).
pub fn aot_isa(opts: &CompileOptions) -> Result<OwnedTargetIsa, BackendError> {
    let builder = match opts.cpu {
        CpuTarget::Native => cranelift_native::builder().map_err(isa_err)?,
        CpuTarget::Default => with_level(base_builder()?, CpuTarget::Baseline)?,
        level => with_level(base_builder()?, level)?,
    };
    builder.finish(shared_flags(opts, true)?).map_err(isa_err)
}

fn base_builder() -> Result<cranelift_codegen::isa::Builder, BackendError> {
    cranelift_codegen::isa::lookup_by_name(AOT_TRIPLE).map_err(isa_err)
}

/// Enables the feature preset of a named level.
fn with_level(
    mut builder: cranelift_codegen::isa::Builder,
    level: CpuTarget,
) -> Result<cranelift_codegen::isa::Builder, BackendError> {
    if level == CpuTarget::V3 {
        builder.enable("x86-64-v3").map_err(isa_err)?;
        // Cranelift's v3 preset leaves out AVX, which its FMA needs.
        builder.enable("has_avx").map_err(isa_err)?;
    } else {
        builder.enable("x86-64-v2").map_err(isa_err)?;
    }
    Ok(builder)
}
