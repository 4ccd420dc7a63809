//! Natural loops of a function's CFG, for the passes that move work out
//! of loops.

use petgraph::algo::dominators::{simple_fast, Dominators};

use crate::function::{Block, Function, ValueDef};
use crate::Value;

/// One natural loop: a header and every block of the cycles through it.
pub struct Loop {
    /// The block every edge into the loop enters.
    pub header: Block,
    /// The blocks that branch back to the header.
    pub latches: Vec<Block>,
    /// Per block (by index): part of the loop.
    pub body: Vec<bool>,
    /// The header's predecessors outside the loop (where the loop is
    /// entered from).
    pub entries: Vec<Block>,
}

impl Loop {
    /// True when `b` is part of the loop.
    pub fn contains(&self, b: Block) -> bool {
        self.body[b.index()]
    }

    /// The blocks of the loop.
    pub fn blocks(&self) -> impl Iterator<Item = Block> + '_ {
        self.body
            .iter()
            .enumerate()
            .filter(|&(_, &inside)| inside)
            .map(|(i, _)| Block(i as u32))
    }
}

/// The dominator tree and the natural loops of a function.
pub struct LoopForest {
    doms: Dominators<Block>,
    /// Per instruction (by index): the block holding it.
    inst_block: Vec<Option<Block>>,
    /// The loops, one per header (back edges to the same header merged).
    pub loops: Vec<Loop>,
}

impl LoopForest {
    /// Analyses `f`, whose reachable blocks in reverse post-order are
    /// `order`; `None` for a function without an entry.
    pub fn new(f: &Function, order: &[Block]) -> Option<LoopForest> {
        let entry = f.entry()?;
        let doms = simple_fast(f.cfg(), entry);
        let mut inst_block = vec![None; f.num_insts()];
        for &b in order {
            for &i in &f.block(b).insts {
                inst_block[i.index()] = Some(b);
            }
        }
        let mut forest = LoopForest {
            doms,
            inst_block,
            loops: Vec::new(),
        };
        for &header in order {
            let latches: Vec<Block> = f
                .preds(header)
                .into_iter()
                .filter(|&p| forest.dominates(header, p))
                .collect();
            if !latches.is_empty() {
                let l = forest.natural_loop(f, header, latches);
                forest.loops.push(l);
            }
        }
        Some(forest)
    }

    /// How many loops hold both `a` and `b`: the loop nesting an edge from
    /// `a` to `b` stays inside (the edge leaves the others `a` is in).
    pub fn common_depth(&self, a: Block, b: Block) -> usize {
        self.loops
            .iter()
            .filter(|l| l.contains(a) && l.contains(b))
            .count()
    }

    /// True when `a` dominates `b` (every block dominates itself;
    /// unreachable blocks are dominated by nothing).
    pub fn dominates(&self, a: Block, b: Block) -> bool {
        self.doms
            .dominators(b)
            .is_some_and(|mut chain| chain.any(|d| d == a))
    }

    /// The block defining `v` (`None` for a result of an instruction that is
    /// no longer placed).
    pub fn def_block(&self, f: &Function, v: Value) -> Option<Block> {
        match f.value(v).def {
            ValueDef::Param(b, _) => Some(b),
            ValueDef::Result(i) => self.inst_block.get(i.index()).copied().flatten(),
        }
    }

    fn reachable(&self, b: Block) -> bool {
        self.doms.dominators(b).is_some()
    }

    /// The loop of `header` closed by the back edges from `latches`: the
    /// header and the reachable blocks that reach a latch without passing
    /// through it.
    fn natural_loop(&self, f: &Function, header: Block, latches: Vec<Block>) -> Loop {
        let mut body = vec![false; f.num_blocks()];
        body[header.index()] = true;
        let mut stack = latches.clone();
        while let Some(b) = stack.pop() {
            if !std::mem::replace(&mut body[b.index()], true) {
                stack.extend(f.preds(b).into_iter().filter(|&p| self.reachable(p)));
            }
        }
        let entries = f
            .preds(header)
            .into_iter()
            .filter(|&p| !body[p.index()] && self.reachable(p))
            .collect();
        Loop {
            header,
            latches,
            body,
            entries,
        }
    }
}
