//! Phase 1: program-wide recursive descent. Decodes every address reachable
//! from the seeds through any control-flow edge, exactly once.

use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::{all_targets, FailureReason};
use crate::loader::GuestImage;
use crate::{Flow, InsnInfo, Lifter};

/// Longest straight-line run one task decodes before handing back; bounds
/// the work wasted when two runs of one round meet.
const MAX_RUN: usize = 1024;

/// Everything decoded so far.
pub(super) struct Program<'a> {
    image: &'a GuestImage,
    lifter: &'a dyn Lifter,
    /// Decoded instructions by address.
    pub insns: HashMap<u64, InsnInfo>,
    /// Addresses that did not decode.
    pub failures: BTreeMap<u64, FailureReason>,
    /// Targets of direct calls.
    pub call_targets: BTreeSet<u64>,
}

/// The outcome of decoding one address.
type Decoded = (u64, Result<InsnInfo, FailureReason>);

impl<'a> Program<'a> {
    pub fn new(image: &'a GuestImage, lifter: &'a dyn Lifter) -> Self {
        Program {
            image,
            lifter,
            insns: HashMap::default(),
            failures: BTreeMap::new(),
            call_targets: BTreeSet::new(),
        }
    }

    fn seen(&self, addr: u64) -> bool {
        self.insns.contains_key(&addr) || self.failures.contains_key(&addr)
    }

    /// Decodes everything reachable from `starts`. Each round decodes the
    /// frontier in parallel, then merges in address order, so the result does
    /// not depend on scheduling.
    pub fn explore(&mut self, starts: impl IntoIterator<Item = u64>) {
        let mut frontier: Vec<u64> = starts.into_iter().filter(|&a| !self.seen(a)).collect();
        frontier.sort_unstable();
        frontier.dedup();
        while !frontier.is_empty() {
            let runs: Vec<Vec<Decoded>> = frontier.par_iter().map(|&a| self.run(a)).collect();
            let mut next = BTreeSet::new();
            for (addr, result) in runs.into_iter().flatten() {
                self.merge(addr, result, &mut next);
            }
            frontier = next.into_iter().filter(|&a| !self.seen(a)).collect();
        }
    }

    /// Records one decoded address and queues its targets.
    fn merge(
        &mut self,
        addr: u64,
        result: Result<InsnInfo, FailureReason>,
        next: &mut BTreeSet<u64>,
    ) {
        if self.seen(addr) {
            return;
        }
        match result {
            Ok(insn) => {
                next.extend(all_targets(&insn));
                if let Flow::Call(target) = insn.flow {
                    self.call_targets.insert(target);
                }
                self.insns.insert(addr, insn);
            }
            Err(reason) => {
                self.failures.insert(addr, reason);
            }
        }
    }

    /// Decodes straight-line code from `addr` while it falls through to the
    /// next instruction, stopping at anything decoded in earlier rounds.
    fn run(&self, mut addr: u64) -> Vec<Decoded> {
        let mut out = Vec::new();
        while out.len() < MAX_RUN && !self.seen(addr) {
            let result = self.decode(addr);
            let next = match &result {
                Ok(insn) if falls_through(insn.flow) => Some(addr + u64::from(insn.len)),
                _ => None,
            };
            out.push((addr, result));
            match next {
                Some(n) => addr = n,
                None => break,
            }
        }
        out
    }

    /// Decodes the instruction at `addr`, which must be in code.
    fn decode(&self, addr: u64) -> Result<InsnInfo, FailureReason> {
        if !self.image.is_code(addr) {
            return Err(FailureReason::NotCode);
        }
        let bytes = self.image.bytes_from(addr).unwrap_or_default();
        let insn = self
            .lifter
            .decode(bytes, addr)
            .map_err(FailureReason::Decode)?;
        if insn.len == 0 {
            return Err(FailureReason::EmptyInstruction);
        }
        Ok(insn)
    }
}

/// Whether execution may continue with the next instruction.
fn falls_through(flow: Flow) -> bool {
    matches!(
        flow,
        Flow::Next | Flow::Branch(_) | Flow::Call(_) | Flow::IndirectCall | Flow::Syscall
    )
}
