//! The JIT code provider: guest code translated on first use, through the
//! same discovery, lifting, passes and Cranelift lowering as AOT.
//!
//! # Where the guest code comes from
//!
//! Every function is lifted from a [`CodeSnapshot`]: bytes fetched from
//! guest memory through the runtime's [`CodeReader`] (executable memory
//! only) when the function is translated. For a PC in the image's
//! executable segments whose bytes in memory are still the image's, the
//! function and its blocks come from static discovery of the image
//! (symbols, jump tables): the program is explored once, and each function
//! is built and has its jump tables resolved when first entered
//! ([`LazyDiscovery`]). Anything else — code generated at run time in
//! mmap-ed memory, or image code the guest overwrote — is explored from
//! the PC by recursive descent over guest memory ([`explore_memory`]).
//!
//! # Code that changes
//!
//! A flush (`fence.i`, `riscv_flush_icache`, a mapping change of
//! executable memory; see `vmtrans_runtime::dispatch`) calls
//! [`CodeProvider::invalidate`], which starts a new generation: every
//! translation must be revalidated before its next use. Revalidation
//! compares the translation's snapshot with guest memory; unchanged code
//! is reused (a flush costs one comparison per function used afterwards,
//! not a recompilation of the program), changed or unmapped code is
//! translated again. Replaced host code stays in the JIT's memory: a
//! guest frame may still be running in it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use vmtrans_abi::helpers;
use vmtrans_backends::{CompileOptions, Jit, SymbolLookup};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_runtime::dispatch::{CodeReader, FetchFault};
use vmtrans_runtime::{CodeProvider, GuestFn};
use vmtrans_translator::discover::{discover_function, Function, LazyDiscovery};
use vmtrans_translator::jumptable::IrJumpTableResolver;
use vmtrans_translator::lift::{
    lift_function_precise, lift_function_self_checking, lift_function_with_tables, merged_ranges,
    BlockRange, CodeSource, LiftIssue,
};
use vmtrans_translator::loader::GuestImage;
use vmtrans_translator::{Flow, InsnInfo, Lifter};

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
        n if n == helpers::FP_HOST_FLAGS => h::vmtrans_rt_fp_host_flags as *const u8,
        n if n == helpers::FP_SET_ROUNDING => h::vmtrans_rt_fp_set_rounding as *const u8,
        n if n == helpers::FLUSH_CODE => h::vmtrans_rt_flush_code as *const u8,
        n if n == helpers::X87 => vmtrans_runtime::x87::vmtrans_rt_x87 as *const u8,
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
    /// Translations found unchanged after a code flush and kept.
    pub revalidated: usize,
    /// Translations dropped because their guest code changed.
    pub stale: usize,
}

/// One compiled function and what it was made from.
struct Translation {
    func: GuestFn,
    /// The guest code it was lifted from.
    code: Arc<CodeSnapshot>,
    /// The last generation in which `code` was found unchanged in guest
    /// memory; the translation may be used without a check only in it.
    checked: u64,
}

struct JitState {
    jit: Jit,
    compiled: HashMap<u64, Translation>,
    /// Bumped by every invalidation.
    generation: u64,
    stats: JitStats,
}

/// Translates guest code on demand: the image's, and code that appears in
/// guest memory at run time.
pub struct JitProvider {
    image: Arc<GuestImage>,
    lifter: &'static dyn Lifter,
    /// How image code is found.
    discovery: DiscoveryScope,
    /// The image's code, explored on the first translation (an AOT
    /// executable never needs it).
    code: OnceLock<Mutex<ImageCode>>,
    state: Mutex<JitState>,
    verbose: bool,
    /// Translate with precise guest faults (the guest handles SIGSEGV).
    precise: std::sync::atomic::AtomicBool,
}

/// How much of the image the JIT discovers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscoveryScope {
    /// The whole program explored once, on the first translation, each
    /// function built and its jump tables resolved when first entered:
    /// `vmtrans run`, where most code runs through the JIT.
    WholeProgram,
    /// Only the function at each missed PC: the fallback of an AOT
    /// executable, whose table already holds what whole-program discovery
    /// finds, so a miss is a rare entry (an address taken in code) that
    /// should not cost a discovery of the whole program.
    PerFunction,
}

/// The image's code, explored once and built function by function.
struct ImageCode {
    discovery: LazyDiscovery<'static>,
}

impl ImageCode {
    fn new(image: &Arc<GuestImage>, lifter: &'static dyn Lifter, verbose: bool) -> ImageCode {
        let start = Instant::now();
        // The provider lives as long as the process runs guest code: the
        // image it explores is kept alive for good.
        let image: &'static GuestImage = Box::leak(Box::new(Arc::clone(image)));
        let discovery = LazyDiscovery::new(image, lifter);
        if verbose {
            eprintln!(
                "vmtrans: explored {} instructions in {:.1?}",
                discovery.instruction_count(),
                start.elapsed()
            );
        }
        ImageCode { discovery }
    }
}

/// What to lift for an entry at some PC.
struct Plan {
    /// Function name for messages and the IR.
    name: String,
    /// Blocks; one starts at the entry.
    blocks: Vec<BlockRange>,
    /// Its resolved jump tables (none for code found in guest memory: its
    /// indirect jumps go through the dispatcher).
    tables: vmtrans_translator::JumpTables,
    /// Number of guest instructions in them.
    insns: usize,
    /// Lifted to compare its code with memory on entry (x86 code found in
    /// guest memory rather than the image: it may be rewritten without a
    /// flush, see `lift_function_self_checking`).
    self_check: bool,
}

impl Plan {
    /// The plan for discovered image function `f` entered at `pc`.
    fn image(f: &Function, pc: u64) -> Plan {
        Plan {
            name: format!("{}+{:#x}", f.display_name(), pc.saturating_sub(f.entry)),
            blocks: f.block_ranges(),
            insns: f.insns.len(),
            tables: f.jump_tables(),
            self_check: false,
        }
    }
}

impl JitProvider {
    /// Prepares the JIT for `image` (code is discovered on first use, as
    /// much of it as `discovery` says).
    pub fn new(
        image: Arc<GuestImage>,
        lifter: &'static dyn Lifter,
        discovery: DiscoveryScope,
        verbose: bool,
    ) -> anyhow::Result<JitProvider> {
        let lookup: SymbolLookup = Arc::new(runtime_symbol);
        let jit = Jit::new(lookup, CompileOptions::default())?;
        POOL_PROCESS.get_or_init(std::process::id);
        Ok(JitProvider {
            image,
            lifter,
            discovery,
            code: OnceLock::new(),
            state: Mutex::new(JitState {
                jit,
                compiled: HashMap::new(),
                generation: 0,
                stats: JitStats::default(),
            }),
            precise: std::sync::atomic::AtomicBool::new(false),
            verbose,
        })
    }

    fn code(&self) -> &Mutex<ImageCode> {
        self.code
            .get_or_init(|| Mutex::new(ImageCode::new(&self.image, self.lifter, self.verbose)))
    }

    /// Statistics so far.
    pub fn stats(&self) -> JitStats {
        self.state.lock().map(|s| s.stats).unwrap_or_default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, JitState>, String> {
        self.state
            .lock()
            .map_err(|_| "JIT lock poisoned".to_string())
    }

    /// The existing translation for `pc` if its guest code is unchanged
    /// (checked against memory once per generation). A translation whose
    /// code changed is dropped.
    fn revalidate(&self, pc: u64, code: &dyn CodeReader) -> Option<GuestFn> {
        let (func, snapshot, generation) = {
            let s = self.state.lock().ok()?;
            let t = s.compiled.get(&pc)?;
            if t.checked == s.generation {
                return Some(t.func);
            }
            (t.func, Arc::clone(&t.code), s.generation)
        };
        // Compared without the lock: other threads may translate meanwhile.
        let unchanged = snapshot.matches(code);
        let mut s = self.state.lock().ok()?;
        let same = |t: &Translation| Arc::ptr_eq(&t.code, &snapshot);
        if !unchanged {
            if s.compiled.get(&pc).is_some_and(same) {
                s.compiled.remove(&pc);
            }
            s.stats.stale += 1;
            if self.verbose {
                eprintln!("vmtrans: guest code at {pc:#x} changed; translating it again");
            }
            return None;
        }
        if let Some(t) = s.compiled.get_mut(&pc).filter(|t| same(t)) {
            // A flush during the comparison leaves it to be checked again.
            t.checked = t.checked.max(generation);
        }
        s.stats.revalidated += 1;
        Some(func)
    }

    /// What to lift for an entry at `pc`, and the guest code to lift it
    /// from: the image's discovered function while memory still holds the
    /// image's bytes for it, else a function explored in guest memory.
    fn plan(&self, pc: u64, code: &dyn CodeReader) -> Result<(Plan, CodeSnapshot), String> {
        code.fetch(pc, &mut [0; 1])
            .map_err(|fault| format!("cannot fetch guest code at {pc:#x}: {fault}"))?;
        if self.image.is_code(pc) {
            if let Some(plan) = self.image_plan(pc) {
                match CodeSnapshot::capture(code, &plan.blocks) {
                    Some(snapshot) if snapshot.matches_image(&self.image) => {
                        return Ok((plan, snapshot));
                    }
                    _ if self.verbose => eprintln!(
                        "vmtrans: the image's code around {pc:#x} was changed at run time; exploring guest memory"
                    ),
                    _ => {}
                }
            }
        }
        let f = explore_memory(self.lifter, code, pc, MEMORY_FUNCTION_LIMIT)?;
        let plan = Plan {
            name: format!("mem_{pc:x}"),
            blocks: f.blocks,
            insns: f.insns,
            tables: vmtrans_translator::JumpTables::default(),
            self_check: self.lifter.arch().fetch_sees_stores(),
        };
        Ok((plan, f.code))
    }

    /// The image's function for an entry at `pc`, built from the
    /// program's exploration (a `pc` that is no function's entry — a
    /// return address, a point where execution resumes mid-block after
    /// `fence.i`, a signal handler or `longjmp` — starts a function of its
    /// own), or discovered alone for an AOT executable's fallback.
    fn image_plan(&self, pc: u64) -> Option<Plan> {
        let f = match self.discovery {
            DiscoveryScope::PerFunction => self.explore_image(pc)?,
            DiscoveryScope::WholeProgram => {
                let mut code = self.code().lock().unwrap_or_else(|e| e.into_inner());
                code.discovery.function(pc)?
            }
        };
        Some(Plan::image(&f, pc))
    }

    /// Discovery of the function at `pc` alone, for image code the first
    /// discovery did not find.
    fn explore_image(&self, pc: u64) -> Option<Function> {
        let resolver = IrJumpTableResolver::new(self.lifter);
        discover_function(&self.image, self.lifter, pc, Some(&resolver))
    }

    /// Lifts and optimizes `plan` for an entry at `pc` from `code`.
    fn lift(
        &self,
        pc: u64,
        plan: &Plan,
        code: &CodeSnapshot,
    ) -> Result<vmtrans_ir::Function, String> {
        let precise = self.precise.load(std::sync::atomic::Ordering::Acquire);
        let lift = if precise {
            lift_function_precise
        } else {
            lift_function_with_tables
        };
        let tables = &plan.tables;
        let (mut ir, issues) = if plan.self_check {
            let blocks = &plan.blocks;
            lift_function_self_checking(self.lifter, code, &plan.name, pc, blocks, tables, precise)
        } else {
            lift(self.lifter, code, &plan.name, pc, &plan.blocks, tables)
        };
        if self.verbose {
            for issue in &issues {
                let text = match issue {
                    LiftIssue::Decode(e) => e.to_string(),
                    LiftIssue::Lift(e) => e.to_string(),
                };
                eprintln!("vmtrans: {}: becomes a trap: {text}", plan.name);
            }
        }
        optimize_function(&mut ir, &OptOptions::new(OptLevel::Full)).map_err(|e| e.to_string())?;
        Ok(ir)
    }
}

impl CodeProvider for JitProvider {
    /// Only translations checked in the current generation.
    fn lookup(&self, pc: u64) -> Option<GuestFn> {
        let s = self.state.lock().ok()?;
        s.compiled
            .get(&pc)
            .filter(|t| t.checked == s.generation)
            .map(|t| t.func)
    }

    fn translate(&self, pc: u64, code: &dyn CodeReader) -> Result<GuestFn, String> {
        if let Some(f) = self.revalidate(pc, code) {
            return Ok(f);
        }
        adopt_pool_after_fork();
        let start = Instant::now();
        // The generation before the bytes are fetched: a flush after that
        // makes the next use compare them again.
        let generation = self.lock()?.generation;
        let (plan, snapshot) = self.plan(pc, code)?;
        let ir = self.lift(pc, &plan, &snapshot)?;
        let mut state = self.lock()?;
        let entry = state
            .jit
            .compile(&ir)
            .map_err(|e| format!("compiling {}: {e}", plan.name))?;
        // SAFETY: the JIT returns the entry of a function compiled with the
        // translated-function signature `extern "C" fn(state, mem) -> u64`.
        let func: GuestFn = unsafe { std::mem::transmute::<*const u8, GuestFn>(entry) };
        let translation = Translation {
            func,
            code: Arc::new(snapshot),
            checked: generation,
        };
        state.compiled.insert(pc, translation);
        state.stats.functions += 1;
        state.stats.guest_insns += plan.insns;
        state.stats.time += start.elapsed();
        if self.verbose {
            eprintln!(
                "vmtrans: translated {} at {pc:#x}: {} guest instructions, {} IR instructions, {:.1?}",
                plan.name,
                plan.insns,
                ir.inst_count(),
                start.elapsed()
            );
        }
        Ok(func)
    }

    /// Starts a new generation: translations stay (a running frame may
    /// still be in their code) but are compared with guest memory before
    /// their next use.
    fn invalidate(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.generation += 1;
        }
    }

    /// Translations made so far are not precise: forget them (their code
    /// stays allocated, as frames may still run in it) and lift every new
    /// one in precise-fault mode.
    fn require_precise_faults(&self) {
        self.precise
            .store(true, std::sync::atomic::Ordering::Release);
        if let Ok(mut s) = self.state.lock() {
            s.compiled.clear();
            s.generation += 1;
        }
    }
}

/// `blocks` with the block containing `pc` (not at its start) split in two
/// at `pc`, so a function can be entered there.
/// The process whose rayon global pool translation uses (set when the JIT
/// is created, before the guest can fork).
static POOL_PROCESS: OnceLock<u32> = OnceLock::new();

thread_local! {
    static OWN_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// rayon's global pool does not survive `fork`: its worker threads exist
/// only in the parent, so a parallel step of translation (code discovery,
/// passes) would wait for them forever in a forked child. There, the
/// translating thread becomes the single worker of a pool of its own.
fn adopt_pool_after_fork() {
    let forked = POOL_PROCESS.get().is_some_and(|&p| p != std::process::id());
    if !forked || OWN_POOL.with(|c| c.get()) {
        return;
    }
    if let Ok(pool) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
    {
        // The pool must outlive every later translation on this thread.
        std::mem::forget(pool);
        OWN_POOL.with(|c| c.set(true));
    }
}

// ---- Guest code in memory ----

/// Longest guest instruction of any frontend (x86_64: 15 bytes).
const MAX_INSN_BYTES: usize = 16;

/// Most instructions one function explored in guest memory may have.
pub const MEMORY_FUNCTION_LIMIT: usize = 4096;

/// Guest code as fetched from memory when a function was translated: what
/// it is lifted from, and what revalidation compares memory with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeSnapshot {
    /// Runs of bytes by start address (adjacent blocks share one run).
    chunks: BTreeMap<u64, Vec<u8>>,
}

impl CodeSnapshot {
    /// Fetches every range of `blocks` (adjacent ones with one fetch);
    /// `None` if part of one is not executable memory.
    pub fn capture(code: &dyn CodeReader, blocks: &[BlockRange]) -> Option<CodeSnapshot> {
        let mut snapshot = CodeSnapshot::default();
        for (start, end) in merged_ranges(blocks) {
            let bytes = fetch_exact(code, start, end.checked_sub(start)?)?;
            snapshot.push(start, &bytes);
        }
        Some(snapshot)
    }

    /// Adds the bytes at `start`, extending the last run when they
    /// continue it.
    pub fn push(&mut self, start: u64, bytes: &[u8]) {
        if let Some((&last, run)) = self.chunks.iter_mut().next_back() {
            if last + run.len() as u64 == start {
                run.extend_from_slice(bytes);
                return;
            }
        }
        self.chunks.insert(start, bytes.to_vec());
    }

    /// Number of bytes held.
    pub fn len(&self) -> usize {
        self.chunks.values().map(Vec::len).sum()
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether guest memory still holds exactly these bytes, executable.
    pub fn matches(&self, code: &dyn CodeReader) -> bool {
        self.chunks.iter().all(|(&start, bytes)| {
            fetch_exact(code, start, bytes.len() as u64).is_some_and(|now| now == *bytes)
        })
    }

    /// Whether these bytes are the image's file contents at the same
    /// addresses.
    pub fn matches_image(&self, image: &GuestImage) -> bool {
        self.chunks.iter().all(|(&start, bytes)| {
            image
                .bytes_from(start)
                .and_then(|b| b.get(..bytes.len()))
                .is_some_and(|b| b == bytes.as_slice())
        })
    }
}

impl CodeSource for CodeSnapshot {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        // Blocks of overlapping code may overlap: take any chunk with `addr`.
        let (&start, bytes) = self
            .chunks
            .range(..=addr)
            .rev()
            .find(|(&start, bytes)| addr - start < bytes.len() as u64)?;
        let from = (addr - start) as usize;
        Some(&bytes[from..bytes.len().min(from.saturating_add(len))])
    }
}

/// Exactly `len` bytes of executable guest memory at `addr`.
fn fetch_exact(code: &dyn CodeReader, addr: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(len).ok()?];
    if buf.is_empty() {
        return Some(buf);
    }
    (code.fetch(addr, &mut buf).ok()? == buf.len()).then_some(buf)
}

/// A function found by recursive descent over guest memory.
#[derive(Clone, Debug)]
pub struct MemoryFunction {
    /// Entry address.
    pub entry: u64,
    /// Blocks sorted by start; one starts at `entry`.
    pub blocks: Vec<BlockRange>,
    /// Number of instructions decoded.
    pub insns: usize,
    /// The bytes of the blocks as decoded.
    pub code: CodeSnapshot,
}

/// Explores the function at `entry` in guest memory: every instruction
/// reachable through fall-through, branches and direct jumps, continuing
/// after calls (callees are functions of their own), at most `limit`
/// instructions. Returns, indirect jumps and traps end a path; so do
/// memory that cannot be fetched and bytes that do not decode — executing
/// them leaves the function to the dispatcher, which then raises the
/// guest's signal. Fails only when the entry itself cannot be fetched or
/// decoded.
pub fn explore_memory(
    lifter: &dyn Lifter,
    code: &dyn CodeReader,
    entry: u64,
    limit: usize,
) -> Result<MemoryFunction, String> {
    let mut explorer = Explorer {
        lifter,
        code,
        limit: limit.max(1),
        insns: BTreeMap::new(),
        targets: BTreeSet::new(),
    };
    let first = explorer.decode(entry)?;
    explorer.insns.insert(entry, first);
    let mut work = vec![entry];
    while let Some(start) = work.pop() {
        explorer.walk(start, &mut work);
    }
    Ok(explorer.finish(entry))
}

/// One decoded instruction and its bytes.
type Decoded = (InsnInfo, Vec<u8>);

/// State of one [`explore_memory`] run.
struct Explorer<'a> {
    lifter: &'a dyn Lifter,
    code: &'a dyn CodeReader,
    limit: usize,
    /// Instructions decoded so far, by address.
    insns: BTreeMap<u64, Decoded>,
    /// Targets of branches and jumps.
    targets: BTreeSet<u64>,
}

impl Explorer<'_> {
    /// Fetches and decodes the instruction at `addr`.
    fn decode(&self, addr: u64) -> Result<Decoded, String> {
        let mut buf = [0; MAX_INSN_BYTES];
        let n = self
            .code
            .fetch(addr, &mut buf)
            .map_err(|fault: FetchFault| {
                format!("cannot fetch guest code at {addr:#x}: {fault}")
            })?;
        let insn = self
            .lifter
            .decode(&buf[..n], addr)
            .map_err(|e| e.to_string())?;
        let len = usize::from(insn.len);
        if len == 0 || len > n {
            return Err(format!("no instruction decodes at {addr:#x}"));
        }
        Ok((insn, buf[..len].to_vec()))
    }

    /// Walks straight-line code from the decoded instruction at `addr`,
    /// decoding what follows until the path ends or meets decoded code;
    /// queues branch and jump targets.
    fn walk(&mut self, mut addr: u64, work: &mut Vec<u64>) {
        while let Some((insn, _)) = self.insns.get(&addr) {
            let (flow, next) = (insn.flow, addr + u64::from(insn.len));
            if let Flow::Branch(t) | Flow::Jump(t) = flow {
                self.queue(t, work);
            }
            if !falls_through(flow) || !self.add(next) {
                return;
            }
            addr = next;
        }
    }

    /// Queues the branch or jump target `t` for exploration.
    fn queue(&mut self, t: u64, work: &mut Vec<u64>) {
        if self.targets.insert(t) && self.add(t) {
            work.push(t);
        }
    }

    /// Decodes `addr` if new and within the limit; whether the walk should
    /// go on there (false when it was decoded before, or cannot be).
    fn add(&mut self, addr: u64) -> bool {
        if self.insns.contains_key(&addr) || self.insns.len() >= self.limit {
            return false;
        }
        match self.decode(addr) {
            Ok(d) => {
                self.insns.insert(addr, d);
                true
            }
            Err(_) => false,
        }
    }

    /// Block leaders: the entry, decoded branch targets, instructions after
    /// a branch, call or system call, and instructions without exactly one
    /// plain fall-through predecessor (as in static discovery).
    fn leaders(&self, entry: u64) -> BTreeSet<u64> {
        let mut leaders: BTreeSet<u64> = self
            .targets
            .iter()
            .copied()
            .filter(|t| self.insns.contains_key(t))
            .collect();
        leaders.insert(entry);
        let mut plain_preds: HashMap<u64, u32> = HashMap::new();
        for (&addr, (insn, _)) in &self.insns {
            let next = addr + u64::from(insn.len);
            if !self.insns.contains_key(&next) {
                continue;
            }
            if insn.flow == Flow::Next {
                *plain_preds.entry(next).or_default() += 1;
            } else if falls_through(insn.flow) {
                leaders.insert(next);
            }
        }
        leaders.extend(
            self.insns
                .keys()
                .filter(|a| plain_preds.get(a).copied().unwrap_or(0) != 1),
        );
        leaders
    }

    /// The blocks and their bytes.
    fn finish(self, entry: u64) -> MemoryFunction {
        let leaders = self.leaders(entry);
        let mut blocks = Vec::with_capacity(leaders.len());
        let mut code = CodeSnapshot::default();
        for &start in &leaders {
            let (end, bytes) = self.block(start, &leaders);
            blocks.push(BlockRange { start, end });
            code.push(start, &bytes);
        }
        MemoryFunction {
            entry,
            blocks,
            insns: self.insns.len(),
            code,
        }
    }

    /// The end and bytes of the block at leader `start`: instructions up to
    /// one that is not plain fall-through, or before the next leader or
    /// undecoded code.
    fn block(&self, start: u64, leaders: &BTreeSet<u64>) -> (u64, Vec<u8>) {
        let mut bytes = Vec::new();
        let mut addr = start;
        loop {
            let (insn, b) = &self.insns[&addr];
            bytes.extend_from_slice(b);
            let next = addr + u64::from(insn.len);
            let continues = insn.flow == Flow::Next
                && self.insns.contains_key(&next)
                && !leaders.contains(&next);
            if !continues {
                return (next, bytes);
            }
            addr = next;
        }
    }
}

/// Whether execution may continue with the next instruction.
fn falls_through(flow: Flow) -> bool {
    !matches!(
        flow,
        Flow::Jump(_) | Flow::IndirectJump | Flow::Return | Flow::Stop
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmtrans_translator::{lifter_for, Arch};

    const BASE: u64 = 0x10_0000;

    /// Guest memory with one region of code at [`BASE`].
    struct Memory {
        bytes: Vec<u8>,
        executable: bool,
    }

    impl Memory {
        fn code(words: &[u32]) -> Memory {
            Memory {
                bytes: words.iter().flat_map(|w| w.to_le_bytes()).collect(),
                executable: true,
            }
        }
    }

    impl CodeReader for Memory {
        fn fetch(&self, addr: u64, buf: &mut [u8]) -> Result<usize, FetchFault> {
            let end = BASE + self.bytes.len() as u64;
            if !(BASE..end).contains(&addr) {
                return Err(FetchFault::Unmapped);
            }
            if !self.executable {
                return Err(FetchFault::NotExecutable);
            }
            let from = (addr - BASE) as usize;
            let n = buf.len().min(self.bytes.len() - from);
            buf[..n].copy_from_slice(&self.bytes[from..from + n]);
            Ok(n)
        }
    }

    // riscv64 encodings.
    fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
        ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
    }
    fn branch(funct3: u32, rs1: u32, rs2: u32, off: i32) -> u32 {
        let o = off as u32;
        ((o >> 12 & 1) << 31)
            | ((o >> 5 & 0x3f) << 25)
            | (rs2 << 20)
            | (rs1 << 15)
            | (funct3 << 12)
            | ((o >> 1 & 0xf) << 8)
            | ((o >> 11 & 1) << 7)
            | 0x63
    }
    fn beq(rs1: u32, rs2: u32, off: i32) -> u32 {
        branch(0, rs1, rs2, off)
    }
    fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
        branch(1, rs1, rs2, off)
    }
    fn jal(rd: u32, off: i32) -> u32 {
        let o = off as u32;
        ((o >> 20 & 1) << 31)
            | ((o >> 1 & 0x3ff) << 21)
            | ((o >> 11 & 1) << 20)
            | ((o >> 12 & 0xff) << 12)
            | (rd << 7)
            | 0x6f
    }
    const RET: u32 = 0x0000_8067;
    const A0: u32 = 10;
    const RA: u32 = 1;

    fn explore(mem: &Memory, limit: usize) -> Result<MemoryFunction, String> {
        let lifter = lifter_for(Arch::Riscv64).expect("riscv64 frontend");
        explore_memory(lifter, mem, BASE, limit)
    }

    /// Block ranges as offsets from [`BASE`].
    fn ranges(f: &MemoryFunction) -> Vec<(u64, u64)> {
        f.blocks
            .iter()
            .map(|b| (b.start - BASE, b.end - BASE))
            .collect()
    }

    #[test]
    fn straight_line_code_is_one_block() {
        let mem = Memory::code(&[addi(A0, 0, 42), addi(A0, A0, 1), RET]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 12)]);
        assert_eq!(f.insns, 3);
        assert_eq!(f.code.code(BASE + 4, 16), Some(&mem.bytes[4..12]));
        assert!(f.code.matches(&mem));
    }

    #[test]
    fn branches_and_jumps_split_blocks() {
        let mem = Memory::code(&[
            beq(A0, 0, 12),  // 0: -> 12
            addi(A0, A0, 1), // 4
            jal(0, 8),       // 8: -> 16
            addi(A0, A0, 2), // 12
            RET,             // 16
            addi(A0, A0, 3), // 20: unreachable
        ]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 4), (4, 12), (12, 16), (16, 20)]);
        assert_eq!(f.insns, 5);
        let run = f.code.code(BASE, 64).unwrap();
        assert_eq!(run, &mem.bytes[..20], "adjacent blocks form one run");
    }

    #[test]
    fn loops_back_to_the_entry() {
        let mem = Memory::code(&[addi(A0, A0, -1), bne(A0, 0, -4), RET]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 8), (8, 12)]);
    }

    #[test]
    fn calls_continue_after_and_callees_are_not_included() {
        let mem = Memory::code(&[jal(RA, 12), RET, addi(A0, 0, 1), addi(A0, 0, 2), RET]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 4), (4, 8)]);
    }

    #[test]
    fn paths_end_at_unmapped_memory_and_undecodable_bytes() {
        let mem = Memory::code(&[addi(A0, 0, 1), addi(A0, A0, 1)]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 8)], "ends where memory ends");

        let mem = Memory::code(&[addi(A0, 0, 1), 0, RET]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 4)], "ends before illegal bytes");

        let mem = Memory::code(&[beq(A0, 0, 0x1000), RET]);
        let f = explore(&mem, 100).unwrap();
        assert_eq!(ranges(&f), [(0, 4), (4, 8)], "unmapped target left out");
    }

    #[test]
    fn the_entry_must_be_fetchable_and_decode() {
        let mut mem = Memory::code(&[RET]);
        mem.executable = false;
        let e = explore(&mem, 100).unwrap_err();
        assert!(e.contains("not executable"), "{e}");

        let lifter = lifter_for(Arch::Riscv64).unwrap();
        let e = explore_memory(lifter, &Memory::code(&[RET]), BASE - 4, 100).unwrap_err();
        assert!(e.contains("no guest memory"), "{e}");

        let e = explore(&Memory::code(&[0]), 100).unwrap_err();
        assert!(e.contains(&format!("{BASE:#x}")), "{e}");
    }

    #[test]
    fn exploration_stops_at_the_limit() {
        let mut words = vec![addi(A0, A0, 1); 10];
        words.push(RET);
        let f = explore(&Memory::code(&words), 4).unwrap();
        assert_eq!(f.insns, 4);
        assert_eq!(ranges(&f), [(0, 16)]);
    }

    #[test]
    fn snapshots_notice_changed_code() {
        let mut mem = Memory::code(&[addi(A0, 0, 42), RET]);
        let blocks = [BlockRange {
            start: BASE,
            end: BASE + 8,
        }];
        let snapshot = CodeSnapshot::capture(&mem, &blocks).unwrap();
        assert_eq!(snapshot.len(), 8);
        let halves = [
            BlockRange {
                start: BASE + 4,
                end: BASE + 8,
            },
            BlockRange {
                start: BASE,
                end: BASE + 4,
            },
        ];
        assert_eq!(CodeSnapshot::capture(&mem, &halves).unwrap(), snapshot);
        assert!(snapshot.matches(&mem));
        mem.bytes[..4].copy_from_slice(&addi(A0, 0, 7).to_le_bytes());
        assert!(!snapshot.matches(&mem), "patched code");
        mem.bytes[..4].copy_from_slice(&addi(A0, 0, 42).to_le_bytes());
        mem.executable = false;
        assert!(!snapshot.matches(&mem), "no longer executable");
        let beyond = [BlockRange {
            start: BASE,
            end: BASE + 12,
        }];
        assert!(CodeSnapshot::capture(&Memory::code(&[RET, RET]), &beyond).is_none());
    }
}
