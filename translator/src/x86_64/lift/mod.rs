//! x86_64 instruction semantics, grouped by family. [`lift_insn`] routes
//! each mnemonic to its family; anything not routed is a [`LiftError`]
//! (a guest SIGILL at run time), never a guess.

mod alu;
mod bits;
mod control;
pub mod flags;
mod muldiv;
pub mod operand;
mod shift;
mod sse;
mod string;
mod x87;

use iced_x86::{Instruction, Mnemonic};

use crate::{LiftCx, LiftError};

/// Why one instruction could not be lifted.
pub(crate) type Fail = String;

/// Lifts one decoded instruction (`code` are its bytes, for errors).
pub fn lift_insn(insn: &Instruction, code: &[u8], cx: &mut LiftCx) -> Result<(), LiftError> {
    let result = route(insn, cx);
    result.map_err(|reason| LiftError {
        arch: "x86_64",
        addr: cx.pc(),
        bytes: code.to_vec(),
        reason: format!("{} ({:?})", reason, insn.code()),
    })
}

fn route(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    flags::begin_insn(cx);
    if insn.has_lock_prefix() {
        return alu::lift_locked(insn, cx);
    }
    match m {
        M::Add | M::Sub | M::Adc | M::Sbb | M::And | M::Or | M::Xor | M::Cmp | M::Test => {
            alu::lift_binary(insn, cx)
        }
        M::Inc | M::Dec | M::Neg | M::Not => alu::lift_unary(insn, cx),
        M::Mov
        | M::Movzx
        | M::Movsx
        | M::Movsxd
        | M::Lea
        | M::Xchg
        | M::Cmovo
        | M::Cmovno
        | M::Cmovb
        | M::Cmovae
        | M::Cmove
        | M::Cmovne
        | M::Cmovbe
        | M::Cmova
        | M::Cmovs
        | M::Cmovns
        | M::Cmovp
        | M::Cmovnp
        | M::Cmovl
        | M::Cmovge
        | M::Cmovle
        | M::Cmovg
        | M::Seto
        | M::Setno
        | M::Setb
        | M::Setae
        | M::Sete
        | M::Setne
        | M::Setbe
        | M::Seta
        | M::Sets
        | M::Setns
        | M::Setp
        | M::Setnp
        | M::Setl
        | M::Setge
        | M::Setle
        | M::Setg
        | M::Cbw
        | M::Cwde
        | M::Cdqe
        | M::Cwd
        | M::Cdq
        | M::Cqo
        | M::Bswap
        | M::Movbe => alu::lift_move(insn, cx),
        M::Cmpxchg | M::Cmpxchg16b | M::Xadd => alu::lift_locked(insn, cx),
        M::Mul | M::Imul | M::Div | M::Idiv => muldiv::lift(insn, cx),
        M::Shl
        | M::Sal
        | M::Shr
        | M::Sar
        | M::Rol
        | M::Ror
        | M::Rcl
        | M::Rcr
        | M::Shld
        | M::Shrd
        | M::Shlx
        | M::Shrx
        | M::Sarx => shift::lift(insn, cx),
        M::Bt | M::Bts | M::Btr | M::Btc | M::Bsf | M::Bsr | M::Tzcnt | M::Lzcnt | M::Popcnt => {
            bits::lift(insn, cx)
        }
        M::Jmp
        | M::Je
        | M::Jne
        | M::Jb
        | M::Jae
        | M::Jbe
        | M::Ja
        | M::Js
        | M::Jns
        | M::Jp
        | M::Jnp
        | M::Jl
        | M::Jge
        | M::Jle
        | M::Jg
        | M::Jo
        | M::Jno
        | M::Jrcxz
        | M::Jecxz
        | M::Loop
        | M::Loope
        | M::Loopne
        | M::Call
        | M::Ret
        | M::Push
        | M::Pop
        | M::Leave
        | M::Syscall
        | M::Hlt
        | M::Ud2
        | M::Ud0
        | M::Ud1
        | M::Int3
        | M::Nop
        | M::Endbr64
        | M::Pause
        | M::Cpuid
        | M::Rdtsc
        | M::Lfence
        | M::Sfence
        | M::Mfence
        | M::Prefetcht0
        | M::Prefetcht1
        | M::Prefetcht2
        | M::Prefetchnta
        | M::Prefetchw
        | M::Cld
        | M::Std
        | M::Clc
        | M::Stc
        | M::Cmc
        | M::Pushfq
        | M::Popfq
        | M::Sahf
        | M::Lahf
        | M::Rdsspq
        | M::Incsspq
        | M::Xtest => control::lift(insn, cx),
        M::Movsb
        | M::Movsw
        | M::Movsd
        | M::Movsq
        | M::Stosb
        | M::Stosw
        | M::Stosd
        | M::Stosq
        | M::Lodsb
        | M::Lodsw
        | M::Lodsd
        | M::Lodsq
        | M::Cmpsb
        | M::Cmpsw
        | M::Cmpsd
        | M::Cmpsq
        | M::Scasb
        | M::Scasw
        | M::Scasd
        | M::Scasq
            if string::is_string(insn) =>
        {
            string::lift(insn, cx)
        }
        _ => match x87::lift(insn, cx) {
            Some(r) => r,
            None => sse::lift(insn, cx),
        },
    }
}
