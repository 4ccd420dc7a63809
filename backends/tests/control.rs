//! Control flow and the runtime protocol: loops with block parameters,
//! switches (dense, sparse, with arguments, at every index width), exits,
//! returns and traps with their header fields, guest calls (direct,
//! through the runtime, resumed after a jump, returning elsewhere,
//! trapping), runtime helpers, and the errors the JIT reports.

mod common;

use common::*;
use vmtrans_abi::{exit, header};
use vmtrans_backends::{BackendError, CompileOptions, HostFn, Jit};
use vmtrans_ir::parse::parse_function;
use vmtrans_ir::{FunctionBuilder, GuestReg, IntCC, RegFile, Type};

fn reg(name: &str) -> usize {
    riscv_regs().by_name(name).unwrap().index()
}

fn parse(text: &str) -> vmtrans_ir::Function {
    parse_function(text, riscv_regs()).expect("test IR parses")
}

/// sum = 1 + 2 + ... + a0 with SSA registers (block parameters).
fn sum_loop() -> vmtrans_ir::Function {
    let a0 = GuestReg(reg("a0") as u16);
    let a1 = GuestReg(reg("a1") as u16);
    let mut b = FunctionBuilder::new("sum", 0x1000, riscv_regs());
    let head = b.create_block();
    let body = b.create_block();
    let done = b.create_block();
    let zero = b.iconst(Type::I64, 0);
    b.def_reg(a1, zero);
    b.jump(head, &[]);
    b.switch_to_block(head);
    let n = b.use_reg(a0);
    let z = b.iconst(Type::I64, 0);
    let more = b.icmp(IntCC::Ne, n, z);
    b.brif(more, body, done);
    b.switch_to_block(body);
    let n = b.use_reg(a0);
    let s = b.use_reg(a1);
    let s2 = b.iadd(s, n);
    b.def_reg(a1, s2);
    let one = b.iconst(Type::I64, 1);
    let n2 = b.isub(n, one);
    b.def_reg(a0, n2);
    b.jump(head, &[]);
    b.switch_to_block(done);
    b.exit_to(0x2000);
    b.finish()
}

#[test]
fn loops_with_block_parameters_match_the_interpreter() {
    let f = sum_loop();
    let mut jit = jit();
    for n in [0u128, 1, 2, 10, 1000] {
        let mut regs = vec![0u128; riscv_regs().len()];
        regs[reg("a0")] = n;
        differential(&mut jit, &f, &regs, &[0; 64]);
    }
    let code = jit.compile(&f).unwrap();
    let mut m = Machine::new(riscv_regs());
    m.set_reg(reg("a0"), 100);
    assert_eq!(m.run(code), (exit::JUMP, 0x2000));
    assert_eq!(m.reg(reg("a1")), 5050);
}

/// A switch on `a0` (reduced to `ty`) with the given cases; each case
/// passes its own constant to a join block that writes it to a1.
fn switch_function(ty: Type, cases: &[u64]) -> vmtrans_ir::Function {
    let mut text = String::from("function sw @0x1000 {\nblock0:\n    v0 = read_reg.i64 %a0\n");
    let idx = match ty {
        Type::I64 => "v0".to_string(),
        Type::I128 => {
            text.push_str("    v1 = uext.i128 v0\n");
            "v1".into()
        }
        _ => {
            text.push_str(&format!("    v1 = ireduce.{ty} v0\n"));
            "v1".into()
        }
    };
    let mut arms = Vec::new();
    for (i, k) in cases.iter().enumerate() {
        text.push_str(&format!("    v{} = iconst.i64 {:#x}\n", 10 + i, 100 + i));
        arms.push(format!("{k:#x}: block2(v{})", 10 + i));
    }
    text.push_str("    v2 = iconst.i64 0x63\n");
    text.push_str(&format!(
        "    switch {idx}, block1, [{}]\n",
        arms.join(", ")
    ));
    text.push_str("block1:\n    jump block2(v2)\n");
    text.push_str(
        "block2(v3: i64):\n    write_reg.i64 %a1, v3\n    v4 = iconst.i64 0x2000\n    exit v4\n}\n",
    );
    parse(&text)
}

#[test]
fn switches_dense_sparse_and_at_every_width() {
    let mut jit = jit();
    let dense: Vec<u64> = (0..12).collect();
    let sparse = [1u64, 5, 100, 1000, 0xffff, 1 << 40, u64::MAX];
    for ty in [
        Type::I1,
        Type::I8,
        Type::I16,
        Type::I32,
        Type::I64,
        Type::I128,
    ] {
        for cases in [&dense[..], &sparse[..], &[][..]] {
            let f = switch_function(ty, cases);
            for a0 in [
                0u128,
                1,
                2,
                5,
                11,
                12,
                100,
                255,
                256 + 5,
                1000,
                0xffff,
                1 << 40,
            ] {
                let mut regs = vec![0u128; riscv_regs().len()];
                regs[reg("a0")] = a0;
                differential(&mut jit, &f, &regs, &[0; 16]);
            }
        }
    }
}

#[test]
fn exits_returns_and_traps_set_the_header() {
    let mut jit = jit();
    let ret = parse("function r @0x1000 {\nblock0:\n    v0 = read_reg.i64 %ra\n    ret v0\n}");
    let code = jit.compile(&ret).unwrap();
    let mut m = Machine::new(riscv_regs());
    m.set_reg(reg("ra"), 0x4242);
    assert_eq!(m.run(code), (exit::RETURN, 0x4242));

    for (kind, reason) in [
        ("illegal", exit::TRAP_ILLEGAL),
        ("breakpoint", exit::TRAP_BREAKPOINT),
        ("divide_error", exit::TRAP_DIVIDE),
        ("undecodable", exit::TRAP_UNDECODABLE),
    ] {
        let f = parse(&format!(
            "function t @0x1000 {{\nblock0:\n    trap {kind} 0x1234\n}}"
        ));
        let code = jit.compile(&f).unwrap();
        let mut m = Machine::new(riscv_regs());
        assert_eq!(m.run(code), (reason, 0x1234));
        assert_eq!(m.header(header::EXIT_PC), 0x1234);
    }
}

/// The caller: a0 = 20, call `target` returning to 0x1008, then a0 *= 2.
fn caller(target: &str) -> vmtrans_ir::Function {
    parse(&format!(
        "function caller @0x1000 {{
block0:
    v0 = iconst.i64 0x14
    write_reg.i64 %a0, v0
    v1 = iconst.i64 0x1008
    write_reg.i64 %ra, v1
    {target}
    call t, 0x1008, block1
block1:
    v2 = read_reg.i64 %a0
    v3 = iadd.i64 v2, v2
    write_reg.i64 %a0, v3
    v4 = iconst.i64 0x5000
    exit v4
}}"
    ))
}

/// The callee at 0x2000: a0 += 1, return to ra.
fn callee() -> vmtrans_ir::Function {
    parse(
        "function callee @0x2000 {
block0:
    v0 = read_reg.i64 %a0
    v1 = iconst.i64 0x1
    v2 = iadd.i64 v0, v1
    write_reg.i64 %a0, v2
    v3 = read_reg.i64 %ra
    ret v3
}",
    )
}

#[test]
fn direct_calls_within_a_batch() {
    let mut jit = jit();
    let fs = [caller("t = iconst.i64 0x2000"), callee()];
    let code = jit.compile_batch(&fs).unwrap();
    take_log();
    let mut m = Machine::new(riscv_regs());
    assert_eq!(m.run(code[0]), (exit::JUMP, 0x5000));
    assert_eq!(m.reg(reg("a0")), 42);
    assert!(take_log().is_empty(), "a direct call needs no runtime help");
}

#[test]
fn indirect_calls_go_through_the_runtime() {
    let mut jit = jit();
    let callee_code = jit.compile(&callee()).unwrap();
    // SAFETY: JIT code with the translated-function signature.
    register_callee(0x2000, unsafe {
        std::mem::transmute::<*const u8, HostFn>(callee_code)
    });
    let code = jit.compile(&caller("t = read_reg.i64 %a5")).unwrap();
    take_log();
    let mut m = Machine::new(riscv_regs());
    m.set_reg(reg("a5"), 0x2000);
    assert_eq!(m.run(code), (exit::JUMP, 0x5000));
    assert_eq!(m.reg(reg("a0")), 42);
    assert_eq!(take_log(), ["call 0x2000"]);
}

#[test]
fn a_callee_that_jumps_is_resumed_then_returns() {
    let mut jit = jit();
    // The callee at 0x2000 jumps to 0x2100, the real body, which the
    // runtime finds and runs when the caller asks it to continue.
    let mut body = callee();
    body.entry_pc = 0x2100;
    let body_code = jit.compile(&body).unwrap();
    // SAFETY: JIT code with the translated-function signature.
    register_callee(0x2100, unsafe {
        std::mem::transmute::<*const u8, HostFn>(body_code)
    });
    let jumper =
        parse("function jumper @0x2000 {\nblock0:\n    v0 = iconst.i64 0x2100\n    exit v0\n}");
    let code = jit
        .compile_batch(&[caller("t = iconst.i64 0x2000"), jumper])
        .unwrap();
    take_log();
    let mut m = Machine::new(riscv_regs());
    assert_eq!(m.run(code[0]), (exit::JUMP, 0x5000));
    assert_eq!(m.reg(reg("a0")), 42);
    assert_eq!(take_log(), ["continue 0x2100"]);
}

#[test]
fn returns_elsewhere_and_traps_propagate() {
    let mut jit = jit();
    let elsewhere =
        parse("function elsewhere @0x2000 {\nblock0:\n    v0 = iconst.i64 0x9999\n    ret v0\n}");
    let trapping = parse("function trapping @0x3000 {\nblock0:\n    trap breakpoint 0x3004\n}");
    let fs = [
        caller("t = iconst.i64 0x2000"),
        elsewhere,
        {
            let mut c = caller("t = iconst.i64 0x3000");
            c.entry_pc = 0x1100;
            c
        },
        trapping,
    ];
    let codes = jit.compile_batch(&fs).unwrap();
    let mut m = Machine::new(riscv_regs());
    assert_eq!(m.run(codes[0]), (exit::RETURN, 0x9999));
    assert_eq!(m.reg(reg("a0")), 20, "the continuation did not run");
    let mut m = Machine::new(riscv_regs());
    assert_eq!(m.run(codes[2]), (exit::TRAP_BREAKPOINT, 0x3004));
    assert_eq!(m.header(header::EXIT_PC), 0x3004);
}

#[test]
fn helpers_get_the_state_and_return_values() {
    let f = parse(
        "function h @0x1000 {
block0:
    call_helper @syscall
    v0 = call_helper.i64 @read_cycle
    write_reg.i64 %a0, v0
    v1 = call_helper.i64 @read_time
    write_reg.i64 %a1, v1
    v2 = call_helper.i64 @read_time_freq
    write_reg.i64 %a2, v2
    v3 = call_helper.i64 @read_instret
    write_reg.i64 %a3, v3
    v4 = iconst.i32 0x3
    call_helper @fp_set_rounding v4
    call_helper @fp_sync_flags
    call_helper @flush_code
    call_helper @cpuid
    v5 = iconst.i64 0x2000
    exit v5
}",
    );
    let mut jit = jit();
    let mut regs = vec![0u128; riscv_regs().len()];
    regs[reg("a4")] = 7;
    differential(&mut jit, &f, &regs, &[0; 16]);
    let code = jit.compile(&f).unwrap();
    take_log();
    let mut m = Machine::new(riscv_regs());
    m.run(code);
    assert_eq!(m.reg(reg("a0")), 0xc1c1e);
    assert_eq!(m.reg(reg("a2")), 1_000_000);
    assert_eq!(
        take_log(),
        [
            "syscall",
            "read_cycle",
            "set_rounding 3",
            "void helper",
            "void helper",
            "void helper"
        ]
    );
}

/// Only `dyn` rounding runs natively: a static mode, `rne` included, goes
/// through the exact helper, because the host rounds in the guest's current
/// dynamic mode (the difftest found static `rne` off by one ulp under `frm`
/// = rdn). `fround` rtz/rup have exact host instructions.
#[test]
fn only_dynamic_rounding_runs_natively() {
    let f = parse(
        "function r @0x1000 {
block0:
    v0 = read_reg.i64 %fa0
    v1 = bitcast.f64 v0
    v2 = fadd.f64 dyn v1, v1
    v3 = fadd.f64 rne v2, v1
    v4 = fround.f64 rtz v3
    v5 = fround.f64 rup v4
    v6 = fmul.f64 rtz v5, v1
    v7 = fsqrt.f64 rmm v6
    v8 = bitcast.i64 v7
    write_reg.i64 %fa1, v8
    v9 = iconst.i64 0x2000
    exit v9
}",
    );
    let code = jit().compile(&f).unwrap();
    take_log();
    let mut m = Machine::new(riscv_regs());
    m.set_reg(reg("fa0"), 2.5f64.to_bits().into());
    m.run(code);
    let log = take_log();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log.iter().all(|l| l.starts_with("fp_op")));
    // 2.5*2 + 2.5 = 7.5 → 7 → 7 → 17.5 → sqrt
    assert_eq!(m.reg(reg("fa1")), u128::from(17.5f64.sqrt().to_bits()));
}

#[test]
fn errors_are_reported_not_panics() {
    // A riscv64 file whose register has the wrong size.
    let bad = std::sync::Arc::new(RegFile::new("riscv64", [("a0".to_string(), Type::I32)]));
    let f = parse_function(
        "function b @0x1000 {\nblock0:\n    v0 = iconst.i64 0x0\n    exit v0\n}",
        bad,
    )
    .unwrap();
    assert!(matches!(
        jit().compile(&f),
        Err(BackendError::RegisterFile { .. })
    ));

    // A helper the runtime does not provide.
    let none: vmtrans_backends::SymbolLookup = std::sync::Arc::new(|_| None);
    let mut j = Jit::new(none, CompileOptions::default()).unwrap();
    let f = parse("function s @0x1000 {\nblock0:\n    call_helper @syscall\n    v0 = iconst.i64 0x0\n    exit v0\n}");
    match j.compile(&f) {
        Err(BackendError::UnresolvedSymbol(s)) => assert_eq!(s, "vmtrans_rt_syscall"),
        other => panic!("expected an unresolved symbol, got {other:?}"),
    }

    // Two functions at one address in a batch.
    let g = parse("function g @0x1000 {\nblock0:\n    v0 = iconst.i64 0x0\n    exit v0\n}");
    assert!(matches!(
        jit().compile_batch(&[g.clone(), g]),
        Err(BackendError::DuplicateEntry(0x1000))
    ));
}

// ---- registers handed over in host registers ----

/// The riscv64 file with a linkage: sp, ra, a0, a1 into callees; those
/// and s0-s2 back.
fn linked_regs() -> std::sync::Arc<RegFile> {
    std::sync::Arc::new(RegFile::clone(&riscv_regs()).with_linkage(
        &["sp", "ra", "a0", "a1"],
        &["sp", "ra", "a0", "a1", "s0", "s1", "s2"],
    ))
}

fn linked(name: &str) -> GuestReg {
    linked_regs().by_name(name).unwrap()
}

/// Optimized like the translator's functions, so the write-backs the
/// linkage replaces are gone.
fn optimized(mut f: vmtrans_ir::Function) -> vmtrans_ir::Function {
    vmtrans_ir::passes::optimize_function(&mut f, &Default::default()).unwrap();
    f
}

/// a0 = 40, a1 = 2, s0 = 5, s3 = 7; call `target` (from a5 when `None`)
/// returning to 0x1010; then a2 = a0 + s0 + s3 and exit to 0x5000.
fn linked_caller(target: Option<u64>) -> vmtrans_ir::Function {
    let mut b = FunctionBuilder::new("caller", 0x1000, linked_regs());
    for (r, v) in [("a0", 40), ("a1", 2), ("s0", 5), ("s3", 7), ("ra", 0x1010)] {
        let v = b.iconst(Type::I64, v);
        b.def_reg(linked(r), v);
    }
    let t = match target {
        Some(pc) => b.iconst(Type::I64, pc as i128),
        None => b.use_reg(linked("a5")),
    };
    let cont = b.create_block();
    b.call(t, 0x1010, cont);
    b.switch_to_block(cont);
    let a0 = b.use_reg(linked("a0"));
    let s0 = b.use_reg(linked("s0"));
    let s3 = b.use_reg(linked("s3"));
    let sum = b.iadd(a0, s0);
    let sum = b.iadd(sum, s3);
    b.def_reg(linked("a2"), sum);
    b.exit_to(0x5000);
    optimized(b.finish())
}

/// At `pc`: a0 = a0 + a1, s0 = 100, s3 += 1, return to ra.
fn linked_callee(pc: u64) -> vmtrans_ir::Function {
    let mut b = FunctionBuilder::new("callee", pc, linked_regs());
    let a0 = b.use_reg(linked("a0"));
    let a1 = b.use_reg(linked("a1"));
    let sum = b.iadd(a0, a1);
    b.def_reg(linked("a0"), sum);
    let hundred = b.iconst(Type::I64, 100);
    b.def_reg(linked("s0"), hundred);
    let s3 = b.use_reg(linked("s3"));
    let one = b.iconst(Type::I64, 1);
    let s3 = b.iadd(s3, one);
    b.def_reg(linked("s3"), s3);
    let ra = b.use_reg(linked("ra"));
    b.ret(ra);
    optimized(b.finish())
}

/// Runs `code` and checks what the linked caller and callee computed.
fn check_linked_run(code: *const u8) {
    let regs = linked_regs();
    let mut m = Machine::new(regs.clone());
    assert_eq!(m.run(code), (exit::JUMP, 0x5000));
    let r = |n: &str| regs.by_name(n).unwrap().index();
    assert_eq!(m.reg(r("a0")), 42, "a0 from the callee");
    assert_eq!(m.reg(r("s0")), 100, "s0 from the callee");
    assert_eq!(m.reg(r("s3")), 8, "s3 through the state");
    assert_eq!(m.reg(r("a2")), 42 + 100 + 8);
}

#[test]
fn registers_go_to_a_direct_callee_and_back_in_host_registers() {
    let caller = linked_caller(Some(0x2000));
    let text = vmtrans_ir::print::print_function(&caller);
    // a0 and a1 go in, a0 and s0 come back by the linkage: the state does
    // not see a0 and a1 at the call; s0 and s3 go in through the state.
    let at_call = &text[..text.find("    call ").expect("a call")];
    for reg in ["a0", "a1"] {
        assert!(
            !at_call.contains(&format!("write_reg.i64 %{reg},")),
            "{text}"
        );
        assert!(at_call.contains(&format!("link_out.i64 %{reg},")), "{text}");
    }
    assert!(at_call.contains("write_reg.i64 %s0,"), "{text}");
    assert!(at_call.contains("write_reg.i64 %s3,"), "{text}");
    assert!(!text.contains("read_reg.i64 %a0"), "{text}");
    assert!(!text.contains("read_reg.i64 %s0"), "{text}");
    let mut jit = jit();
    let code = jit.compile_batch(&[caller, linked_callee(0x2000)]).unwrap();
    take_log();
    check_linked_run(code[0]);
    assert!(take_log().is_empty(), "a direct call needs no runtime help");
}

#[test]
fn a_jump_to_another_functions_entry_enters_it_as_a_tail_call() {
    let mut jit = jit();
    let mut jumper = FunctionBuilder::new("jumper", 0x2000, linked_regs());
    jumper.exit_to(0x2100);
    let fs = [
        linked_caller(Some(0x2000)),
        optimized(jumper.finish()),
        linked_callee(0x2100),
    ];
    let code = jit.compile_batch(&fs).unwrap();
    take_log();
    check_linked_run(code[0]);
    assert!(take_log().is_empty(), "a tail call needs no runtime help");

    // With a signal pending, the jump leaves to the dispatcher instead.
    let mut m = Machine::new(linked_regs());
    m.set_header(header::INTERRUPT, 1);
    assert_eq!(m.run(code[1]), (exit::JUMP, 0x2100));
}

#[test]
fn registers_reach_callees_entered_through_the_runtime_by_the_state() {
    let mut jit = jit();
    // The wrapper (the runtime's entry) moves the linkage through the state.
    let callee = jit.compile(&linked_callee(0x2000)).unwrap();
    // SAFETY: JIT code with the translated-function signature.
    register_callee(0x2000, unsafe {
        std::mem::transmute::<*const u8, HostFn>(callee)
    });
    let code = jit.compile(&linked_caller(None)).unwrap();
    take_log();
    let regs = linked_regs();
    let mut m = Machine::new(regs.clone());
    m.set_reg(regs.by_name("a5").unwrap().index(), 0x2000);
    assert_eq!(m.run(code), (exit::JUMP, 0x5000));
    assert_eq!(take_log(), ["call 0x2000"]);
    assert_eq!(m.reg(regs.by_name("a2").unwrap().index()), 150);

    // A direct callee that jumps: the runtime runs the rest, and the
    // caller takes the linkage from the state.
    let body = jit.compile(&linked_callee(0x2100)).unwrap();
    // SAFETY: as above.
    register_callee(0x2100, unsafe {
        std::mem::transmute::<*const u8, HostFn>(body)
    });
    let mut jumper = FunctionBuilder::new("jumper", 0x2000, linked_regs());
    jumper.exit_to(0x2100);
    let code = jit
        .compile_batch(&[linked_caller(Some(0x2000)), optimized(jumper.finish())])
        .unwrap();
    take_log();
    check_linked_run(code[0]);
    assert_eq!(take_log(), ["continue 0x2100"]);
}
