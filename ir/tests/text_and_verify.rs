//! Builder, text format and verifier tests.

use std::sync::Arc;

use vmtrans_ir::parse::{parse_function, parse_module};
use vmtrans_ir::print::{print_function, print_module};
use vmtrans_ir::verify::verify_function;
use vmtrans_ir::{
    Block, BlockCall, Function, FunctionBuilder, GuestReg, Imm, IntCC, Opcode, RegFile, Terminator,
    TrapKind, Type,
};

fn regs() -> Arc<RegFile> {
    Arc::new(RegFile::new(
        "test",
        [
            ("a".to_string(), Type::I64),
            ("b".to_string(), Type::I64),
            ("zf".to_string(), Type::I1),
        ],
    ))
}

const A: GuestReg = GuestReg(0);
const B: GuestReg = GuestReg(1);

/// A counting loop built with naive register reads and writes.
fn loop_function() -> Function {
    let mut b = FunctionBuilder::new("count", 0x1000, regs());
    let header = b.create_block();
    let body = b.create_block();
    let done = b.create_block();
    b.jump(header, &[]);

    b.switch_to_block(header);
    let a = b.use_reg(A);
    let ten = b.iconst(Type::I64, 10);
    let lt = b.icmp(IntCC::Ult, a, ten);
    b.brif(lt, body, done);

    b.switch_to_block(body);
    let a = b.use_reg(A);
    let one = b.iconst(Type::I64, 1);
    let a1 = b.iadd(a, one);
    b.def_reg(A, a1);
    let bb = b.use_reg(B);
    let b2 = b.iadd(bb, a1);
    b.def_reg(B, b2);
    b.jump(header, &[]);

    b.switch_to_block(done);
    b.exit_to(0x2000);
    b.finish()
}

#[test]
fn builder_makes_ssa_for_registers_in_a_loop() {
    let f = loop_function();
    verify_function(&f).expect("builder output verifies");
    let text = print_function(&f);
    // The loop header receives `a` and `b` as block parameters.
    let header = text.lines().find(|l| l.starts_with("block1")).unwrap();
    assert!(header.contains("i64") && header.contains(", "), "{text}");
    // Registers are read once at entry and written back at the exit only.
    assert_eq!(text.matches("read_reg").count(), 2, "{text}");
    assert_eq!(text.matches("write_reg").count(), 2, "{text}");
    assert!(text.contains("exit v"), "{text}");
}

#[test]
fn an_exit_resuming_at_a_loop_head_writes_back_only_what_the_head_reads() {
    // head: b = a + 1 (reads a, overwrites b); poll; leave -> exit resuming
    // at head; else loop. `b` is dead at the head, `a` is not.
    let mut b = FunctionBuilder::new("loop", 0x1000, regs());
    let head = b.create_block();
    let leave = b.create_block();
    let exit = b.create_block();
    b.set_block_pc(head, 0x1000);
    let seven = b.iconst(Type::I64, 7);
    b.def_reg(A, seven);
    b.jump(head, &[]);
    b.switch_to_block(head);
    let a = b.use_reg(A);
    let one = b.iconst(Type::I64, 1);
    let next = b.iadd(a, one);
    b.def_reg(B, next);
    b.def_reg(A, next);
    let pending = b.poll();
    b.brif(pending, leave, exit);
    b.switch_to_block(leave);
    b.exit_resuming(head, 0x1000);
    b.switch_to_block(exit);
    b.exit_to(0x2000);
    let f = b.finish();
    verify_function(&f).unwrap();
    let text = print_function(&f);
    let block = |name: &str| -> String {
        let start = text.find(&format!("{name}:")).expect("block printed");
        let rest = &text[start..];
        let end = rest[1..].find("\nblock").map_or(rest.len(), |e| e + 1);
        rest[..end].to_string()
    };
    let leave_text = block(&format!("{leave}"));
    assert!(leave_text.contains("write_reg.i64 %a"), "{text}");
    assert!(!leave_text.contains("write_reg.i64 %b"), "{text}");
    let exit_text = block(&format!("{exit}"));
    assert!(exit_text.contains("write_reg.i64 %b"), "{text}");
}

#[test]
fn helper_calls_are_sync_points() {
    let mut b = FunctionBuilder::new("sys", 0x1000, regs());
    let seven = b.iconst(Type::I64, 7);
    b.def_reg(A, seven);
    b.call_helper(vmtrans_ir::Helper::Syscall, &[]);
    let a = b.use_reg(A);
    let one = b.iconst(Type::I64, 1);
    let a1 = b.iadd(a, one);
    b.def_reg(A, a1);
    b.exit_to(0x1004);
    let f = b.finish();
    verify_function(&f).unwrap();
    let text = print_function(&f);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let call = lines
        .iter()
        .position(|l| l.starts_with("call_helper"))
        .unwrap();
    // `a` is written before the helper and read again after it.
    assert!(lines[call - 1].starts_with("write_reg.i64 %a"), "{text}");
    assert!(lines[call + 1].contains("read_reg.i64 %a"), "{text}");
}

#[test]
fn print_parse_round_trips() {
    let f = loop_function();
    let text = print_function(&f);
    let again = parse_function(&text, regs()).expect("parses");
    verify_function(&again).unwrap();
    assert_eq!(print_function(&again), text);
}

const MODULE: &str = "\
regfile demo {
    x:i64 y:i64 v:v128 flag:i1
}

function \"weird name!\" @0x400 {
block0 @0x400:
    v0 = read_reg.i64 %x
    v1 = read_reg.v128 %v
    v2 = viadd.i32 v1, v1
    v3 = vextract.i32 3, v2
    v4 = vshuffle.i8 [0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23], v1, v2
    write_reg.v128 %v, v4
    v5 = icmp.i64 eq v0, v0
    v6 = fconst.f64 0x3ff0000000000000
    v7 = fadd.f64 rtz v6, v6
    v8 = atomic_rmw.i64 add v0, v0
    fence
    v9 = call_helper.i64 @read_cycle
    call_helper @syscall
    v10 = uext.i64 v3
    switch v10, block2(v0), [0x1: block1, 0x2: block2(v9)]
block1:
    trap illegal 0x404
block2(v11: i64):
    v12 = iconst.i64 0x408
    call v11, 0x408, block3
block3 @0x408:
    exit v12
}
";

#[test]
fn module_text_round_trips_every_syntax_form() {
    let m = parse_module(MODULE).expect("parses");
    for f in &m.functions {
        verify_function(f).unwrap();
    }
    assert_eq!(print_module(&m), MODULE);
}

#[test]
fn parse_errors_name_the_line() {
    let bad = MODULE.replace("viadd.i32", "vnonsense.i32");
    let e = parse_module(&bad).unwrap_err();
    assert_eq!(e.to_string(), "line 9: unknown op 'vnonsense'");
    let bad = MODULE.replace("%x", "%nosuch");
    let e = parse_module(&bad).unwrap_err();
    assert_eq!(e.to_string(), "line 7: unknown register '%nosuch'");
    let bad = MODULE.replace("exit v12", "exit v99");
    let e = parse_module(&bad).unwrap_err();
    assert_eq!(e.to_string(), "line 28: undefined value 'v99'");
}

fn single_block(build: impl FnOnce(&mut Function, Block)) -> Function {
    let mut f = Function::new("bad", 0x10, regs());
    let b0 = f.add_block();
    build(&mut f, b0);
    f
}

fn push(
    f: &mut Function,
    b: Block,
    op: Opcode,
    ty: Type,
    args: Vec<vmtrans_ir::Value>,
    imm: Imm,
) -> Option<vmtrans_ir::Value> {
    let rt = op.sig().result_type(ty);
    let i = f.create_inst(op, ty, args, imm, rt);
    f.append_inst(b, i);
    f.inst(i).result
}

#[test]
fn verifier_rejects_operand_type_mismatch() {
    let f = single_block(|f, b| {
        let x = push(f, b, Opcode::Iconst, Type::I64, vec![], Imm::Int(1)).unwrap();
        let y = push(f, b, Opcode::Iconst, Type::I32, vec![], Imm::Int(2)).unwrap();
        let s = push(f, b, Opcode::Iadd, Type::I64, vec![x, y], Imm::None).unwrap();
        f.set_terminator(b, Terminator::Exit { pc: s });
    });
    let e = verify_function(&f).unwrap_err();
    assert_eq!(
        e.to_string(),
        "function bad: block0: v2 = iadd.i64 v0, v1: iadd.i64 does not accept operand types (i64, i32)"
    );
}

#[test]
fn verifier_rejects_missing_terminator_and_bad_branch_args() {
    let f = single_block(|_, _| {});
    assert_eq!(
        verify_function(&f).unwrap_err().to_string(),
        "function bad: block0: has no terminator"
    );

    let f = single_block(|f, b| {
        let b1 = f.add_block();
        f.add_block_param(b1, Type::I64);
        f.set_terminator(b, Terminator::Jump(BlockCall::new(b1)));
        f.set_terminator(
            b1,
            Terminator::Trap {
                kind: TrapKind::Illegal,
                pc: 0x10,
            },
        );
    });
    assert_eq!(
        verify_function(&f).unwrap_err().to_string(),
        "function bad: block0: jump block1: passes 0 argument(s) to block1, which has 1 parameter(s)"
    );
}

#[test]
fn verifier_rejects_use_not_dominated_by_definition() {
    let f = single_block(|f, b0| {
        let b1 = f.add_block();
        let b2 = f.add_block();
        let b3 = f.add_block();
        let c = push(f, b0, Opcode::Iconst, Type::I1, vec![], Imm::Int(1)).unwrap();
        f.set_terminator(
            b0,
            Terminator::Brif {
                cond: c,
                then_dest: BlockCall::new(b1),
                else_dest: BlockCall::new(b2),
            },
        );
        let x = push(f, b1, Opcode::Iconst, Type::I64, vec![], Imm::Int(5)).unwrap();
        f.set_terminator(b1, Terminator::Jump(BlockCall::new(b3)));
        f.set_terminator(b2, Terminator::Jump(BlockCall::new(b3)));
        f.set_terminator(b3, Terminator::Exit { pc: x });
    });
    assert_eq!(
        verify_function(&f).unwrap_err().to_string(),
        "function bad: block3: exit v1: uses v1, whose definition does not dominate the use"
    );
}

#[test]
fn verifier_rejects_wrong_register_type_and_bad_immediate() {
    let f = single_block(|f, b| {
        let x = push(f, b, Opcode::ReadReg, Type::I32, vec![], Imm::Reg(A));
        let _ = x;
        f.set_terminator(
            b,
            Terminator::Trap {
                kind: TrapKind::Illegal,
                pc: 0,
            },
        );
    });
    assert_eq!(
        verify_function(&f).unwrap_err().to_string(),
        "function bad: block0: v0 = read_reg.i32 %a: register %a is i64, accessed as i32"
    );
    let f = single_block(|f, b| {
        push(f, b, Opcode::Iconst, Type::I8, vec![], Imm::Int(0x1ff));
        f.set_terminator(
            b,
            Terminator::Trap {
                kind: TrapKind::Illegal,
                pc: 0,
            },
        );
    });
    assert!(verify_function(&f)
        .unwrap_err()
        .to_string()
        .ends_with("iconst.i8 does not accept operand types () (or the immediate does not fit)"));
}

#[test]
fn verifier_rejects_branch_to_entry() {
    let f = single_block(|f, b| {
        f.set_terminator(b, Terminator::Jump(BlockCall::new(b)));
    });
    assert_eq!(
        verify_function(&f).unwrap_err().to_string(),
        "function bad: block0: the entry block has predecessors"
    );
}

#[test]
fn unreachable_self_loops_get_valid_ssa() {
    // block1 is unreachable and its own only predecessor; it calls a helper.
    let mut b = FunctionBuilder::new("selfloop", 0x10, regs());
    let exit = b.create_block();
    let lonely = b.create_block();
    let one = b.iconst(Type::I64, 1);
    b.def_reg(A, one);
    b.jump(exit, &[]);
    b.switch_to_block(lonely);
    b.call_helper(vmtrans_ir::Helper::Syscall, &[]);
    let a = b.use_reg(A);
    let c = b.icmp(IntCC::Eq, a, one);
    b.brif(c, lonely, exit);
    b.switch_to_block(exit);
    b.exit_to(0x20);
    let f = b.finish();
    verify_function(&f).unwrap_or_else(|e| panic!("{e}\n{}", print_function(&f)));
}
