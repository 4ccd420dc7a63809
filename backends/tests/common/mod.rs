//! Test support: a riscv64 register file, runtime stubs for the helpers
//! JIT code calls, a harness that runs JIT code on a heap CPU state and a
//! small guest memory, and the same run through the IR interpreter.

#![allow(dead_code)]

pub mod cases;
pub mod programs;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use vmtrans_abi::{exit, fp_op, header, helpers, Arch, RegKind};
use vmtrans_backends::{CompileOptions, HostFn, Jit, RegLayout};
use vmtrans_ir::interp::{self, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::{Function, Helper, Imm, Opcode, RegFile, RoundingMode, TrapKind, Type};

/// Size of the guest memory tests run with.
pub const MEM_SIZE: usize = 4096;

/// The riscv64 register file with the contract's real layout.
pub fn riscv_regs() -> Arc<RegFile> {
    static FILE: OnceLock<Arc<RegFile>> = OnceLock::new();
    FILE.get_or_init(|| {
        Arc::new(RegFile::new(
            "riscv64",
            Arch::Riscv64.registers().iter().map(|r| {
                let ty = match r.kind {
                    RegKind::Flag => Type::I1,
                    RegKind::I8 => Type::I8,
                    RegKind::I32 => Type::I32,
                    RegKind::I64 => Type::I64,
                    RegKind::V128 => Type::V128,
                };
                (r.name.to_string(), ty)
            }),
        ))
    })
    .clone()
}

/// A register file of one register per IR type (packed layout).
pub fn typed_regs() -> Arc<RegFile> {
    Arc::new(RegFile::new(
        "typed",
        Type::ALL
            .iter()
            .map(|t| (format!("r_{}", t.name()), *t))
            .chain([("pc".to_string(), Type::I64)]),
    ))
}

// ---- runtime stubs ----

thread_local! {
    /// Guest functions the stub `vmtrans_rt_call` can run, by entry PC.
    static CALLEES: RefCell<HashMap<u64, HostFn>> = RefCell::new(HashMap::new());
    /// Helper calls seen, in order.
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Registers host code the stub dispatcher runs for guest PC `pc`.
pub fn register_callee(pc: u64, f: HostFn) {
    CALLEES.with(|c| c.borrow_mut().insert(pc, f));
}

/// Takes the helper-call log.
pub fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

fn log(s: String) {
    LOG.with(|l| l.borrow_mut().push(s));
}

fn reason(state: *mut u8) -> u64 {
    // SAFETY: the state buffer is at least a header long.
    unsafe { state.add(header::EXIT_REASON).cast::<u64>().read() }
}

/// Runs guest code from `pc` through JUMPs until it returns or traps (the
/// dispatcher a runtime provides).
unsafe fn dispatch(state: *mut u8, mem: *mut u8, mut pc: u64) -> u64 {
    loop {
        let f = CALLEES.with(|c| c.borrow().get(&pc).copied());
        let Some(f) = f else {
            // Unknown code: report it as an illegal instruction there.
            // SAFETY: the state buffer is at least a header long.
            unsafe {
                state
                    .add(header::EXIT_REASON)
                    .cast::<u64>()
                    .write(exit::TRAP_ILLEGAL);
                state.add(header::EXIT_PC).cast::<u64>().write(pc);
            }
            return pc;
        };
        // SAFETY: registered functions are translated code.
        pc = unsafe { f(state, mem) };
        if reason(state) != exit::JUMP {
            return pc;
        }
    }
}

extern "C" fn rt_call(state: *mut u8, mem: *mut u8, target: u64) -> u64 {
    log(format!("call {target:#x}"));
    // SAFETY: called by translated code with its own state and memory.
    unsafe { dispatch(state, mem, target) }
}

extern "C" fn rt_continue(state: *mut u8, mem: *mut u8, pc: u64) -> u64 {
    log(format!("continue {pc:#x}"));
    // SAFETY: as above.
    unsafe { dispatch(state, mem, pc) }
}

extern "C" fn rt_syscall(_state: *mut u8) {
    log("syscall".into());
}

extern "C" fn rt_read_cycle(_state: *mut u8) -> u64 {
    log("read_cycle".into());
    0xc1c1e
}

extern "C" fn rt_read_time(_state: *mut u8) -> u64 {
    0x7113
}

extern "C" fn rt_read_time_freq(_state: *mut u8) -> u64 {
    1_000_000
}

extern "C" fn rt_read_instret(_state: *mut u8) -> u64 {
    0x1257
}

extern "C" fn rt_void(_state: *mut u8) {
    log("void helper".into());
}

extern "C" fn rt_host_flags(_state: *mut u8) -> u32 {
    log("host flags".into());
    0
}

extern "C" fn rt_set_rounding(_state: *mut u8, rm: u32) {
    log(format!("set_rounding {rm}"));
}

/// The float slow path, computed by the interpreter's soft float (exactly
/// what a runtime may do). The test threads' dynamic mode is rne.
extern "C" fn rt_fp_op(_state: *mut u8, op: u32, rm: u32, a: u64, b: u64, c: u64) -> u64 {
    log(format!("fp_op {op:#x} rm {rm}"));
    fp_op_reference(op, rm, a, b, c)
}

/// The reference semantics of `vmtrans_rt_fp_op` (dynamic mode rne).
pub fn fp_op_reference(op: u32, rm: u32, a: u64, b: u64, c: u64) -> u64 {
    let (kind, width, src) = fp_op::decode(op);
    let fty = |bits: u32| if bits == 32 { Type::F32 } else { Type::F64 };
    let ity = |bits: u32| match bits {
        8 => Type::I8,
        16 => Type::I16,
        32 => Type::I32,
        64 => Type::I64,
        _ => Type::I128,
    };
    let ty = fty(width);
    let rm = match RoundingMode::from_number(rm) {
        Some(RoundingMode::Dyn) | None => RoundingMode::Rne,
        Some(m) => m,
    };
    let (opcode, args, types): (Opcode, Vec<u128>, Vec<Type>) = match kind {
        fp_op::FADD => (Opcode::Fadd, vec![a.into(), b.into()], vec![ty, ty]),
        fp_op::FSUB => (Opcode::Fsub, vec![a.into(), b.into()], vec![ty, ty]),
        fp_op::FMUL => (Opcode::Fmul, vec![a.into(), b.into()], vec![ty, ty]),
        fp_op::FDIV => (Opcode::Fdiv, vec![a.into(), b.into()], vec![ty, ty]),
        fp_op::FSQRT => (Opcode::Fsqrt, vec![a.into()], vec![ty]),
        fp_op::FMA => (
            Opcode::Fma,
            vec![a.into(), b.into(), c.into()],
            vec![ty, ty, ty],
        ),
        fp_op::FROUND => (Opcode::Fround, vec![a.into()], vec![ty]),
        fp_op::FCVT_FROM_SINT | fp_op::FCVT_FROM_UINT => {
            let op = if kind == fp_op::FCVT_FROM_SINT {
                Opcode::FcvtFromSint
            } else {
                Opcode::FcvtFromUint
            };
            let v = u128::from(a) | u128::from(b) << 64;
            (op, vec![v], vec![ity(src)])
        }
        _ => (Opcode::Fconvert, vec![a.into()], vec![fty(src)]),
    };
    interp::eval_pure(opcode, ty, &Imm::Rm(rm), &args, &types).expect("valid fp op") as u64
}

/// Every runtime symbol JIT code may call, as the stubs above.
pub fn stub_symbols() -> vmtrans_backends::SymbolLookup {
    Arc::new(|name: &str| {
        let p: *const u8 = match name {
            helpers::CALL => rt_call as *const u8,
            helpers::CONTINUE => rt_continue as *const u8,
            helpers::SYSCALL => rt_syscall as *const u8,
            helpers::READ_CYCLE => rt_read_cycle as *const u8,
            helpers::READ_TIME => rt_read_time as *const u8,
            helpers::READ_TIME_FREQ => rt_read_time_freq as *const u8,
            helpers::READ_INSTRET => rt_read_instret as *const u8,
            helpers::CPUID | helpers::FP_SYNC_FLAGS | helpers::FLUSH_CODE => rt_void as *const u8,
            helpers::FP_SET_ROUNDING => rt_set_rounding as *const u8,
            helpers::FP_HOST_FLAGS => rt_host_flags as *const u8,
            helpers::FP_OP => rt_fp_op as *const u8,
            _ => return None,
        };
        Some(p)
    })
}

/// A JIT with the stub runtime.
pub fn jit() -> Jit {
    Jit::new(stub_symbols(), on_own_memory(CompileOptions::default())).expect("host JIT")
}

/// A JIT whose static-`rne` float ops also take the exact helper.
pub fn strict_jit() -> Jit {
    let opts = CompileOptions {
        native_rne: false,
        ..on_own_memory(CompileOptions::default())
    };
    Jit::new(stub_symbols(), opts).expect("host JIT")
}

// ---- running JIT code ----

/// A CPU state (16-byte aligned) and a guest memory.
pub struct Machine {
    regs: Arc<RegFile>,
    layout: RegLayout,
    state: Vec<u128>,
    /// Guest memory; guest address `a` is byte `a`.
    pub mem: Vec<u8>,
}

impl Machine {
    /// All registers and memory zero.
    pub fn new(regs: Arc<RegFile>) -> Machine {
        Machine::with_mem(regs, MEM_SIZE)
    }

    /// All registers zero and `mem_size` bytes of zero memory.
    pub fn with_mem(regs: Arc<RegFile>, mem_size: usize) -> Machine {
        let layout = RegLayout::new(&regs).expect("layout");
        let size = layout
            .state_size(&regs)
            .max(vmtrans_abi::state_size(Arch::Riscv64));
        Machine {
            regs,
            layout,
            state: vec![0; size / 16],
            mem: vec![0; mem_size],
        }
    }

    fn bytes(&mut self) -> &mut [u8] {
        let len = self.state.len() * 16;
        // SAFETY: a u128 buffer viewed as bytes.
        unsafe { std::slice::from_raw_parts_mut(self.state.as_mut_ptr().cast::<u8>(), len) }
    }

    /// Sets register `index` (its low bytes).
    pub fn set_reg(&mut self, index: usize, v: u128) {
        let off = self.layout.offset(index) as usize;
        let n = self.regs.regs[index].ty.bytes() as usize;
        self.bytes()[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
    }

    /// Register `index`, zero-extended.
    pub fn reg(&mut self, index: usize) -> u128 {
        let off = self.layout.offset(index) as usize;
        let n = self.regs.regs[index].ty.bytes() as usize;
        let mut b = [0u8; 16];
        b[..n].copy_from_slice(&self.bytes()[off..off + n]);
        u128::from_le_bytes(b)
    }

    /// A header field.
    pub fn header(&mut self, offset: usize) -> u64 {
        u64::from_le_bytes(self.bytes()[offset..offset + 8].try_into().unwrap())
    }

    /// Sets a header field.
    pub fn set_header(&mut self, offset: usize, v: u64) {
        self.bytes()[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// Runs `f`; returns (exit reason, returned PC).
    pub fn run(&mut self, f: *const u8) -> (u64, u64) {
        // SAFETY: `f` is JIT code with the translated-function signature.
        let f: HostFn = unsafe { std::mem::transmute(f) };
        let mem = self.mem.as_mut_ptr();
        let state = self.state.as_mut_ptr().cast::<u8>();
        // SAFETY: the state and memory outlive the call; tests keep guest
        // addresses inside the memory.
        let pc = unsafe { f(state, mem) };
        (self.header(header::EXIT_REASON), pc)
    }

    /// Loads the interpreter's register values into the CPU state.
    pub fn load_state(&mut self, s: &GuestState) {
        for (i, &v) in s.regs.iter().enumerate() {
            self.set_reg(i, v);
        }
    }

    /// The registers as an interpreter state.
    pub fn guest_state(&mut self) -> GuestState {
        let mut s = GuestState::new(&self.regs.clone());
        for i in 0..s.regs.len() {
            s.regs[i] = self.reg(i);
        }
        s
    }
}

/// The exit reason and PC a JIT run must produce for an interpreter
/// outcome.
pub fn expected_exit(o: Outcome) -> (u64, u64) {
    match o {
        Outcome::Exit(pc) => (exit::JUMP, pc),
        Outcome::Return(pc) => (exit::RETURN, pc),
        Outcome::Trap(kind, pc) => {
            let r = match kind {
                TrapKind::Illegal => exit::TRAP_ILLEGAL,
                TrapKind::Breakpoint => exit::TRAP_BREAKPOINT,
                TrapKind::DivideError => exit::TRAP_DIVIDE,
                TrapKind::Undecodable => exit::TRAP_UNDECODABLE,
            };
            (r, pc)
        }
    }
}

/// An interpreter environment whose helpers return what the stubs do.
pub struct StubEnv;

impl Env for StubEnv {
    fn helper(
        &mut self,
        h: Helper,
        _args: &[u128],
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        Ok(match h {
            Helper::ReadCycle => Some(0xc1c1e),
            Helper::ReadTime => Some(0x7113),
            Helper::ReadTimeFreq => Some(1_000_000),
            Helper::ReadInstret => Some(0x1257),
            _ => None,
        })
    }

    fn call(
        &mut self,
        target: u64,
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        Err(InterpError::Unsupported(format!(
            "no callee at {target:#x}"
        )))
    }
}

/// Runs `f` in the interpreter on `state` and a copy of `mem`.
pub fn interpret(
    f: &Function,
    state: &mut GuestState,
    mem: &[u8],
) -> Result<(Outcome, Vec<u8>), InterpError> {
    let region = 0..mem.len() as u64;
    let mut m = SparseMemory::with_regions(std::iter::once(region));
    m.write_bytes(0, mem);
    let outcome = interp::run(f, state, &mut m, &mut StubEnv, 10_000)?;
    let bytes = (0..mem.len() as u64).map(|a| m.byte(a)).collect();
    Ok((outcome, bytes))
}

/// Appends an instruction to block `b` of `f`; returns its result.
pub fn ins(
    f: &mut Function,
    b: vmtrans_ir::Block,
    op: Opcode,
    ty: Type,
    args: &[vmtrans_ir::Value],
    imm: Imm,
) -> Option<vmtrans_ir::Value> {
    let rt = match imm {
        Imm::Helper(h) => h.result(),
        _ => op.sig().result_type(ty),
    };
    let inst = f.create_inst(op, ty, args.to_vec(), imm, rt);
    f.append_inst(b, inst);
    f.inst(inst).result
}

/// An `i64` constant in block `b`.
pub fn iconst64(f: &mut Function, b: vmtrans_ir::Block, v: u64) -> vmtrans_ir::Value {
    ins(f, b, Opcode::Iconst, Type::I64, &[], Imm::Int(v.into())).unwrap()
}

/// Runs `f` through the interpreter and the JIT from the same registers and
/// memory; asserts the exit, every register and every memory byte agree.
///
/// The code runs twice, in single-threaded and in parallel mode
/// (`header::PARALLEL`), which lower guest atomics differently.
pub fn differential(jit: &mut Jit, f: &Function, regs: &[u128], mem: &[u8]) {
    vmtrans_ir::verify::verify_function(f).expect("test function verifies");
    let mut start = GuestState::new(&f.regs);
    for (i, desc) in f.regs.regs.iter().enumerate() {
        start.regs[i] = regs.get(i).copied().unwrap_or(0) & desc.ty.mask();
    }
    let code = jit.compile(f).expect("JIT compiles");
    let mut state = start.clone();
    let (outcome, imem) = interpret(f, &mut state, mem).expect("interpreter run");
    for parallel in [0, 1] {
        let mut m = Machine::with_mem(f.regs.clone(), mem.len());
        m.mem.copy_from_slice(mem);
        m.load_state(&start);
        m.set_header(vmtrans_abi::header::PARALLEL, parallel);
        let exit = m.run(code);
        let name = format!("{} (parallel {parallel})", f.name);
        assert_eq!(exit, expected_exit(outcome), "{name}: exit");
        assert_eq!(m.guest_state(), state, "{name}: registers");
        if m.mem != imem {
            let first = m.mem.iter().zip(&imem).position(|(a, b)| a != b).unwrap();
            panic!(
                "{name}: memory differs from byte {first}: jit {:x?}, interpreter {:x?}",
                &m.mem[first..(first + 16).min(mem.len())],
                &imem[first..(first + 16).min(mem.len())]
            );
        }
    }
}

/// `opts` for code that runs on this test's own guest memory buffer, not
/// the runtime's reservation at host address 0.
fn on_own_memory(opts: CompileOptions) -> CompileOptions {
    CompileOptions {
        guest_base: vmtrans_abi::GuestBase::Argument,
        ..opts
    }
}
