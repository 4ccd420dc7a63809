//! Interpreter tests: execution, effects, errors, and op semantics through
//! [`eval_pure`].

use std::sync::Arc;

use super::*;
use crate::builder::FunctionBuilder;
use crate::function::GuestReg;
use crate::ops::{AtomicOp, FloatCC, IntCC, RoundingMode};

fn regs() -> Arc<RegFile> {
    Arc::new(RegFile::new(
        "test",
        [
            ("a".to_string(), Type::I64),
            ("b".to_string(), Type::I64),
            ("f".to_string(), Type::F64),
            ("c".to_string(), Type::I1),
        ],
    ))
}

const A: GuestReg = GuestReg(0);
const B: GuestReg = GuestReg(1);

/// An environment that counts cycles, implements `fp_set_rounding` and
/// answers calls by returning `target + 4`.
#[derive(Default)]
struct TestEnv {
    cycles: u64,
}

impl Env for TestEnv {
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        match h {
            Helper::ReadCycle => {
                self.cycles += 10;
                Ok(Some(self.cycles.into()))
            }
            Helper::FpSetRounding => {
                state.dyn_rm = RoundingMode::from_number(args[0] as u32).unwrap();
                Ok(None)
            }
            Helper::Syscall => {
                state.regs[0] = state.regs[0].wrapping_add(100);
                Ok(None)
            }
            other => Err(InterpError::Unsupported(format!("no {}", other.name()))),
        }
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        state.regs[1] = u128::from(target);
        Ok(target + 4)
    }
}

fn run_simple(f: &Function, state: &mut GuestState) -> Result<Outcome, InterpError> {
    let mut mem = SparseMemory::new();
    run(f, state, &mut mem, &mut TestEnv::default(), 1000)
}

#[test]
fn loop_with_block_params_sums() {
    // a = sum of 1..=b, exit at 0x40.
    let mut fb = FunctionBuilder::new("sum", 0x1000, regs());
    let head = fb.create_block();
    let body = fb.create_block();
    let done = fb.create_block();
    fb.jump(head, &[]);
    fb.switch_to_block(head);
    let n = fb.use_reg(B);
    let zero = fb.iconst(Type::I64, 0);
    let more = fb.icmp(IntCC::Ne, n, zero);
    fb.brif(more, body, done);
    fb.switch_to_block(body);
    let (acc, n) = (fb.use_reg(A), fb.use_reg(B));
    let acc = fb.iadd(acc, n);
    let one = fb.iconst(Type::I64, 1);
    let n = fb.isub(n, one);
    fb.def_reg(A, acc);
    fb.def_reg(B, n);
    fb.jump(head, &[]);
    fb.switch_to_block(done);
    fb.exit_to(0x40);
    let f = fb.finish();
    crate::verify::verify_function(&f).unwrap();
    let mut st = GuestState::new(&f.regs);
    st.regs[1] = 10;
    assert_eq!(run_simple(&f, &mut st), Ok(Outcome::Exit(0x40)));
    assert_eq!(st.regs[0], 55);
    assert_eq!(st.regs[1], 0);
}

#[test]
fn fuel_runs_out_with_a_location() {
    let mut fb = FunctionBuilder::new("spin", 0, regs());
    let l = fb.create_block();
    fb.jump(l, &[]);
    fb.switch_to_block(l);
    fb.jump(l, &[]);
    let f = fb.finish();
    let err = run_simple(&f, &mut GuestState::new(&f.regs)).unwrap_err();
    assert!(matches!(err, InterpError::OutOfFuel { .. }));
    assert_eq!(
        err.to_string(),
        "function spin: block1: terminator: out of fuel"
    );
}

#[test]
fn memory_faults_name_the_access() {
    let mut fb = FunctionBuilder::new("ld", 0, regs());
    let addr = fb.iconst(Type::I64, 0x2000);
    let v = fb.load(Type::I32, addr);
    let v = fb.uext(Type::I64, v);
    fb.def_reg(A, v);
    fb.exit_to(0);
    let f = fb.finish();
    let mut mem = SparseMemory::with_region(0x1000..0x2002);
    let mut st = GuestState::new(&f.regs);
    let err = run(&f, &mut st, &mut mem, &mut NoEnv, 100).unwrap_err();
    let InterpError::Memory { fault, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(fault.addr, 0x2000);
    assert!(err.to_string().contains("load.i32"), "{err}");
    assert!(
        err.to_string().contains("read of 4 byte(s) at 0x2000"),
        "{err}"
    );
}

#[test]
fn loads_stores_and_atomics() {
    let mut fb = FunctionBuilder::new("mem", 0, regs());
    let addr = fb.iconst(Type::I64, 0x100);
    let v = fb.iconst(Type::I32, 0x8000_0001);
    fb.store(addr, v);
    let five = fb.iconst(Type::I32, 5);
    let old = fb.atomic_rmw(AtomicOp::Add, addr, five);
    let old64 = fb.sext(Type::I64, old);
    fb.def_reg(A, old64);
    let expect = fb.iconst(Type::I32, 0x8000_0006);
    let new = fb.iconst(Type::I32, 7);
    let seen = fb.atomic_cas(addr, expect, new);
    let seen64 = fb.uext(Type::I64, seen);
    fb.def_reg(B, seen64);
    fb.fence();
    let byte = fb.load(Type::I8, addr);
    let b = fb.uext(Type::I64, byte);
    fb.exit(b);
    let f = fb.finish();
    let mut mem = SparseMemory::new();
    let mut st = GuestState::new(&f.regs);
    let out = run(&f, &mut st, &mut mem, &mut NoEnv, 100).unwrap();
    assert_eq!(out, Outcome::Exit(7));
    assert_eq!(st.regs[0], 0xffff_ffff_8000_0001);
    assert_eq!(st.regs[1], 0x8000_0006);
    assert_eq!(mem.load(0x100, 4).unwrap(), 7);
}

#[test]
fn helpers_and_dynamic_rounding() {
    let mut fb = FunctionBuilder::new("fp", 0, regs());
    let rup = fb.iconst(Type::I32, i128::from(RoundingMode::Rup.number()));
    fb.call_helper(Helper::FpSetRounding, &[rup]);
    let one = fb.fconst(Type::F64, 1f64.to_bits());
    let three = fb.fconst(Type::F64, 3f64.to_bits());
    let q = fb.fdiv(RoundingMode::Dyn, one, three);
    fb.def_reg(GuestReg(2), q);
    let c = fb.call_helper(Helper::ReadCycle, &[]).unwrap();
    fb.exit(c);
    let f = fb.finish();
    let mut st = GuestState::new(&f.regs);
    assert_eq!(run_simple(&f, &mut st), Ok(Outcome::Exit(10)));
    assert_eq!(st.regs[2], u128::from((1f64 / 3.0).next_up().to_bits()));
    let err = run(
        &f,
        &mut GuestState::new(&f.regs),
        &mut SparseMemory::new(),
        &mut NoEnv,
        100,
    )
    .unwrap_err();
    assert!(matches!(err, InterpError::Env { .. }));
    assert!(err.to_string().contains("fp_set_rounding"), "{err}");
}

#[test]
fn guest_calls_continue_or_exit() {
    for (target, want) in [
        (0x500u64, Outcome::Return(0x99)),
        (0x600, Outcome::Exit(0x604)),
    ] {
        let mut fb = FunctionBuilder::new("caller", 0, regs());
        let cont = fb.create_block();
        let t = fb.iconst(Type::I64, i128::from(target));
        fb.call(t, 0x504, cont);
        fb.switch_to_block(cont);
        let pc = fb.iconst(Type::I64, 0x99);
        fb.ret(pc);
        let f = fb.finish();
        let mut st = GuestState::new(&f.regs);
        assert_eq!(run_simple(&f, &mut st), Ok(want));
        assert_eq!(st.regs[1], u128::from(target));
    }
}

#[test]
fn traps_and_switches() {
    let mut fb = FunctionBuilder::new("sw", 0, regs());
    let (b1, b2, b3) = (fb.create_block(), fb.create_block(), fb.create_block());
    let a = fb.use_reg(A);
    fb.switch(a, &[(1, b1), (2, b2)], b3);
    fb.switch_to_block(b1);
    fb.trap(TrapKind::DivideError, 0x10);
    fb.switch_to_block(b2);
    fb.exit_to(0x20);
    fb.switch_to_block(b3);
    fb.exit_to(0x30);
    let f = fb.finish();
    for (a, want) in [
        (1, Outcome::Trap(TrapKind::DivideError, 0x10)),
        (2, Outcome::Exit(0x20)),
        (3, Outcome::Exit(0x30)),
    ] {
        let mut st = GuestState::new(&f.regs);
        st.regs[0] = a;
        assert_eq!(run_simple(&f, &mut st), Ok(want));
    }
}

fn ev(op: Opcode, ty: Type, imm: Imm, args: &[u128], types: &[Type]) -> Option<u128> {
    eval_pure(op, ty, &imm, args, types)
}

#[test]
fn eval_pure_covers_scalar_families() {
    use Type::*;
    let n = Imm::None;
    assert_eq!(ev(Opcode::Iadd, I8, n, &[0xff, 2], &[I8, I8]), Some(1));
    assert_eq!(ev(Opcode::Ishl, I32, n, &[1, 35], &[I32, I8]), Some(8));
    assert_eq!(
        ev(Opcode::Sext, I64, n, &[0x80], &[I8]),
        Some(0xffff_ffff_ffff_ff80)
    );
    assert_eq!(ev(Opcode::Uext, I64, n, &[0x80], &[I8]), Some(0x80));
    assert_eq!(ev(Opcode::Ireduce, I8, n, &[0x1234], &[I32]), Some(0x34));
    assert_eq!(
        ev(Opcode::Select, I32, n, &[0, 1, 2], &[I1, I32, I32]),
        Some(2)
    );
    let cc = Imm::Cc(IntCC::Slt);
    assert_eq!(
        ev(Opcode::Icmp, I16, cc, &[0x8000, 0], &[I16, I16]),
        Some(1)
    );
    let two = 2f32.to_bits().into();
    assert_eq!(ev(Opcode::Bitcast, I32, n, &[two], &[F32]), Some(two));
    let rne = Imm::Rm(RoundingMode::Rne);
    let dy = Imm::Rm(RoundingMode::Dyn);
    let one = 1f64.to_bits().into();
    assert_eq!(
        ev(Opcode::Fadd, F64, rne, &[one, one], &[F64, F64]),
        Some(2f64.to_bits().into())
    );
    assert_eq!(ev(Opcode::Fadd, F64, dy, &[one, one], &[F64, F64]), None);
    assert_eq!(
        ev(Opcode::Fconvert, F32, rne, &[one], &[F64]),
        Some(1f32.to_bits().into())
    );
    let m = (-2.5f64).to_bits().into();
    assert_eq!(
        ev(Opcode::FcvtToSint, I32, n, &[m], &[F64]),
        Some(0xffff_fffe)
    );
    assert_eq!(
        ev(Opcode::FcvtFromUint, F64, rne, &[3], &[I8]),
        Some(3f64.to_bits().into())
    );
    let f = Imm::Fcc(FloatCC::Lt);
    assert_eq!(ev(Opcode::Fcmp, F64, f, &[m, one], &[F64, F64]), Some(1));
    assert_eq!(ev(Opcode::Fclass, F64, n, &[one], &[F64]), Some(1 << 6));
    assert_eq!(ev(Opcode::Load, I64, n, &[0], &[I64]), None);
    assert_eq!(ev(Opcode::Iadd, I8, n, &[1], &[I8]), None, "wrong arity");
    assert_eq!(
        ev(Opcode::Fadd, I32, rne, &[1, 1], &[I32, I32]),
        None,
        "not a float type"
    );
}

#[test]
fn eval_pure_vector_ops() {
    use vector::{from_lanes, lane};
    use Type::*;
    let n = Imm::None;
    let v = |lanes: &[u128], w| from_lanes(w, lanes.iter().copied());
    let x = v(&[1, 0xffff_ffff, 3, 0x8000_0000], 32);
    let y = v(&[1, 1, 1, 1], 32);
    let vv = [V128, V128];
    let add = ev(Opcode::Viadd, I32, n, &[x, y], &vv).unwrap();
    assert_eq!(add, v(&[2, 0, 4, 0x8000_0001], 32));
    let abs = ev(Opcode::Viabs, I32, n, &[x], &[V128]).unwrap();
    assert_eq!(abs, v(&[1, 1, 3, 0x8000_0000], 32));
    let lt = ev(Opcode::Vicmp, I32, Imm::Cc(IntCC::Slt), &[x, y], &vv).unwrap();
    assert_eq!(lt, v(&[0, 0xffff_ffff, 0, 0xffff_ffff], 32));
    let sh = ev(Opcode::Vsshr, I32, n, &[x, 40], &[V128, I8]).unwrap();
    assert_eq!(sh, v(&[0, 0xffff_ffff, 0, 0xffff_ffff], 32));
    let ext = ev(Opcode::Vextract, I32, Imm::Lane(3), &[x], &[V128]).unwrap();
    assert_eq!(ext, 0x8000_0000);
    assert_eq!(ev(Opcode::Vextract, I32, Imm::Lane(4), &[x], &[V128]), None);
    let ins = ev(
        Opcode::Vinsert,
        I16,
        Imm::Lane(1),
        &[0, 0xbeef],
        &[V128, I16],
    )
    .unwrap();
    assert_eq!(ins, 0xbeef_0000);
    let red = ev(Opcode::VreduceSmin, I32, n, &[x], &[V128]).unwrap();
    assert_eq!(red, 0x8000_0000);
    let fl = |a: f32| u128::from(a.to_bits());
    let fx = v(&[fl(1.0), fl(-0.0), fl(f32::NAN), fl(4.0)], 32);
    let fy = v(&[fl(2.0), fl(0.0), fl(1.0), fl(-4.0)], 32);
    let mn = ev(Opcode::Vfmin, F32, n, &[fx, fy], &vv).unwrap();
    assert_eq!(lane(mn, 32, 0), fl(1.0));
    assert_eq!(lane(mn, 32, 1), fl(-0.0));
    assert_eq!(lane(mn, 32, 2), fl(f32::NAN));
    assert_eq!(lane(mn, 32, 3), fl(-4.0));
    let mnn = ev(Opcode::Vfminnum, F32, n, &[fx, fy], &vv).unwrap();
    assert_eq!(lane(mnn, 32, 2), fl(1.0));
    assert_eq!(
        ev(Opcode::Vfadd, F32, n, &[fx, fy], &vv),
        None,
        "dynamic rounding"
    );
    let eq = ev(Opcode::Vfcmp, F32, Imm::Fcc(FloatCC::Eq), &[fx, fy], &vv).unwrap();
    assert_eq!(eq, v(&[0, u128::from(u32::MAX), 0, 0], 32));
    let neg = ev(Opcode::Vfneg, F32, n, &[fx], &[V128]).unwrap();
    assert_eq!(lane(neg, 32, 1), fl(0.0));
    let to = ev(Opcode::VfcvtToSint, F32, n, &[fx], &[V128]).unwrap();
    assert_eq!(to, v(&[1, 0, 0, 4], 32));
    let sp = ev(Opcode::Vsplat, I8, n, &[0xab], &[I8]).unwrap();
    assert_eq!(sp, u128::from_le_bytes([0xab; 16]));
    let sel = ev(Opcode::Vbitselect, I8, n, &[0xff, 0x12, 0x3400], &[V128; 3]).unwrap();
    assert_eq!(sel, 0x3412);
    let w = ev(
        Opcode::VswidenLo,
        I16,
        n,
        &[v(&[0x8000, 2, 0, 0, 0, 0, 0, 0], 16)],
        &[V128],
    );
    assert_eq!(w, Some(v(&[0xffff_8000, 2, 0, 0], 32)));
    let nar = ev(
        Opcode::VnarrowUsat,
        I16,
        n,
        &[v(&[300, 0xffff], 16), 0],
        &vv,
    )
    .unwrap();
    assert_eq!(nar & 0xffff, 0x00ff);
    assert_eq!(ev(Opcode::VnarrowTrunc, I8, n, &[0, 0], &vv), None);
    let avg = ev(Opcode::Vuavg, I8, n, &[3, 4], &vv).unwrap();
    assert_eq!(avg & 0xff, 4);
    let pc = ev(Opcode::Vpopcnt, I64, n, &[u128::MAX], &[V128]).unwrap();
    assert_eq!(pc, v(&[64, 64], 64));
}

#[test]
fn effects_are_classified() {
    assert_eq!(effect_of(Opcode::Iadd), None);
    assert_eq!(effect_of(Opcode::Load), Some(Effect::Load));
    assert!(Effect::Load.has_side_effects(), "a dead load may fault");
    assert!(!Effect::ReadReg.has_side_effects());
    assert!(Effect::Store.has_side_effects());
    assert!(Effect::Helper.has_side_effects());
    for &op in Opcode::ALL {
        let pure_result = eval_pure(op, Type::I64, &Imm::None, &[], &[]);
        if effect_of(op).is_some() {
            assert_eq!(pure_result, None, "{op}");
        }
    }
}
