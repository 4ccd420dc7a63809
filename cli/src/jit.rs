//! The JIT code provider: guest code translated on first use, through the
//! same discovery, lifting, passes and Cranelift lowering as AOT.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use vmtrans_abi::helpers;
use vmtrans_backends::{CompileOptions, Jit, SymbolLookup};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_runtime::{CodeProvider, GuestFn};
use vmtrans_translator::discover::{discover, discover_with, DiscoverOptions, Discovery, Function};
use vmtrans_translator::jumptable::IrJumpTableResolver;
use vmtrans_translator::lift::{lift_function, LiftIssue};
use vmtrans_translator::loader::GuestImage;
use vmtrans_translator::Lifter;

/// Address of a runtime helper for the JIT's symbol resolution: the runtime
/// is linked into this binary, so its helpers are plain functions here.
pub fn runtime_symbol(name: &str) -> Option<*const u8> {
    use vmtrans_runtime::{dispatch, helpers as h, syscall};
    let addr = match name {
        n if n == helpers::SYSCALL => syscall::vmtrans_rt_syscall as *const u8,
        n if n == helpers::READ_CYCLE => h::vmtrans_rt_read_cycle as *const u8,
        n if n == helpers::READ_TIME => h::vmtrans_rt_read_time as *const u8,
        n if n == helpers::READ_TIME_FREQ => h::vmtrans_rt_read_time_freq as *const u8,
        n if n == helpers::READ_INSTRET => h::vmtrans_rt_read_instret as *const u8,
        n if n == helpers::CPUID => h::vmtrans_rt_cpuid as *const u8,
        n if n == helpers::FP_SYNC_FLAGS => h::vmtrans_rt_fp_sync_flags as *const u8,
        n if n == helpers::FP_SET_ROUNDING => h::vmtrans_rt_fp_set_rounding as *const u8,
        n if n == helpers::FLUSH_CODE => h::vmtrans_rt_flush_code as *const u8,
        n if n == helpers::CALL => dispatch::vmtrans_rt_call as *const u8,
        n if n == helpers::CONTINUE => dispatch::vmtrans_rt_continue as *const u8,
        n if n == helpers::FP_OP => vmtrans_runtime::fpop::vmtrans_rt_fp_op as *const u8,
        _ => return None,
    };
    Some(addr)
}

/// Translation statistics, for `-v`.
#[derive(Default, Debug, Clone, Copy)]
pub struct JitStats {
    /// Functions compiled.
    pub functions: usize,
    /// Guest instructions in them.
    pub guest_insns: usize,
    /// Time spent lifting, optimizing and compiling.
    pub time: Duration,
}

struct JitState {
    jit: Jit,
    compiled: HashMap<u64, GuestFn>,
    stats: JitStats,
}

/// Translates guest code of one image on demand.
pub struct JitProvider {
    image: Arc<GuestImage>,
    lifter: &'static dyn Lifter,
    /// Discovery, done on the first translation (an AOT executable may
    /// never need it).
    code: OnceLock<DiscoveredCode>,
    state: Mutex<JitState>,
    verbose: bool,
}

/// What discovery found, indexed for entry lookups.
struct DiscoveredCode {
    discovery: Discovery,
    /// Guest block start → index of the discovered function that has it.
    block_owner: HashMap<u64, usize>,
}

impl DiscoveredCode {
    fn new(image: &GuestImage, lifter: &dyn Lifter, verbose: bool) -> DiscoveredCode {
        let start = Instant::now();
        let discovery = discover(image, lifter);
        let mut block_owner = HashMap::new();
        for (i, f) in discovery.functions.iter().enumerate() {
            for b in &f.blocks {
                block_owner.entry(b.start).or_insert(i);
            }
            block_owner.insert(f.entry, i);
        }
        if verbose {
            eprintln!(
                "vmtrans: discovered {} functions ({} instructions) in {:.1?}",
                discovery.functions.len(),
                discovery.instruction_count(),
                start.elapsed()
            );
        }
        DiscoveredCode {
            discovery,
            block_owner,
        }
    }
}

impl JitProvider {
    /// Prepares the JIT for `image` (code is discovered on first use).
    pub fn new(
        image: Arc<GuestImage>,
        lifter: &'static dyn Lifter,
        verbose: bool,
    ) -> anyhow::Result<JitProvider> {
        let lookup: SymbolLookup = Arc::new(runtime_symbol);
        let jit = Jit::new(lookup, CompileOptions::default())?;
        Ok(JitProvider {
            image,
            lifter,
            code: OnceLock::new(),
            state: Mutex::new(JitState {
                jit,
                compiled: HashMap::new(),
                stats: JitStats::default(),
            }),
            verbose,
        })
    }

    fn code(&self) -> &DiscoveredCode {
        self.code
            .get_or_init(|| DiscoveredCode::new(&self.image, self.lifter, self.verbose))
    }

    /// Statistics so far.
    pub fn stats(&self) -> JitStats {
        self.state.lock().map(|s| s.stats).unwrap_or_default()
    }

    /// The discovered function to translate for an entry at `pc`: the one
    /// with a block starting there, else a fresh exploration from `pc`.
    fn function_for(&self, pc: u64) -> Result<Function, String> {
        let code = self.code();
        if let Some(&i) = code.block_owner.get(&pc) {
            return Ok(code.discovery.functions[i].clone());
        }
        if !self.image.is_code(pc) {
            return Err(format!(
                "no guest code at {pc:#x}: it is not in an executable segment of {} (code generated at run time is not supported yet)",
                self.image.path.display()
            ));
        }
        let resolver = IrJumpTableResolver::new(self.lifter);
        let options = DiscoverOptions {
            hints: vec![pc],
            resolver: Some(&resolver),
        };
        let d = discover_with(&self.image, self.lifter, &options);
        d.functions
            .into_iter()
            .find(|f| f.entry == pc || f.block(pc).is_some())
            .ok_or_else(|| format!("no function could be explored from {pc:#x}"))
    }
}

impl CodeProvider for JitProvider {
    fn lookup(&self, pc: u64) -> Option<GuestFn> {
        self.state.lock().ok()?.compiled.get(&pc).copied()
    }

    fn translate(&self, pc: u64) -> Result<GuestFn, String> {
        if let Some(f) = self.lookup(pc) {
            return Ok(f);
        }
        let start = Instant::now();
        let f = self.function_for(pc)?;
        let name = format!("{}+{:#x}", f.display_name(), pc - f.entry.min(pc));
        let (mut ir, issues) = lift_function(
            self.lifter,
            self.image.as_ref(),
            &name,
            pc,
            &f.block_ranges(),
        );
        if self.verbose {
            for issue in &issues {
                let text = match issue {
                    LiftIssue::Decode(e) => e.to_string(),
                    LiftIssue::Lift(e) => e.to_string(),
                };
                eprintln!("vmtrans: {name}: becomes a trap: {text}");
            }
        }
        optimize_function(&mut ir, &OptOptions::new(OptLevel::Full)).map_err(|e| e.to_string())?;
        let mut state = self
            .state
            .lock()
            .map_err(|_| "JIT lock poisoned".to_string())?;
        let code = state
            .jit
            .compile(&ir)
            .map_err(|e| format!("compiling {name}: {e}"))?;
        // SAFETY: the JIT returns the entry of a function compiled with the
        // translated-function signature `extern "C" fn(state, mem) -> u64`.
        let func: GuestFn = unsafe { std::mem::transmute::<*const u8, GuestFn>(code) };
        state.compiled.insert(pc, func);
        state.stats.functions += 1;
        state.stats.guest_insns += f.insns.len();
        state.stats.time += start.elapsed();
        if self.verbose {
            eprintln!(
                "vmtrans: translated {name} at {pc:#x}: {} guest instructions, {} IR instructions, {:.1?}",
                f.insns.len(),
                ir.inst_count(),
                start.elapsed()
            );
        }
        Ok(func)
    }

    fn invalidate(&self) {
        // Compiled code stays mapped (a running frame may still be in it);
        // only the lookup table forgets it, so new entries are retranslated.
        if let Ok(mut s) = self.state.lock() {
            s.compiled.clear();
        }
    }
}
