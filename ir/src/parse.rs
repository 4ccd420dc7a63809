//! The text format: parsing what [`crate::print`] prints.
//!
//! Errors name the line. Value and block names may appear before their
//! definition (loops, branch arguments), so a function is read into an
//! outline first and built in a second step.

use std::collections::HashMap;
use std::sync::Arc;

use crate::function::{Block, BlockCall, Function, Module, RegFile, Terminator, Value};
use crate::ops::{AtomicOp, FloatCC, Helper, Imm, ImmKind, IntCC, Opcode, RoundingMode, TrapKind};
use crate::types::Type;

/// A syntax or reference error, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Reg(String),
    At(String),
    Num(u128),
    Punct(char),
}

struct Lexer {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '?')
}

fn lex(text: &str) -> Result<Lexer, ParseError> {
    let mut toks = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line_no = ln + 1;
        let code = line.split(';').next().unwrap_or("");
        let chars: Vec<char> = code.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if "()[]{}:,=".contains(c) {
                toks.push((Tok::Punct(c), line_no));
                i += 1;
            } else if c == '%' || c == '@' {
                let (word, next) = take_word(&chars, i + 1);
                i = next;
                let tok = if c == '%' {
                    Tok::Reg(word)
                } else {
                    Tok::At(word)
                };
                toks.push((tok, line_no));
            } else if c.is_ascii_digit() {
                let (word, next) = take_word(&chars, i);
                i = next;
                toks.push((Tok::Num(parse_num(&word, line_no)?), line_no));
            } else if c == '"' {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| ParseError {
                        line: line_no,
                        message: "unterminated quoted name".into(),
                    })?;
                toks.push((
                    Tok::Word(chars[i + 1..i + 1 + end].iter().collect()),
                    line_no,
                ));
                i += end + 2;
            } else if is_word_char(c) {
                let (word, next) = take_word(&chars, i);
                i = next;
                toks.push((Tok::Word(word), line_no));
            } else {
                return Err(ParseError {
                    line: line_no,
                    message: format!("unexpected character {c:?}"),
                });
            }
        }
    }
    Ok(Lexer { toks, pos: 0 })
}

fn take_word(chars: &[char], start: usize) -> (String, usize) {
    let mut end = start;
    while end < chars.len() && is_word_char(chars[end]) {
        end += 1;
    }
    (chars[start..end].iter().collect(), end)
}

fn parse_num(word: &str, line: usize) -> Result<u128, ParseError> {
    let parsed = match word.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => word.parse::<u128>(),
    };
    parsed.map_err(|_| ParseError {
        line,
        message: format!("bad number {word:?}"),
    })
}

impl Lexer {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map_or(0, |t| t.1)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line(),
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn next(&mut self) -> Result<Tok, ParseError> {
        match self.toks.get(self.pos) {
            Some((t, _)) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => self.err("unexpected end of text"),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.err(format!("expected '{c}', found {:?}", self.peek()))
        }
    }

    fn word(&mut self) -> Result<String, ParseError> {
        match self.next()? {
            Tok::Word(w) => Ok(w),
            t => {
                self.pos -= 1;
                self.err(format!("expected a name, found {t:?}"))
            }
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), ParseError> {
        let got = self.word()?;
        if got == w {
            Ok(())
        } else {
            self.pos -= 1;
            self.err(format!("expected '{w}', found '{got}'"))
        }
    }

    fn num(&mut self) -> Result<u128, ParseError> {
        match self.next()? {
            Tok::Num(n) => Ok(n),
            t => {
                self.pos -= 1;
                self.err(format!("expected a number, found {t:?}"))
            }
        }
    }

    fn at_num(&mut self) -> Result<u64, ParseError> {
        match self.next()? {
            Tok::At(w) => match parse_num(&w, self.line()) {
                Ok(n) => Ok(n as u64),
                Err(e) => Err(e),
            },
            t => {
                self.pos -= 1;
                self.err(format!("expected @address, found {t:?}"))
            }
        }
    }

    fn ty(&mut self) -> Result<Type, ParseError> {
        let w = self.word()?;
        Type::from_name(&w).map_or_else(|| self.err(format!("unknown type '{w}'")), Ok)
    }
}

/// Parses a module: a `regfile` declaration followed by functions.
pub fn parse_module(text: &str) -> Result<Module, ParseError> {
    let mut lx = lex(text)?;
    let regs = Arc::new(parse_regfile(&mut lx)?);
    let mut module = Module::new(regs.clone());
    while !lx.at_end() {
        module
            .functions
            .push(parse_function_tokens(&mut lx, &regs)?);
    }
    Ok(module)
}

/// Parses one function over the given register file.
pub fn parse_function(text: &str, regs: Arc<RegFile>) -> Result<Function, ParseError> {
    let mut lx = lex(text)?;
    let f = parse_function_tokens(&mut lx, &regs)?;
    if !lx.at_end() {
        return lx.err("text after the end of the function");
    }
    Ok(f)
}

fn parse_regfile(lx: &mut Lexer) -> Result<RegFile, ParseError> {
    lx.expect_word("regfile")?;
    let name = lx.word()?;
    lx.expect_punct('{')?;
    let mut regs = Vec::new();
    while !lx.eat_punct('}') {
        let reg = lx.word()?;
        lx.expect_punct(':')?;
        let ty = lx.ty()?;
        if regs.iter().any(|(n, _)| n == &reg) {
            return lx.err(format!("register '{reg}' declared twice"));
        }
        regs.push((reg, ty));
    }
    Ok(RegFile::new(&name, regs))
}

/// An instruction as read, before names are resolved.
struct InstOutline {
    result: Option<String>,
    op: Opcode,
    ty: Type,
    imm: Imm,
    args: Vec<String>,
    line: usize,
}

struct CallOutline {
    block: String,
    args: Vec<String>,
}

enum TermOutline {
    Jump(CallOutline),
    Brif(String, CallOutline, CallOutline),
    Switch(String, CallOutline, Vec<(u64, CallOutline)>),
    Call(String, u64, CallOutline),
    Return(String),
    Exit(String),
    Trap(TrapKind, u64),
}

struct BlockOutline {
    name: String,
    params: Vec<(String, Type)>,
    pc: Option<u64>,
    insts: Vec<InstOutline>,
    term: TermOutline,
    term_line: usize,
    line: usize,
}

fn parse_function_tokens(lx: &mut Lexer, regs: &Arc<RegFile>) -> Result<Function, ParseError> {
    lx.expect_word("function")?;
    let name = lx.word()?;
    let entry_pc = lx.at_num()?;
    lx.expect_punct('{')?;
    let mut blocks = Vec::new();
    while !lx.eat_punct('}') {
        blocks.push(parse_block(lx, regs)?);
    }
    build_function(name, entry_pc, regs.clone(), blocks)
}

fn parse_block(lx: &mut Lexer, regs: &RegFile) -> Result<BlockOutline, ParseError> {
    let line = lx.line();
    let name = lx.word()?;
    if !name.starts_with("block") {
        return lx.err(format!("expected a block label, found '{name}'"));
    }
    let mut params = Vec::new();
    if lx.eat_punct('(') {
        while !lx.eat_punct(')') {
            let v = lx.word()?;
            lx.expect_punct(':')?;
            params.push((v, lx.ty()?));
            lx.eat_punct(',');
        }
    }
    let pc = if matches!(lx.peek(), Some(Tok::At(_))) {
        Some(lx.at_num()?)
    } else {
        None
    };
    lx.expect_punct(':')?;
    let mut insts = Vec::new();
    loop {
        let term_line = lx.line();
        if let Some(term) = parse_terminator(lx)? {
            return Ok(BlockOutline {
                name,
                params,
                pc,
                insts,
                term,
                term_line,
                line,
            });
        }
        insts.push(parse_inst(lx, regs)?);
    }
}

fn parse_inst(lx: &mut Lexer, regs: &RegFile) -> Result<InstOutline, ParseError> {
    let line = lx.line();
    let mut first = lx.word()?;
    let mut result = None;
    if lx.eat_punct('=') {
        result = Some(first);
        first = lx.word()?;
    }
    let (op_name, ty_name) = match first.split_once('.') {
        Some((o, t)) => (o.to_string(), Some(t.to_string())),
        None => (first.clone(), None),
    };
    let Some(op) = Opcode::from_name(&op_name) else {
        return lx.err(format!("unknown op '{op_name}'"));
    };
    let ty = match ty_name {
        Some(t) => Type::from_name(&t).map_or_else(|| lx.err(format!("unknown type '{t}'")), Ok)?,
        None => Type::I64,
    };
    let imm = parse_imm(lx, op.sig().imm_kind(), regs)?;
    let mut args = Vec::new();
    // Operands end with the line: the next line may start with a result name.
    while lx.line() == line && matches!(lx.peek(), Some(Tok::Word(w)) if is_value_name(w)) {
        args.push(lx.word()?);
        if !lx.eat_punct(',') {
            break;
        }
    }
    Ok(InstOutline {
        result,
        op,
        ty,
        imm,
        args,
        line,
    })
}

fn is_value_name(w: &str) -> bool {
    w.len() > 1 && w.starts_with('v') && w[1..].chars().all(|c| c.is_ascii_digit())
}

fn parse_imm(lx: &mut Lexer, kind: ImmKind, regs: &RegFile) -> Result<Imm, ParseError> {
    let line = lx.line();
    let err = |message: String| Err(ParseError { line, message });
    let imm = match kind {
        ImmKind::None => return Ok(Imm::None),
        ImmKind::Int => Imm::Int(lx.num()?),
        ImmKind::Lane => {
            Imm::Lane(u8::try_from(lx.num()?).or_else(|_| lx.err("lane index too large"))?)
        }
        ImmKind::Cc => Imm::Cc(named(lx, IntCC::from_name, "integer condition")?),
        ImmKind::Fcc => Imm::Fcc(named(lx, FloatCC::from_name, "float condition")?),
        ImmKind::Rm => Imm::Rm(named(lx, RoundingMode::from_name, "rounding mode")?),
        ImmKind::Atomic => Imm::Atomic(named(lx, AtomicOp::from_name, "atomic op")?),
        ImmKind::Reg => match lx.next()? {
            Tok::Reg(name) => match regs.by_name(&name) {
                Some(r) => Imm::Reg(r),
                None => return err(format!("unknown register '%{name}'")),
            },
            t => return err(format!("expected %register, found {t:?}")),
        },
        ImmKind::Helper => match lx.next()? {
            Tok::At(name) => match Helper::from_name(&name) {
                Some(h) => Imm::Helper(h),
                None => return err(format!("unknown helper '@{name}'")),
            },
            t => return err(format!("expected @helper, found {t:?}")),
        },
        ImmKind::Bytes => {
            lx.expect_punct('[')?;
            let mut bytes = [0u8; 16];
            for b in &mut bytes {
                *b = u8::try_from(lx.num()?).or_else(|_| lx.err("shuffle index too large"))?;
            }
            lx.expect_punct(']')?;
            Imm::Bytes(bytes)
        }
    };
    lx.eat_punct(',');
    Ok(imm)
}

fn named<T>(lx: &mut Lexer, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, ParseError> {
    let w = lx.word()?;
    parse(&w).map_or_else(|| lx.err(format!("unknown {what} '{w}'")), Ok)
}

fn parse_call(lx: &mut Lexer) -> Result<CallOutline, ParseError> {
    let block = lx.word()?;
    let mut args = Vec::new();
    if lx.eat_punct('(') {
        while !lx.eat_punct(')') {
            args.push(lx.word()?);
            lx.eat_punct(',');
        }
    }
    Ok(CallOutline { block, args })
}

fn parse_terminator(lx: &mut Lexer) -> Result<Option<TermOutline>, ParseError> {
    let Some(Tok::Word(w)) = lx.peek() else {
        return Ok(None);
    };
    let term = match w.as_str() {
        "jump" => {
            lx.next()?;
            TermOutline::Jump(parse_call(lx)?)
        }
        "brif" => {
            lx.next()?;
            let c = lx.word()?;
            lx.expect_punct(',')?;
            let t = parse_call(lx)?;
            lx.expect_punct(',')?;
            TermOutline::Brif(c, t, parse_call(lx)?)
        }
        "switch" => {
            lx.next()?;
            let index = lx.word()?;
            lx.expect_punct(',')?;
            let default = parse_call(lx)?;
            lx.expect_punct(',')?;
            lx.expect_punct('[')?;
            let mut cases = Vec::new();
            while !lx.eat_punct(']') {
                let k = lx.num()? as u64;
                lx.expect_punct(':')?;
                cases.push((k, parse_call(lx)?));
                lx.eat_punct(',');
            }
            TermOutline::Switch(index, default, cases)
        }
        "call" => {
            lx.next()?;
            let target = lx.word()?;
            lx.expect_punct(',')?;
            let ret = lx.num()? as u64;
            lx.expect_punct(',')?;
            TermOutline::Call(target, ret, parse_call(lx)?)
        }
        "ret" => {
            lx.next()?;
            TermOutline::Return(lx.word()?)
        }
        "exit" => {
            lx.next()?;
            TermOutline::Exit(lx.word()?)
        }
        "trap" => {
            lx.next()?;
            let kind = named(lx, TrapKind::from_name, "trap kind")?;
            TermOutline::Trap(kind, lx.num()? as u64)
        }
        _ => return Ok(None),
    };
    Ok(Some(term))
}

/// Resolves names while building the function from its outline.
struct Resolver {
    values: HashMap<String, Value>,
    blocks: HashMap<String, Block>,
}

impl Resolver {
    fn value(&self, name: &str, line: usize) -> Result<Value, ParseError> {
        self.values.get(name).copied().ok_or_else(|| ParseError {
            line,
            message: format!("undefined value '{name}'"),
        })
    }

    fn block(&self, name: &str, line: usize) -> Result<Block, ParseError> {
        self.blocks.get(name).copied().ok_or_else(|| ParseError {
            line,
            message: format!("undefined block '{name}'"),
        })
    }

    fn call(&self, c: &CallOutline, line: usize) -> Result<BlockCall, ParseError> {
        Ok(BlockCall {
            block: self.block(&c.block, line)?,
            args: c
                .args
                .iter()
                .map(|a| self.value(a, line))
                .collect::<Result<_, _>>()?,
        })
    }

    fn define(&mut self, name: &str, v: Value, line: usize) -> Result<(), ParseError> {
        if self.values.insert(name.to_string(), v).is_some() {
            return Err(ParseError {
                line,
                message: format!("value '{name}' defined twice"),
            });
        }
        Ok(())
    }
}

fn build_function(
    name: String,
    entry_pc: u64,
    regs: Arc<RegFile>,
    outline: Vec<BlockOutline>,
) -> Result<Function, ParseError> {
    let mut f = Function::new(name, entry_pc, regs);
    let mut rs = Resolver {
        values: HashMap::new(),
        blocks: HashMap::new(),
    };
    let mut blocks = Vec::new();
    for b in &outline {
        let block = f.add_block();
        f.set_block_pc(block, b.pc);
        if rs.blocks.insert(b.name.clone(), block).is_some() {
            return Err(ParseError {
                line: b.line,
                message: format!("block '{}' defined twice", b.name),
            });
        }
        for (v, ty) in &b.params {
            let p = f.add_block_param(block, *ty);
            rs.define(v, p, b.line)?;
        }
        blocks.push(block);
    }
    // First create every instruction so results exist, then fill operands.
    let mut created = Vec::new();
    for (b, &block) in outline.iter().zip(&blocks) {
        for i in &b.insts {
            let result_ty = match i.imm {
                Imm::Helper(h) => h.result(),
                _ => i.op.sig().result_type(i.ty),
            };
            if result_ty.is_some() != i.result.is_some() {
                return Err(ParseError {
                    line: i.line,
                    message: format!(
                        "{} {} a result",
                        i.op,
                        if result_ty.is_some() {
                            "needs"
                        } else {
                            "has no"
                        }
                    ),
                });
            }
            let inst = f.create_inst(i.op, i.ty, Vec::new(), i.imm, result_ty);
            if let (Some(name), Some(v)) = (&i.result, f.inst(inst).result) {
                rs.define(name, v, i.line)?;
            }
            f.append_inst(block, inst);
            created.push((inst, i));
        }
    }
    for (inst, i) in created {
        let args = i
            .args
            .iter()
            .map(|a| rs.value(a, i.line))
            .collect::<Result<Vec<_>, _>>()?;
        f.inst_mut(inst).args = args;
    }
    for (b, &block) in outline.iter().zip(&blocks) {
        let term = resolve_terminator(&rs, &b.term, b.term_line)?;
        f.set_terminator(block, term);
    }
    Ok(f)
}

fn resolve_terminator(
    rs: &Resolver,
    t: &TermOutline,
    line: usize,
) -> Result<Terminator, ParseError> {
    Ok(match t {
        TermOutline::Jump(c) => Terminator::Jump(rs.call(c, line)?),
        TermOutline::Brif(c, a, b) => Terminator::Brif {
            cond: rs.value(c, line)?,
            then_dest: rs.call(a, line)?,
            else_dest: rs.call(b, line)?,
        },
        TermOutline::Switch(index, default, cases) => Terminator::Switch {
            index: rs.value(index, line)?,
            default: rs.call(default, line)?,
            cases: cases
                .iter()
                .map(|(k, c)| Ok((*k, rs.call(c, line)?)))
                .collect::<Result<_, ParseError>>()?,
        },
        TermOutline::Call(target, ret, cont) => Terminator::Call {
            target: rs.value(target, line)?,
            return_pc: *ret,
            cont: rs.call(cont, line)?,
        },
        TermOutline::Return(v) => Terminator::Return {
            pc: rs.value(v, line)?,
        },
        TermOutline::Exit(v) => Terminator::Exit {
            pc: rs.value(v, line)?,
        },
        TermOutline::Trap(kind, pc) => Terminator::Trap {
            kind: *kind,
            pc: *pc,
        },
    })
}
