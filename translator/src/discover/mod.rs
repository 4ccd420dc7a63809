//! Code discovery: which bytes of a guest image are code, split into
//! functions and basic blocks.
//!
//! Seeds are the entry point, function symbols, `.eh_frame` FDE starts, code
//! pointers (init/fini arrays, ifunc resolvers, exception landing pads) and
//! caller hints (e.g. from profiles). Discovery then runs in two phases:
//!
//! 1. Explore (`explore.rs`): recursive descent over the whole program following every
//!    [`Flow`] edge, decoding each address once (a frontier at a time, in
//!    parallel). This fixes the set of instructions, the call targets (which
//!    become functions), indirect sites and decode failures.
//! 2. Build CFGs (`cfg.rs`): with the function entries now fixed, each function's blocks
//!    are built independently (in parallel): reachable from its entry without
//!    crossing a call, stopping at other functions' entries (tail calls).
//!
//! Jump tables need arch-specific dataflow, so they are resolved through an
//! optional [`IndirectJumpResolver`]; resolved targets feed both phases again
//! until nothing new is found. Output order is deterministic: everything is
//! sorted by address.

mod cfg;
mod explore;

use rustc_hash::FxHashSet as HashSet;
use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::lift::BlockRange;
use crate::loader::{GuestImage, Section};
use crate::{DecodeError, Flow, InsnInfo, Lifter};

/// What a resolver found out about one indirect jump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// Targets, each inside the function.
    pub targets: Vec<u64>,
    /// False when the targets are only those reachable so far: the index was
    /// a constant on every path discovered yet (a table dispatch loop whose
    /// other entries are only reached through the table itself). Discovery
    /// asks again once the function has grown.
    pub complete: bool,
}

/// Resolves the targets of an indirect jump (a jump table), given the function
/// that contains it as discovered so far. Implemented per guest ISA.
pub trait IndirectJumpResolver: Sync {
    /// The targets of each indirect jump of `function` at `sites`, in the
    /// same order: `None` where the pattern is not recognised. All sites of a
    /// function come in one call, so a resolver that analyses the whole
    /// function does it once. Must be deterministic.
    fn resolve(
        &self,
        image: &GuestImage,
        function: &Function,
        sites: &[u64],
    ) -> Vec<Option<Resolution>>;
}

/// Knobs for [`discover_with`].
#[derive(Default)]
pub struct DiscoverOptions<'a> {
    /// Extra function entries, e.g. from a profile of an earlier run.
    pub hints: Vec<u64>,
    /// Jump-table resolution; without it indirect jumps stay unresolved.
    pub resolver: Option<&'a dyn IndirectJumpResolver>,
}

/// Why a function is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// It is the ELF entry point.
    pub entry_point: bool,
    /// A function symbol starts here.
    pub symbol: bool,
    /// An `.eh_frame` FDE starts here.
    pub eh_frame: bool,
    /// A direct call targets it.
    pub called: bool,
    /// An init/fini array, an ifunc relocation or an exception table
    /// (landing pad) points here.
    pub code_pointer: bool,
    /// The caller said so ([`DiscoverOptions::hints`]).
    pub hint: bool,
}

/// A basic block: straight-line instructions `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Address of the first instruction.
    pub start: u64,
    /// One past the last byte of the last instruction.
    pub end: u64,
    /// Address of the last instruction.
    pub last: u64,
    /// Control flow of the last instruction ([`Flow::Next`] when the block
    /// was split because a branch targets the following instruction).
    pub flow: Flow,
    /// Starts of the blocks of this function that may run next, sorted.
    pub successors: Vec<u64>,
    /// Targets that leave the function (tail calls, branches into another
    /// function's entry, addresses that failed to decode), sorted.
    pub exits: Vec<u64>,
}

impl Block {
    /// The block as the function lifter takes it.
    pub fn range(&self) -> BlockRange {
        BlockRange {
            start: self.start,
            end: self.end,
        }
    }
}

/// A discovered function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Entry address.
    pub entry: u64,
    /// Symbol name at the entry, if any.
    pub name: Option<String>,
    /// Why it is known.
    pub sources: Sources,
    /// Blocks, sorted by start. One starts at `entry`, but not necessarily
    /// the first: code after the entry may branch back before it (a landing
    /// pad joining its function's tail, a loop entered in the middle). Blocks
    /// never overlap unless the code itself overlaps (jumps into the middle
    /// of an instruction, seen only in hand-written x86).
    pub blocks: Vec<Block>,
    /// Every instruction of the blocks, sorted by address.
    pub insns: Vec<InsnInfo>,
    /// Direct call targets, sorted.
    pub callees: Vec<u64>,
}

impl Function {
    /// The instruction at `addr`.
    pub fn insn(&self, addr: u64) -> Option<&InsnInfo> {
        let i = self.insns.binary_search_by_key(&addr, |x| x.addr).ok()?;
        Some(&self.insns[i])
    }

    /// The block starting at `start`.
    pub fn block(&self, start: u64) -> Option<&Block> {
        let i = self.blocks.binary_search_by_key(&start, |b| b.start).ok()?;
        Some(&self.blocks[i])
    }

    /// The block ranges, as [`crate::lift::lift_function`] takes them.
    pub fn block_ranges(&self) -> Vec<BlockRange> {
        self.blocks.iter().map(Block::range).collect()
    }

    /// Its indirect jumps with known targets inside it (site → targets), as
    /// [`crate::lift::lift_function_with_tables`] takes them.
    pub fn jump_tables(&self) -> crate::JumpTables {
        self.blocks
            .iter()
            .filter(|b| b.flow == Flow::IndirectJump && !b.successors.is_empty())
            .map(|b| (b.last, b.successors.clone()))
            .collect()
    }

    /// A name for messages: the symbol, else `sub_<entry>`.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("sub_{:x}", self.entry))
    }
}

/// The kind of an indirect control transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndirectKind {
    /// [`Flow::IndirectJump`]: a jump table or a tail call through a pointer.
    Jump,
    /// [`Flow::IndirectCall`].
    Call,
}

/// An indirect jump or call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndirectSite {
    /// Address of the instruction.
    pub addr: u64,
    /// Jump or call.
    pub kind: IndirectKind,
    /// Targets found by the [`IndirectJumpResolver`], if it resolved the site.
    pub targets: Option<Vec<u64>>,
}

/// A call instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// Address of the call.
    pub addr: u64,
    /// The callee for a direct call, `None` for an indirect one.
    pub target: Option<u64>,
    /// Where the callee returns to.
    pub return_addr: u64,
}

/// Why an address reached by discovery holds no instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The bytes do not decode.
    Decode(DecodeError),
    /// The address is not in the file-backed part of an executable segment.
    NotCode,
    /// The lifter returned a zero-length instruction (a lifter bug).
    EmptyInstruction,
}

/// An address discovery reached but could not decode (not fatal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeFailure {
    /// The address.
    pub addr: u64,
    /// What went wrong.
    pub reason: FailureReason,
}

/// Covered versus total bytes of some region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteCoverage {
    /// Bytes inside discovered instructions.
    pub covered: u64,
    /// Bytes of the region.
    pub total: u64,
}

impl ByteCoverage {
    /// Covered share in percent (100 for an empty region).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        self.covered as f64 * 100.0 / self.total as f64
    }
}

/// How much of the code discovery found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Of the file-backed bytes of executable segments (which often include
    /// headers, read-only data and unwind tables).
    pub segments: ByteCoverage,
    /// Of `.text`, when section headers exist.
    pub text: Option<ByteCoverage>,
    /// Of all executable sections (`SHF_EXECINSTR`), when section headers exist.
    pub code_sections: Option<ByteCoverage>,
}

/// Everything discovery found, sorted by address.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Functions, sorted by entry.
    pub functions: Vec<Function>,
    /// Indirect jumps and calls.
    pub indirect_sites: Vec<IndirectSite>,
    /// Direct and indirect calls.
    pub call_sites: Vec<CallSite>,
    /// System call instructions.
    pub syscall_sites: Vec<u64>,
    /// Addresses reached but not decodable.
    pub decode_failures: Vec<DecodeFailure>,
    /// Bytes covered by discovered instructions.
    pub coverage: Coverage,
}

impl Discovery {
    /// Resolved jump tables: indirect-jump site → targets, for lifting them
    /// as in-function branches.
    pub fn jump_tables(&self) -> crate::JumpTables {
        self.indirect_sites
            .iter()
            .filter_map(|s| Some((s.addr, s.targets.clone()?)))
            .collect()
    }

    /// The function with entry `entry`.
    pub fn function(&self, entry: u64) -> Option<&Function> {
        let i = self
            .functions
            .binary_search_by_key(&entry, |f| f.entry)
            .ok()?;
        Some(&self.functions[i])
    }

    /// Total number of distinct instructions found.
    pub fn instruction_count(&self) -> usize {
        let mut addrs: Vec<u64> = self
            .functions
            .iter()
            .flat_map(|f| f.insns.iter().map(|i| i.addr))
            .collect();
        addrs.par_sort_unstable();
        addrs.dedup();
        addrs.len()
    }
}

/// Discovers the code of `image` with default options.
pub fn discover(image: &GuestImage, lifter: &dyn Lifter) -> Discovery {
    let resolver = crate::jumptable::IrJumpTableResolver::new(lifter);
    let options = DiscoverOptions {
        resolver: Some(&resolver),
        ..DiscoverOptions::default()
    };
    discover_with(image, lifter, &options)
}

/// Discovers the code of `image`, with hints and a jump-table resolver.
pub fn discover_with(
    image: &GuestImage,
    lifter: &dyn Lifter,
    options: &DiscoverOptions<'_>,
) -> Discovery {
    let seeds = seeds(image, options);
    let mut program = explore::Program::new(image, lifter);
    program.explore(seeds.keys().copied());
    let (functions, resolved) =
        build_and_resolve(image, &mut program, &seeds, options.resolver, None);
    assemble(image, &program, functions, &resolved)
}

/// Discovers only the function entered at `entry`, not the whole program:
/// for code that whole-program discovery did not find, at a fraction of its
/// cost. The code reachable from it is explored (callees included, so their
/// entries bound the function), but only its own CFG is built.
pub fn discover_function(
    image: &GuestImage,
    lifter: &dyn Lifter,
    entry: u64,
    resolver: Option<&dyn IndirectJumpResolver>,
) -> Option<Function> {
    let mut seeds = BTreeMap::new();
    seeds.insert(
        entry,
        Sources {
            hint: true,
            ..Sources::default()
        },
    );
    let mut program = explore::Program::new(image, lifter);
    program.explore([entry]);
    // Only the function at `entry` is built and has its jump tables
    // resolved: building every function reachable through calls made each
    // JIT miss outside the first discovery cost ~0.4 s on busybox.
    let (functions, _) = build_and_resolve(image, &mut program, &seeds, resolver, Some(entry));
    functions.into_iter().find(|f| f.entry == entry)
}

/// Whole-program discovery done lazily, for the JIT: the program is
/// explored once (every seed and everything reachable from it, which is
/// cheap), but a function's CFG is built and its jump tables resolved only
/// when it is asked for. A run uses a small part of its program, and
/// building and resolving every function up front was most of `vmtrans
/// run`'s start-up time.
pub struct LazyDiscovery<'a> {
    image: &'a GuestImage,
    program: explore::Program<'a>,
    seeds: BTreeMap<u64, Sources>,
    resolver: crate::jumptable::IrJumpTableResolver<'a>,
}

impl<'a> LazyDiscovery<'a> {
    /// Explores `image` from its seeds (symbols, FDEs, code pointers, the
    /// entry point).
    pub fn new(image: &'a GuestImage, lifter: &'a dyn Lifter) -> LazyDiscovery<'a> {
        let seeds = seeds(image, &DiscoverOptions::default());
        let mut program = explore::Program::new(image, lifter);
        program.explore(seeds.keys().copied());
        LazyDiscovery {
            image,
            program,
            seeds,
            resolver: crate::jumptable::IrJumpTableResolver::new(lifter),
        }
    }

    /// Guest instructions explored so far.
    pub fn instruction_count(&self) -> usize {
        self.program.insns.len()
    }

    /// The function entered at `entry`, with its jump tables resolved
    /// (`None` when nothing decodes there). The other function entries
    /// bound it, as in whole-program discovery; an `entry` that is not one
    /// of them (a return address, a jump-table case) starts a function of
    /// its own.
    pub fn function(&mut self, entry: u64) -> Option<Function> {
        self.program.explore([entry]);
        let mut seeds = self.seeds.clone();
        seeds.entry(entry).or_default().hint = true;
        let resolver = Some(&self.resolver as &dyn IndirectJumpResolver);
        let (functions, _) =
            build_and_resolve(self.image, &mut self.program, &seeds, resolver, Some(entry));
        functions.into_iter().find(|f| f.entry == entry)
    }
}

/// Builds the functions of `seeds` (and of every call target) from
/// `program`, resolving jump tables until nothing new is found; returns
/// them with the resolved tables. With `only`, just the function at that
/// entry is built (the other entries still bound it: a jump to one is a
/// tail call).
fn build_and_resolve(
    image: &GuestImage,
    program: &mut explore::Program<'_>,
    seeds: &BTreeMap<u64, Sources>,
    resolver: Option<&dyn IndirectJumpResolver>,
    only: Option<u64>,
) -> (Vec<Function>, BTreeMap<u64, Vec<u64>>) {
    let mut resolved: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    // Partially resolved sites, with the owner's block count when asked.
    let mut partial: BTreeMap<u64, usize> = BTreeMap::new();
    // Probes that failed, not repeated while their function is unchanged.
    let mut failed: HashSet<Probe> = HashSet::default();
    loop {
        let entries = function_entries(seeds, program);
        let functions = cfg::build_all(image, program, &entries, &resolved, only);
        let new = match resolver {
            Some(r) => resolve_jumps(image, r, &functions, &resolved, &partial, &mut failed),
            None => BTreeMap::new(),
        };
        let grown: Vec<(u64, Vec<u64>)> = new
            .into_iter()
            .filter_map(|(site, (res, blocks))| {
                if res.complete {
                    partial.remove(&site);
                } else {
                    partial.insert(site, blocks);
                }
                let known = resolved.get(&site);
                (known != Some(&res.targets)).then_some((site, res.targets))
            })
            .collect();
        if grown.is_empty() {
            return (functions, resolved);
        }
        program.explore(grown.iter().flat_map(|(_, t)| t.iter().copied()));
        resolved.extend(grown);
    }
}

/// Function seeds with their reasons; seeds outside code are dropped (FDEs of
/// discarded sections point at 0, data symbols may be typed as functions),
/// except hints and the entry point, whose failure is worth reporting.
fn seeds(image: &GuestImage, options: &DiscoverOptions<'_>) -> BTreeMap<u64, Sources> {
    let mut seeds: BTreeMap<u64, Sources> = BTreeMap::new();
    let mut add = |addr: u64, set: fn(&mut Sources), only_code: bool| {
        if !only_code || image.is_code(addr) {
            set(seeds.entry(addr).or_default());
        }
    };
    add(image.entry, |s| s.entry_point = true, false);
    for sym in &image.symbols {
        add(sym.addr, |s| s.symbol = true, true);
    }
    for fde in image.fdes.iter().filter(|f| f.len > 0) {
        add(fde.start, |s| s.eh_frame = true, true);
    }
    for ptr in &image.code_pointers {
        add(ptr.addr, |s| s.code_pointer = true, true);
    }
    for &hint in &options.hints {
        add(hint, |s| s.hint = true, false);
    }
    seeds
}

/// Seeds plus direct call targets, restricted to addresses that decoded.
fn function_entries(
    seeds: &BTreeMap<u64, Sources>,
    program: &explore::Program<'_>,
) -> BTreeMap<u64, Sources> {
    let mut entries = seeds.clone();
    for &target in &program.call_targets {
        entries.entry(target).or_default().called = true;
    }
    entries.retain(|addr, _| program.insns.contains_key(addr));
    entries
}

/// Asks the resolver about every indirect jump not resolved yet, and again
/// about partially resolved ones whose function has grown since; returns
/// the answers with the owner's block count. A site shared by several
/// functions is asked about with the first (lowest entry) that contains it.
///
/// A probe that failed is not repeated in later rounds while its function
/// keeps the same blocks (`failed` remembers them): the answer depends only
/// on the image and those blocks, and re-lifting every unresolvable site in
/// every round dominated start-up time on x86_64 glibc.
fn resolve_jumps(
    image: &GuestImage,
    resolver: &dyn IndirectJumpResolver,
    functions: &[Function],
    resolved: &BTreeMap<u64, Vec<u64>>,
    partial: &BTreeMap<u64, usize>,
    failed: &mut HashSet<Probe>,
) -> BTreeMap<u64, (Resolution, usize)> {
    let mut owner: BTreeMap<u64, usize> = BTreeMap::new();
    for (index, f) in functions.iter().enumerate() {
        for insn in f.insns.iter().filter(|i| i.flow == Flow::IndirectJump) {
            let ask = match partial.get(&insn.addr) {
                Some(&blocks) => f.blocks.len() > blocks,
                None => !resolved.contains_key(&insn.addr),
            };
            if ask {
                owner.entry(insn.addr).or_insert(index);
            }
        }
    }
    // One question per function, with every site of it not known to fail.
    let mut asked: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for (site, index) in owner {
        if !failed.contains(&Probe::new(site, &functions[index])) {
            asked.entry(index).or_default().push(site);
        }
    }
    let asked: Vec<(usize, Vec<u64>)> = asked.into_iter().collect();
    let results: Vec<Vec<(Probe, Option<Resolved>)>> = asked
        .into_par_iter()
        .map(|(index, sites)| {
            let f = &functions[index];
            let found = resolver.resolve(image, f, &sites);
            sites
                .iter()
                .zip(found.into_iter().chain(std::iter::repeat(None)))
                .map(|(&site, res)| {
                    let res = res.map(|mut res| {
                        res.targets.sort_unstable();
                        res.targets.dedup();
                        (site, (res, f.blocks.len()))
                    });
                    (Probe::new(site, f), res)
                })
                .collect()
        })
        .collect();
    let mut new = BTreeMap::new();
    for (probe, found) in results.into_iter().flatten() {
        match found {
            Some((site, targets)) => {
                new.insert(site, targets);
            }
            None => {
                failed.insert(probe);
            }
        }
    }
    new
}

/// A resolved site with its resolution and its function's block count.
type Resolved = (u64, (Resolution, usize));

/// One jump-table question: the site and the exact blocks of the function
/// asked about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Probe {
    site: u64,
    entry: u64,
    blocks: Vec<(u64, u64)>,
}

impl Probe {
    fn new(site: u64, f: &Function) -> Probe {
        Probe {
            site,
            entry: f.entry,
            blocks: f.block_ranges().iter().map(|r| (r.start, r.end)).collect(),
        }
    }
}

/// Collects the program-wide lists and coverage.
fn assemble(
    image: &GuestImage,
    program: &explore::Program<'_>,
    functions: Vec<Function>,
    resolved: &BTreeMap<u64, Vec<u64>>,
) -> Discovery {
    let mut insns: Vec<&InsnInfo> = program.insns.values().collect();
    insns.par_sort_unstable_by_key(|i| i.addr);
    let mut d = Discovery {
        functions,
        coverage: coverage(image, &insns),
        ..Discovery::default()
    };
    for insn in insns {
        let return_addr = insn.addr + u64::from(insn.len);
        let site = |kind| IndirectSite {
            addr: insn.addr,
            kind,
            targets: resolved.get(&insn.addr).cloned(),
        };
        let call = |target| CallSite {
            addr: insn.addr,
            target,
            return_addr,
        };
        match insn.flow {
            Flow::Call(t) => d.call_sites.push(call(Some(t))),
            Flow::IndirectCall => {
                d.call_sites.push(call(None));
                d.indirect_sites.push(site(IndirectKind::Call));
            }
            Flow::IndirectJump => d.indirect_sites.push(site(IndirectKind::Jump)),
            Flow::Syscall => d.syscall_sites.push(insn.addr),
            _ => {}
        }
    }
    d.decode_failures = program
        .failures
        .iter()
        .map(|(&addr, reason)| DecodeFailure {
            addr,
            reason: reason.clone(),
        })
        .collect();
    d
}

/// Coverage of segments, `.text` and executable sections by `insns` (sorted).
fn coverage(image: &GuestImage, insns: &[&InsnInfo]) -> Coverage {
    let covered = merged_ranges(insns);
    let count = |start: u64, end: u64| ByteCoverage {
        covered: overlap(&covered, start, end),
        total: end.saturating_sub(start),
    };
    let sum = |parts: Vec<ByteCoverage>| {
        parts
            .iter()
            .fold(ByteCoverage::default(), |a, b| ByteCoverage {
                covered: a.covered + b.covered,
                total: a.total + b.total,
            })
    };
    let section = |s: &Section| count(s.addr, s.addr.saturating_add(s.size));
    let code_sections: Vec<ByteCoverage> = image
        .sections
        .iter()
        .filter(|s| s.alloc && s.execute)
        .map(section)
        .collect();
    Coverage {
        segments: sum(image
            .executable_ranges()
            .into_iter()
            .map(|r| count(r.start, r.end))
            .collect()),
        text: image.section(".text").map(section),
        code_sections: (!code_sections.is_empty()).then(|| sum(code_sections)),
    }
}

/// The union of the instructions' byte ranges, as sorted disjoint ranges.
fn merged_ranges(insns: &[&InsnInfo]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for insn in insns {
        let (start, end) = (insn.addr, insn.addr + u64::from(insn.len));
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Bytes of `[start, end)` inside the sorted disjoint `ranges`.
fn overlap(ranges: &[(u64, u64)], start: u64, end: u64) -> u64 {
    let first = ranges.partition_point(|r| r.1 <= start);
    ranges[first..]
        .iter()
        .take_while(|r| r.0 < end)
        .map(|r| r.1.min(end) - r.0.max(start))
        .sum()
}

/// Every address control may reach after `insn`, call targets included: the
/// program-wide edges phase 1 follows.
fn all_targets(insn: &InsnInfo) -> impl Iterator<Item = u64> {
    let next = insn.addr + u64::from(insn.len);
    let (a, b) = match insn.flow {
        Flow::Next | Flow::IndirectCall | Flow::Syscall => (Some(next), None),
        Flow::Jump(t) => (Some(t), None),
        Flow::Branch(t) | Flow::Call(t) => (Some(t), Some(next)),
        Flow::IndirectJump | Flow::Return | Flow::Stop => (None, None),
    };
    a.into_iter().chain(b)
}
