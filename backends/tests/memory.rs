//! Guest memory, guest registers and atomics, JIT against the interpreter:
//! loads and stores of every type at unaligned addresses, every atomic
//! read-modify-write at every width, compare-and-swap hitting and missing,
//! and register reads and writes at the contract's offsets.

mod common;

use common::*;
use proptest::prelude::*;
use vmtrans_abi::{reg_offset, Arch};
use vmtrans_ir::{AtomicOp, Function, GuestReg, Imm, Opcode, Terminator, Type};

const MEM: usize = 256;

fn finish(f: &mut Function, b: vmtrans_ir::Block) {
    let pc = iconst64(f, b, 0x3000);
    f.set_terminator(b, Terminator::Exit { pc });
}

/// Copies a `ty` from `src` to `dst` through a load and a store.
fn copy_function(ty: Type, src: u64, dst: u64) -> Function {
    let mut f = Function::new(format!("copy.{ty}"), 0x1000, typed_regs());
    let b = f.add_block();
    let a = iconst64(&mut f, b, src);
    let v = ins(&mut f, b, Opcode::Load, ty, &[a], Imm::None).unwrap();
    let d = iconst64(&mut f, b, dst);
    ins(&mut f, b, Opcode::Store, ty, &[d, v], Imm::None);
    finish(&mut f, b);
    f
}

/// `old = atomic_rmw.op.ty [addr], [16]`; old stored at 200.
fn rmw_function(op: AtomicOp, ty: Type, addr: u64) -> Function {
    let mut f = Function::new(format!("rmw.{op}.{ty}"), 0x1000, typed_regs());
    let b = f.add_block();
    let xa = iconst64(&mut f, b, 16);
    let x = ins(&mut f, b, Opcode::Load, ty, &[xa], Imm::None).unwrap();
    let a = iconst64(&mut f, b, addr);
    let old = ins(&mut f, b, Opcode::AtomicRmw, ty, &[a, x], Imm::Atomic(op)).unwrap();
    ins(&mut f, b, Opcode::Fence, Type::I64, &[], Imm::None);
    let out = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, ty, &[out, old], Imm::None);
    finish(&mut f, b);
    f
}

/// `old = atomic_cas.ty [addr], [16], [32]`; old stored at 200.
fn cas_function(ty: Type, addr: u64) -> Function {
    let mut f = Function::new(format!("cas.{ty}"), 0x1000, typed_regs());
    let b = f.add_block();
    let ea = iconst64(&mut f, b, 16);
    let e = ins(&mut f, b, Opcode::Load, ty, &[ea], Imm::None).unwrap();
    let na = iconst64(&mut f, b, 32);
    let n = ins(&mut f, b, Opcode::Load, ty, &[na], Imm::None).unwrap();
    let a = iconst64(&mut f, b, addr);
    let old = ins(&mut f, b, Opcode::AtomicCas, ty, &[a, e, n], Imm::None).unwrap();
    let out = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, ty, &[out, old], Imm::None);
    finish(&mut f, b);
    f
}

fn random_mem(seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..MEM)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn loads_and_stores_of_every_type_at_any_alignment() {
    let mut jit = jit();
    for ty in Type::ALL {
        for (src, dst) in [(0, 100), (1, 101), (3, 77), (7, 129), (15, 200), (33, 64)] {
            let f = copy_function(ty, src, dst);
            differential(&mut jit, &f, &[], &random_mem(src * 31 + dst));
        }
    }
}

/// Loads a `from` at `src`, extends it (`op`: `uext` or `sext`) to `to`
/// and stores the result at 200: the load is emitted as one extending
/// access.
fn extending_load_function(op: Opcode, from: Type, to: Type, src: u64) -> Function {
    let mut f = Function::new(format!("{op}.{from}.{to}"), 0x1000, typed_regs());
    let b = f.add_block();
    let a = iconst64(&mut f, b, src);
    let v = ins(&mut f, b, Opcode::Load, from, &[a], Imm::None).unwrap();
    let x = ins(&mut f, b, op, to, &[v], Imm::None).unwrap();
    let d = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, to, &[d, x], Imm::None);
    finish(&mut f, b);
    f
}

#[test]
fn extending_loads_match_a_load_then_an_extension() {
    let mut jit = jit();
    let forms = [
        (Type::I8, Type::I32),
        (Type::I8, Type::I64),
        (Type::I16, Type::I32),
        (Type::I16, Type::I64),
        (Type::I32, Type::I64),
    ];
    for op in [Opcode::Uext, Opcode::Sext] {
        for (from, to) in forms {
            for src in [0, 3, 17, 101] {
                let f = extending_load_function(op, from, to, src);
                // Seeds give bytes with the top bit both set and clear.
                for seed in 1..5 {
                    differential(&mut jit, &f, &[], &random_mem(seed * 131 + src));
                }
            }
        }
    }
}

#[test]
fn every_atomic_op_at_every_width() {
    let mut jit = jit();
    let ints = [Type::I8, Type::I16, Type::I32, Type::I64, Type::I128];
    for &op in AtomicOp::ALL {
        for ty in ints {
            for addr in [48, 64, 96] {
                let f = rmw_function(op, ty, addr);
                for seed in 1..6 {
                    differential(&mut jit, &f, &[], &random_mem(seed * 977 + addr));
                }
            }
        }
    }
}

#[test]
fn compare_and_swap_hits_and_misses() {
    let mut jit = jit();
    for ty in [Type::I8, Type::I16, Type::I32, Type::I64, Type::I128] {
        let f = cas_function(ty, 64);
        let n = ty.bytes() as usize;
        for seed in 1..8 {
            let mut mem = random_mem(seed);
            if seed % 2 == 0 {
                // expected == current: the swap happens
                let cur = mem[64..64 + n].to_vec();
                mem[16..16 + n].copy_from_slice(&cur);
            }
            differential(&mut jit, &f, &[], &mem);
        }
    }
}

#[test]
fn guest_addresses_are_masked_to_the_guest_space() {
    // Address bits above GUEST_ADDR_BITS are ignored (aarch64 top byte).
    let mut jit = jit();
    let f = copy_function(Type::I64, 0xff00_0000_0000_0008, 0x0100_0000_0000_0040);
    let code = jit.compile(&f).unwrap();
    let mut m = Machine::with_mem(typed_regs(), MEM);
    m.mem[8..16].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    m.run(code);
    assert_eq!(m.mem[0x40..0x48], 0x1122_3344_5566_7788u64.to_le_bytes());
}

/// Copies an i64 from `src + disp` to `dst + disp`, each address an `iadd`
/// of a constant displacement (which the backend keeps out of the mask).
/// With `steps` of 2 or more the displacement is added in that many
/// `iadd`s (a pointer bumped, then accessed off the bumped value).
fn displaced_copy_function(src: u64, dst: u64, disp: i64, steps: u64) -> Function {
    let mut f = Function::new("copy.disp", 0x1000, typed_regs());
    let b = f.add_block();
    let displaced = |f: &mut Function, base: u64| {
        let mut x = iconst64(f, b, base);
        let part = 0x30u64;
        for i in 0..steps {
            let c = if i + 1 == steps {
                (disp as u64).wrapping_sub(part * (steps - 1))
            } else {
                part
            };
            let c = iconst64(f, b, c);
            x = ins(f, b, Opcode::Iadd, Type::I64, &[x, c], Imm::None).unwrap();
        }
        x
    };
    let a = displaced(&mut f, src);
    let v = ins(&mut f, b, Opcode::Load, Type::I64, &[a], Imm::None).unwrap();
    let d = displaced(&mut f, dst);
    ins(&mut f, b, Opcode::Store, Type::I64, &[d, v], Imm::None);
    finish(&mut f, b);
    f
}

#[test]
fn displacements_apply_after_the_mask() {
    // Tagged bases with negative and positive displacements reach the
    // same guest bytes as the masked sums do.
    let mut jit = jit();
    let cases = [
        (0xff00_0000_0000_0048u64, 0x0100_0000_0000_0080u64, -0x40i64),
        (0x0000_0000_0000_0000, 0x5a00_0000_0000_0000, 0x40),
        (0x0000_0000_0000_0010, 0x0000_0000_0000_00a0, 0x10),
    ];
    for ((src, dst, disp), steps) in cases.into_iter().flat_map(|c| [(c, 1), (c, 3)]) {
        let f = displaced_copy_function(src, dst, disp, steps);
        let code = jit.compile(&f).unwrap();
        let mut m = Machine::with_mem(typed_regs(), MEM);
        let at = |base: u64| (base.wrapping_add(disp as u64) & 0xff) as usize;
        let value = 0x1122_3344_5566_7788u64.to_le_bytes();
        m.mem[at(src)..at(src) + 8].copy_from_slice(&value);
        m.run(code);
        assert_eq!(
            m.mem[at(dst)..at(dst) + 8],
            value,
            "{src:#x} {dst:#x} {disp} in {steps} additions"
        );
    }
}

/// Finishes a table lookup: loads the i32 at `0x40 + (idx << 2)` and
/// stores it at 200.
fn look_up_and_store(mut f: Function, b: vmtrans_ir::Block, idx: vmtrans_ir::Value) -> Function {
    let two = iconst64(&mut f, b, 2);
    let scaled = ins(&mut f, b, Opcode::Ishl, Type::I64, &[idx, two], Imm::None).unwrap();
    let table = iconst64(&mut f, b, 0x40);
    let args = [scaled, table];
    let addr = ins(&mut f, b, Opcode::Iadd, Type::I64, &args, Imm::None).unwrap();
    let v = ins(&mut f, b, Opcode::Load, Type::I32, &[addr], Imm::None).unwrap();
    let out = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, Type::I32, &[out, v], Imm::None);
    finish(&mut f, b);
    f
}

/// Loads the byte at 8, uses it as an index into a table of i32 at 0x40
/// (`0x40 + (uext byte << 2)`: an address known to be inside the guest
/// space, accessed unmasked) and stores the entry at 200.
fn table_lookup_function() -> Function {
    let mut f = Function::new("table", 0x1000, typed_regs());
    let b = f.add_block();
    let at = iconst64(&mut f, b, 8);
    let byte = ins(&mut f, b, Opcode::Load, Type::I8, &[at], Imm::None).unwrap();
    let low = ins(&mut f, b, Opcode::Band, Type::I8, &[byte, byte], Imm::None).unwrap();
    let mask = ins(&mut f, b, Opcode::Iconst, Type::I8, &[], Imm::Int(0x1f)).unwrap();
    let idx8 = ins(&mut f, b, Opcode::Band, Type::I8, &[low, mask], Imm::None).unwrap();
    let idx = ins(&mut f, b, Opcode::Uext, Type::I64, &[idx8], Imm::None).unwrap();
    look_up_and_store(f, b, idx)
}

#[test]
fn bounded_table_indices_reach_the_same_entries() {
    let mut jit = jit();
    let f = table_lookup_function();
    for seed in 1..16 {
        differential(&mut jit, &f, &[], &random_mem(seed * 7919));
    }
}

/// Like [`table_lookup_function`], with the index as a guest's 32-bit
/// shift computes it: `sext.i64(ushr.i32(ireduce.i32([8]), 27))`, whose
/// top bit is clear, so the address is again known to be in the guest
/// space.
fn shifted_table_lookup_function() -> Function {
    let mut f = Function::new("table_shifted", 0x1000, typed_regs());
    let b = f.add_block();
    let at = iconst64(&mut f, b, 8);
    let word = ins(&mut f, b, Opcode::Load, Type::I64, &[at], Imm::None).unwrap();
    let low = ins(&mut f, b, Opcode::Ireduce, Type::I32, &[word], Imm::None).unwrap();
    let k = ins(&mut f, b, Opcode::Iconst, Type::I32, &[], Imm::Int(27)).unwrap();
    let top = ins(&mut f, b, Opcode::Ushr, Type::I32, &[low, k], Imm::None).unwrap();
    let idx = ins(&mut f, b, Opcode::Sext, Type::I64, &[top], Imm::None).unwrap();
    look_up_and_store(f, b, idx)
}

#[test]
fn shifted_and_sign_extended_table_indices_reach_the_same_entries() {
    let mut jit = jit();
    let f = shifted_table_lookup_function();
    for seed in 1..16 {
        differential(&mut jit, &f, &[], &random_mem(seed * 6151));
    }
}

/// Reads every register of the typed file, adds one (integers) or passes it
/// through, and writes it to memory and back to the register file.
fn register_function() -> Function {
    let regs = typed_regs();
    let mut f = Function::new("regs", 0x1000, regs.clone());
    let b = f.add_block();
    for (i, desc) in regs.regs.iter().enumerate() {
        let r = GuestReg(i as u16);
        let v = ins(&mut f, b, Opcode::ReadReg, desc.ty, &[], Imm::Reg(r)).unwrap();
        let a = iconst64(&mut f, b, i as u64 * 16);
        ins(&mut f, b, Opcode::Store, desc.ty, &[a, v], Imm::None);
        let n = ins(&mut f, b, Opcode::Load, desc.ty, &[a], Imm::None).unwrap();
        let n = if desc.ty.is_int() {
            let one = ins(&mut f, b, Opcode::Iconst, desc.ty, &[], Imm::Int(1)).unwrap();
            ins(&mut f, b, Opcode::Iadd, desc.ty, &[n, one], Imm::None).unwrap()
        } else {
            n
        };
        ins(&mut f, b, Opcode::WriteReg, desc.ty, &[n], Imm::Reg(r));
    }
    finish(&mut f, b);
    f
}

#[test]
fn registers_of_every_type_round_trip() {
    let mut jit = jit();
    let f = register_function();
    for seed in 1..6u64 {
        let regs: Vec<u128> = (0..f.regs.len() as u64)
            .map(|i| {
                u128::from(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i) << (seed * 7 % 64) | 1
            })
            .collect();
        differential(&mut jit, &f, &regs, &random_mem(seed));
    }
}

#[test]
fn riscv64_registers_live_at_the_contract_offsets() {
    let text = "function regs @0x1000 {
block0:
    v0 = read_reg.i64 %a0
    v1 = read_reg.i64 %fa1
    v2 = iadd.i64 v0, v1
    write_reg.i64 %s11, v2
    v3 = read_reg.i32 %fflags
    v4 = iconst.i32 0x10
    v5 = bor.i32 v3, v4
    write_reg.i32 %fflags, v5
    v6 = read_reg.i64 %res_val
    write_reg.i64 %pc, v6
    v7 = iconst.i64 0x2000
    exit v7
}";
    let f = vmtrans_ir::parse::parse_function(text, riscv_regs()).unwrap();
    let code = jit().compile(&f).unwrap();
    let mut m = Machine::new(riscv_regs());
    let index = |name: &str| riscv_regs().by_name(name).unwrap().index();
    m.set_reg(index("a0"), 40);
    m.set_reg(index("fa1"), 2);
    m.set_reg(index("fflags"), 1);
    m.set_reg(index("res_val"), 0xabc);
    assert_eq!(m.run(code), (vmtrans_abi::exit::JUMP, 0x2000));
    assert_eq!(m.reg(index("s11")), 42);
    assert_eq!(m.reg(index("fflags")), 0x11);
    assert_eq!(m.reg(index("pc")), 0xabc);
    // And the offsets are the contract's, byte for byte.
    let off = reg_offset(Arch::Riscv64, index("s11"));
    assert_eq!(m.header(off), 42);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random type, addresses and memory contents for a load/store pair.
    #[test]
    fn random_copies_match(ty_i in 0usize..9, src in 0u64..200, dst in 0u64..200, seed: u64) {
        let ty = Type::ALL[ty_i];
        let f = copy_function(ty, src, dst);
        differential(&mut jit(), &f, &[], &random_mem(seed));
    }
}

#[test]
fn jit_code_maps_back_to_guest_addresses() {
    use vmtrans_ir::FunctionBuilder;
    let mut b = FunctionBuilder::new("srcloc", 0x1000, typed_regs());
    b.set_srcloc(Some(0x1000));
    let a = b.iconst(Type::I64, 8);
    b.set_srcloc(Some(0x1004));
    let v = b.load(Type::I64, a);
    b.set_srcloc(Some(0x1008));
    let one = b.iconst(Type::I64, 1);
    let w = b.iadd(v, one);
    b.store(a, w);
    b.set_srcloc(None);
    b.exit_to(0x2000);
    let f = b.finish();
    let info = jit().compile_batch_info(&[f]).unwrap().remove(0);
    assert!(info.size > 0);
    let pcs: Vec<u64> = info.guest_pcs.iter().map(|r| r.2).collect();
    // The load may be folded into the add (then it is attributed to the
    // add's guest address): best effort, never a wrong function.
    assert!(pcs.contains(&0x1008), "{:x?}", info.guest_pcs);
    assert!(pcs.iter().all(|pc| (0x1000..0x100c).contains(pc)));
    for &(start, end, _) in &info.guest_pcs {
        assert!(start < end && end as usize <= info.size);
    }
}

#[test]
fn poll_reads_the_interrupt_word_every_time() {
    // a0 counts down to zero in a loop whose back edge polls; a set
    // interrupt word leaves at the loop head with a0 written back.
    let text = "function countdown @0x1000 {
block0:
    jump block1
block1:
    v0 = read_reg.i64 %a0
    v1 = iconst.i64 1
    v2 = isub.i64 v0, v1
    write_reg.i64 %a0, v2
    v3 = iconst.i64 0
    v4 = icmp.i64 ne v2, v3
    brif v4, block2, block3
block2:
    v5 = poll.i1
    brif v5, block4, block1
block3:
    v6 = iconst.i64 0x2000
    exit v6
block4:
    v7 = iconst.i64 0x1004
    exit v7
}";
    let f = vmtrans_ir::parse::parse_function(text, riscv_regs()).unwrap();
    let code = jit().compile(&f).unwrap();
    let a0 = riscv_regs().by_name("a0").unwrap().index();
    let mut m = Machine::new(riscv_regs());
    m.set_reg(a0, 1000);
    assert_eq!(m.run(code), (vmtrans_abi::exit::JUMP, 0x2000));
    assert_eq!(m.reg(a0), 0);
    m.set_reg(a0, 1000);
    m.set_header(vmtrans_abi::header::INTERRUPT, 1);
    assert_eq!(m.run(code), (vmtrans_abi::exit::JUMP, 0x1004));
    assert_eq!(m.reg(a0), 999, "left at the first back edge");
}

/// A loop of `n` iterations over two tagged pointers: `src` steps up by 16
/// and `dst` down by 8. Each iteration loads `[src]` and `[src + 8]` in the
/// header, stores their sum at `[dst]`, stores a byte at `[src + 3]` only
/// when the sum is odd (an access not made every iteration), and folds
/// the sums into a value stored at 0xf8 after the loop.
fn pointer_walk_function(src: u64, dst: u64, n: u64) -> Function {
    use vmtrans_ir::{BlockCall, IntCC};
    let mut f = Function::new("walk", 0x1000, typed_regs());
    let (entry, header, odd, latch, exit) = (
        f.add_block(),
        f.add_block(),
        f.add_block(),
        f.add_block(),
        f.add_block(),
    );
    let params: Vec<_> = (0..4)
        .map(|_| f.add_block_param(header, Type::I64))
        .collect();
    let (p, q, left, acc) = (params[0], params[1], params[2], params[3]);
    let start = [src, dst, n, 0].map(|v| iconst64(&mut f, entry, v));
    f.set_terminator(
        entry,
        Terminator::Jump(BlockCall {
            block: header,
            args: start.to_vec(),
        }),
    );
    let add = |f: &mut Function, b, x, c: i64| {
        let c = iconst64(f, b, c as u64);
        ins(f, b, Opcode::Iadd, Type::I64, &[x, c], Imm::None).unwrap()
    };
    let lo = ins(&mut f, header, Opcode::Load, Type::I64, &[p], Imm::None).unwrap();
    let at8 = add(&mut f, header, p, 8);
    let hi = ins(&mut f, header, Opcode::Load, Type::I64, &[at8], Imm::None).unwrap();
    let sum = ins(
        &mut f,
        header,
        Opcode::Iadd,
        Type::I64,
        &[lo, hi],
        Imm::None,
    )
    .unwrap();
    ins(
        &mut f,
        header,
        Opcode::Store,
        Type::I64,
        &[q, sum],
        Imm::None,
    );
    let acc2 = ins(
        &mut f,
        header,
        Opcode::Bxor,
        Type::I64,
        &[acc, sum],
        Imm::None,
    )
    .unwrap();
    let one = iconst64(&mut f, header, 1);
    let left2 = ins(
        &mut f,
        header,
        Opcode::Isub,
        Type::I64,
        &[left, one],
        Imm::None,
    )
    .unwrap();
    let bit = ins(
        &mut f,
        header,
        Opcode::Band,
        Type::I64,
        &[sum, one],
        Imm::None,
    )
    .unwrap();
    let is_odd = ins(
        &mut f,
        header,
        Opcode::Icmp,
        Type::I64,
        &[bit, one],
        Imm::Cc(IntCC::Eq),
    );
    f.set_terminator(
        header,
        Terminator::Brif {
            cond: is_odd.unwrap(),
            then_dest: BlockCall::new(odd),
            else_dest: BlockCall::new(latch),
        },
    );
    let at3 = add(&mut f, odd, p, 3);
    let byte = ins(&mut f, odd, Opcode::Ireduce, Type::I8, &[sum], Imm::None).unwrap();
    ins(
        &mut f,
        odd,
        Opcode::Store,
        Type::I8,
        &[at3, byte],
        Imm::None,
    );
    f.set_terminator(odd, Terminator::Jump(BlockCall::new(latch)));
    let next_p = add(&mut f, latch, p, 16);
    let next_q = add(&mut f, latch, q, -8);
    let zero = iconst64(&mut f, latch, 0);
    let more = ins(
        &mut f,
        latch,
        Opcode::Icmp,
        Type::I64,
        &[left2, zero],
        Imm::Cc(IntCC::Ne),
    );
    let out = f.add_block_param(exit, Type::I64);
    f.set_terminator(
        latch,
        Terminator::Brif {
            cond: more.unwrap(),
            then_dest: BlockCall {
                block: header,
                args: vec![next_p, next_q, left2, acc2],
            },
            else_dest: BlockCall {
                block: exit,
                args: vec![acc2],
            },
        },
    );
    let at = iconst64(&mut f, exit, 0xf8);
    ins(
        &mut f,
        exit,
        Opcode::Store,
        Type::I64,
        &[at, out],
        Imm::None,
    );
    finish(&mut f, exit);
    f
}

#[test]
fn pointers_stepping_through_a_loop_reach_the_same_bytes() {
    // The backend carries host pointers beside `src` and `dst`, masked once
    // where the loop is entered. Against the interpreter for every
    // iteration count; tagged pointers (whose tags the masks drop) must
    // write what the untagged ones do.
    let mut jit = jit();
    for n in [1, 2, 7] {
        let plain = pointer_walk_function(0x10, 0xf0, n);
        let tagged = pointer_walk_function(0xff00_0000_0000_0010, 0x5a00_0000_0000_00f0, n);
        tags_change_nothing(&mut jit, &plain, &tagged, &random_mem(n));
    }
}

/// Checks `plain` against the interpreter, and that `tagged` (the same
/// code with tagged addresses, which the interpreter does not take) leaves
/// memory as `plain` does.
fn tags_change_nothing(
    jit: &mut vmtrans_backends::Jit,
    plain: &Function,
    tagged: &Function,
    mem: &[u8],
) {
    differential(jit, plain, &[], mem);
    let mut run = |f: &Function| {
        let code = jit.compile(f).unwrap();
        let mut m = Machine::with_mem(typed_regs(), MEM);
        m.mem.copy_from_slice(mem);
        m.run(code);
        m.mem
    };
    let (expected, got) = (run(plain), run(tagged));
    assert_eq!(got, expected, "{}", tagged.name);
}

/// A loop of `n` iterations indexing two tables from bases defined before
/// it: `i` counts up by 1 and `j` down by 2; each iteration copies the i64
/// at `src + (i << 3)` plus the byte at `src + i + 1` to `dst + (j << 2)`
/// (as an i32).
fn indexed_walk_function(src: u64, dst: u64, n: u64) -> Function {
    use vmtrans_ir::{BlockCall, IntCC};
    let mut f = Function::new("indexed", 0x1000, typed_regs());
    let (entry, header, exit) = (f.add_block(), f.add_block(), f.add_block());
    let i = f.add_block_param(header, Type::I64);
    let j = f.add_block_param(header, Type::I64);
    let src = iconst64(&mut f, entry, src);
    let dst = iconst64(&mut f, entry, dst);
    let start = [0, 2 * n].map(|v| iconst64(&mut f, entry, v));
    f.set_terminator(
        entry,
        Terminator::Jump(BlockCall {
            block: header,
            args: start.to_vec(),
        }),
    );
    let bin = |f: &mut Function, op, ty, a, b| ins(f, header, op, ty, &[a, b], Imm::None).unwrap();
    let k = |f: &mut Function, c: i64| iconst64(f, header, c as u64);
    let three = k(&mut f, 3);
    let scaled = bin(&mut f, Opcode::Ishl, Type::I64, i, three);
    let at = bin(&mut f, Opcode::Iadd, Type::I64, src, scaled);
    let wide = ins(&mut f, header, Opcode::Load, Type::I64, &[at], Imm::None).unwrap();
    let byte_at = bin(&mut f, Opcode::Iadd, Type::I64, i, src);
    let one = k(&mut f, 1);
    let byte_at = bin(&mut f, Opcode::Iadd, Type::I64, byte_at, one);
    let byte = ins(
        &mut f,
        header,
        Opcode::Load,
        Type::I8,
        &[byte_at],
        Imm::None,
    )
    .unwrap();
    let byte = ins(&mut f, header, Opcode::Uext, Type::I64, &[byte], Imm::None).unwrap();
    let sum = bin(&mut f, Opcode::Iadd, Type::I64, wide, byte);
    let sum = ins(
        &mut f,
        header,
        Opcode::Ireduce,
        Type::I32,
        &[sum],
        Imm::None,
    )
    .unwrap();
    let two = k(&mut f, 2);
    let scaled_j = bin(&mut f, Opcode::Ishl, Type::I64, j, two);
    let to = bin(&mut f, Opcode::Iadd, Type::I64, scaled_j, dst);
    ins(
        &mut f,
        header,
        Opcode::Store,
        Type::I32,
        &[to, sum],
        Imm::None,
    );
    let next_i = bin(&mut f, Opcode::Iadd, Type::I64, i, one);
    let minus_two = k(&mut f, -2);
    let next_j = bin(&mut f, Opcode::Iadd, Type::I64, j, minus_two);
    let end = k(&mut f, n as i64);
    let more = ins(
        &mut f,
        header,
        Opcode::Icmp,
        Type::I64,
        &[next_i, end],
        Imm::Cc(IntCC::Ne),
    );
    f.set_terminator(
        header,
        Terminator::Brif {
            cond: more.unwrap(),
            then_dest: BlockCall {
                block: header,
                args: vec![next_i, next_j],
            },
            else_dest: BlockCall::new(exit),
        },
    );
    finish(&mut f, exit);
    f
}

#[test]
fn indices_stepping_through_a_loop_reach_the_same_bytes() {
    // As above, for tables indexed by a counter: the host pointer is the
    // masked `base + (index << shift)` where the loop is entered.
    let mut jit = jit();
    for n in [1, 3, 9] {
        let plain = indexed_walk_function(0x8, 0x90, n);
        let tagged = indexed_walk_function(0xff00_0000_0000_0008, 0x0100_0000_0000_0090, n);
        tags_change_nothing(&mut jit, &plain, &tagged, &random_mem(n + 40));
    }
}

/// Copies the i32 at `base + (sext(index) << 2) + 0x10` to 0xf0, with the
/// base an i64 loaded from 0 and the index an i32 loaded from 8 (so
/// nothing bounds the base, and the index may be negative).
fn indexed_copy_function() -> Function {
    let mut f = Function::new("copy.indexed", 0x1000, typed_regs());
    let b = f.add_block();
    let load = |f: &mut Function, ty, at| {
        let a = iconst64(f, b, at);
        ins(f, b, Opcode::Load, ty, &[a], Imm::None).unwrap()
    };
    let base = load(&mut f, Type::I64, 0);
    let index = load(&mut f, Type::I32, 8);
    let wide = ins(&mut f, b, Opcode::Sext, Type::I64, &[index], Imm::None).unwrap();
    let two = iconst64(&mut f, b, 2);
    let scaled = ins(&mut f, b, Opcode::Ishl, Type::I64, &[wide, two], Imm::None).unwrap();
    let at = ins(
        &mut f,
        b,
        Opcode::Iadd,
        Type::I64,
        &[base, scaled],
        Imm::None,
    )
    .unwrap();
    let disp = iconst64(&mut f, b, 0x10);
    let at = ins(&mut f, b, Opcode::Iadd, Type::I64, &[at, disp], Imm::None).unwrap();
    let v = ins(&mut f, b, Opcode::Load, Type::I32, &[at], Imm::None).unwrap();
    let out = iconst64(&mut f, b, 0xf0);
    ins(&mut f, b, Opcode::Store, Type::I32, &[out, v], Imm::None);
    finish(&mut f, b);
    f
}

#[test]
fn variable_indices_apply_after_the_mask() {
    // The base is masked and the sign-extended, scaled index added after:
    // tagged bases and negative indices reach the bytes the masked sums do.
    let mut jit = jit();
    let f = indexed_copy_function();
    let code = jit.compile(&f).unwrap();
    for (base, index) in [
        (0xff00_0000_0000_0080u64, -4i32),
        (0x0000_0000_0000_0040, 9),
        (0x5a00_0000_0000_00c0, -40),
    ] {
        let mut m = Machine::with_mem(typed_regs(), MEM);
        m.mem[0..8].copy_from_slice(&base.to_le_bytes());
        m.mem[8..12].copy_from_slice(&index.to_le_bytes());
        let at = (base.wrapping_add((i64::from(index) * 4 + 0x10) as u64) & 0xff) as usize;
        m.mem[at..at + 4].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        m.run(code);
        assert_eq!(
            m.mem[0xf0..0xf4],
            0x1234_5678u32.to_le_bytes(),
            "{base:#x} {index}"
        );
    }
}

/// How the scalar of [`insert_into_zero_function`] is made.
#[derive(Clone, Copy, Debug)]
enum Scalar {
    /// Loaded from memory (the load can fold into the insertion).
    Loaded,
    /// The sum of two loads, in a register whose bits above the type may
    /// be anything.
    Summed,
    /// A loaded float moved to an integer (`bitcast`).
    FromFloat,
}

/// `vinsert.ty 0, (vconst 0), x` of a scalar `x` made as `how` from the
/// bytes at 0 and 16; the `v128` stored at 200.
fn insert_into_zero_function(ty: Type, how: Scalar) -> Function {
    let mut f = Function::new(
        format!("insert_into_zero.{ty}.{how:?}"),
        0x1000,
        typed_regs(),
    );
    let b = f.add_block();
    let (a0, a1) = (iconst64(&mut f, b, 0), iconst64(&mut f, b, 16));
    let x = match how {
        Scalar::Loaded => ins(&mut f, b, Opcode::Load, ty, &[a0], Imm::None),
        Scalar::Summed => {
            let p = ins(&mut f, b, Opcode::Load, ty, &[a0], Imm::None).unwrap();
            let q = ins(&mut f, b, Opcode::Load, ty, &[a1], Imm::None).unwrap();
            ins(&mut f, b, Opcode::Iadd, ty, &[p, q], Imm::None)
        }
        Scalar::FromFloat => {
            let fty = if ty == Type::I32 {
                Type::F32
            } else {
                Type::F64
            };
            let v = ins(&mut f, b, Opcode::Load, fty, &[a0], Imm::None).unwrap();
            ins(&mut f, b, Opcode::Bitcast, ty, &[v], Imm::None)
        }
    }
    .unwrap();
    let zero = ins(&mut f, b, Opcode::Vconst, Type::V128, &[], Imm::Int(0)).unwrap();
    let v = ins(&mut f, b, Opcode::Vinsert, ty, &[zero, x], Imm::Lane(0)).unwrap();
    let d = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, Type::V128, &[d, v], Imm::None);
    finish(&mut f, b);
    f
}

#[test]
fn scalars_inserted_into_a_zero_vector_clear_the_other_lanes() {
    let mut jit = jit();
    let mut forms = vec![];
    for ty in [Type::I8, Type::I16, Type::I32, Type::I64] {
        forms.extend([(ty, Scalar::Loaded), (ty, Scalar::Summed)]);
    }
    forms.extend([
        (Type::I32, Scalar::FromFloat),
        (Type::I64, Scalar::FromFloat),
    ]);
    for (ty, how) in forms {
        let f = insert_into_zero_function(ty, how);
        for seed in 1..6 {
            // Random bytes (sums that carry out of the type) and all-ones
            // bytes around the result, which a partial write would leave.
            let mut mem = random_mem(seed * 977);
            mem[200..216].fill(0xff);
            differential(&mut jit, &f, &[], &mem);
        }
    }
}

/// Moves the float at 0 (as `ty`, I32 or I64 bits) to 200 three ways: its
/// bits as a float and back, negated as a float, and the low lane of the
/// `v128` at 16 to 216.
fn float_move_function(ty: Type) -> Function {
    let fty = if ty == Type::I32 {
        Type::F32
    } else {
        Type::F64
    };
    let mut f = Function::new(format!("float_moves.{ty}"), 0x1000, typed_regs());
    let b = f.add_block();
    let a = iconst64(&mut f, b, 0);
    let bits = ins(&mut f, b, Opcode::Load, ty, &[a], Imm::None).unwrap();
    let x = ins(&mut f, b, Opcode::Bitcast, fty, &[bits], Imm::None).unwrap();
    let back = ins(&mut f, b, Opcode::Bitcast, ty, &[x], Imm::None).unwrap();
    let d = iconst64(&mut f, b, 200);
    ins(&mut f, b, Opcode::Store, ty, &[d, back], Imm::None);
    let neg = ins(&mut f, b, Opcode::Fneg, fty, &[x], Imm::None).unwrap();
    let neg_bits = ins(&mut f, b, Opcode::Bitcast, ty, &[neg], Imm::None).unwrap();
    let d = iconst64(&mut f, b, 208);
    ins(&mut f, b, Opcode::Store, ty, &[d, neg_bits], Imm::None);
    let a = iconst64(&mut f, b, 16);
    let v = ins(&mut f, b, Opcode::Load, Type::V128, &[a], Imm::None).unwrap();
    let low = ins(&mut f, b, Opcode::Vextract, ty, &[v], Imm::Lane(0)).unwrap();
    let d = iconst64(&mut f, b, 216);
    ins(&mut f, b, Opcode::Store, ty, &[d, low], Imm::None);
    finish(&mut f, b);
    f
}

#[test]
fn floats_move_through_memory_bit_for_bit() {
    let mut jit = jit();
    // Signalling and quiet NaNs with payloads, a subnormal and random bits.
    let patterns: [u64; 4] = [0x7ff0_0000_0000_0001, 0xfff8_dead_beef_0001, 1, 0x7fa0_0001];
    for ty in [Type::I32, Type::I64] {
        let f = float_move_function(ty);
        for (i, p) in patterns.iter().enumerate() {
            let mut mem = random_mem(i as u64 * 31 + 7);
            mem[0..8].copy_from_slice(&p.to_le_bytes());
            mem[16..24].copy_from_slice(&p.rotate_left(7).to_le_bytes());
            differential(&mut jit, &f, &[], &mem);
        }
    }
}
