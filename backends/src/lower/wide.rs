//! 128-bit multiply-high and division, which x86_64 has no instruction for.
//!
//! Multiply-high adds four 64×64→128 products. Division takes a 64-bit
//! hardware division when both operands fit in 64 bits and otherwise runs
//! a shift-and-subtract loop of one step per quotient bit; signed division
//! divides the magnitudes and fixes the signs.

use cranelift_codegen::ir::{self as cl, condcodes::IntCC, types, BlockArg, InstBuilder};

use super::int::IntBin;
use super::Lower;

impl Lower<'_> {
    /// High half of a 128×128 product (`umulhi`, `smulhi`, `sumulhi`).
    pub(super) fn mulhi128(&mut self, op: IntBin, x: cl::Value, y: cl::Value) -> cl::Value {
        let hi = self.umulhi128(x, y);
        match op {
            IntBin::Umulhi => hi,
            IntBin::Smulhi => {
                let fx = self.sign_masked(x, y);
                let fy = self.sign_masked(y, x);
                let hi = self.b.ins().isub(hi, fx);
                self.b.ins().isub(hi, fy)
            }
            _ => {
                let fx = self.sign_masked(x, y);
                self.b.ins().isub(hi, fx)
            }
        }
    }

    /// `v` where `s` is negative, else 0.
    fn sign_masked(&mut self, s: cl::Value, v: cl::Value) -> cl::Value {
        let sign = self.sign_mask128(s);
        self.b.ins().band(sign, v)
    }

    /// All ones when the `i128` `x` is negative, else 0.
    fn sign_mask128(&mut self, x: cl::Value) -> cl::Value {
        let amount = self.b.ins().iconst(types::I64, 127);
        self.b.ins().sshr(x, amount)
    }

    fn umulhi128(&mut self, x: cl::Value, y: cl::Value) -> cl::Value {
        let (x0, x1) = self.b.ins().isplit(x);
        let (y0, y1) = self.b.ins().isplit(y);
        let p00 = self.mul64x64(x0, y0);
        let p01 = self.mul64x64(x0, y1);
        let p10 = self.mul64x64(x1, y0);
        let p11 = self.mul64x64(x1, y1);
        // mid = hi(p00) + lo(p01) + lo(p10); hi = p11 + hi(p01) + hi(p10) + hi(mid)
        let h00 = self.high64(p00);
        let l01 = self.low64(p01);
        let l10 = self.low64(p10);
        let mid = self.b.ins().iadd(h00, l01);
        let mid = self.b.ins().iadd(mid, l10);
        let h01 = self.high64(p01);
        let h10 = self.high64(p10);
        let hmid = self.high64(mid);
        let r = self.b.ins().iadd(p11, h01);
        let r = self.b.ins().iadd(r, h10);
        self.b.ins().iadd(r, hmid)
    }

    /// The full 128-bit product of two `i64`s.
    fn mul64x64(&mut self, a: cl::Value, b: cl::Value) -> cl::Value {
        let a = self.b.ins().uextend(types::I128, a);
        let b = self.b.ins().uextend(types::I128, b);
        self.b.ins().imul(a, b)
    }

    /// The high 64 bits of an `i128`, zero-extended.
    fn high64(&mut self, v: cl::Value) -> cl::Value {
        let (_, hi) = self.b.ins().isplit(v);
        self.b.ins().uextend(types::I128, hi)
    }

    /// The low 64 bits of an `i128`, zero-extended.
    fn low64(&mut self, v: cl::Value) -> cl::Value {
        let (lo, _) = self.b.ins().isplit(v);
        self.b.ins().uextend(types::I128, lo)
    }

    /// Total 128-bit division and remainder.
    pub(super) fn divide128(&mut self, op: IntBin, x: cl::Value, y: cl::Value) -> cl::Value {
        let signed = matches!(op, IntBin::Sdiv | IntBin::Srem);
        let (q, r) = if signed {
            self.sdivrem128(x, y)
        } else {
            self.udivrem128(x, y)
        };
        match op {
            IntBin::Udiv | IntBin::Sdiv => q,
            _ => r,
        }
    }

    /// Signed quotient and remainder through the magnitudes: the quotient
    /// is negative when the signs differ, the remainder has x's sign.
    fn sdivrem128(&mut self, x: cl::Value, y: cl::Value) -> (cl::Value, cl::Value) {
        let sx = self.sign_mask128(x);
        let sy = self.sign_mask128(y);
        let ax = self.apply_sign(x, sx);
        let ay = self.apply_sign(y, sy);
        let (q, r) = self.udivrem128(ax, ay);
        let sq = self.b.ins().bxor(sx, sy);
        (self.apply_sign(q, sq), self.apply_sign(r, sx))
    }

    /// `v` negated where `mask` is all ones (two's complement, wrapping).
    fn apply_sign(&mut self, v: cl::Value, mask: cl::Value) -> cl::Value {
        let t = self.b.ins().bxor(v, mask);
        self.b.ins().isub(t, mask)
    }

    /// Unsigned quotient and remainder; x / 0 = 0 and x % 0 = x.
    fn udivrem128(&mut self, x: cl::Value, y: cl::Value) -> (cl::Value, cl::Value) {
        let done = self.b.create_block();
        let q_out = self.b.append_block_param(done, types::I128);
        let r_out = self.b.append_block_param(done, types::I128);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let (xl, xh) = self.b.ins().isplit(x);
        let (yl, yh) = self.b.ins().isplit(y);
        let highs = self.b.ins().bor(xh, yh);
        let small = self.b.ins().icmp_imm_s(IntCC::Equal, highs, 0);
        self.b.ins().brif(small, fast, &[], slow, &[]);

        self.b.switch_to_block(fast);
        self.udivrem64_into(xl, yl, done);

        self.b.switch_to_block(slow);
        self.b.set_cold_block(slow);
        self.udivrem_loop_into(x, y, done);

        self.b.switch_to_block(done);
        (q_out, r_out)
    }

    /// Divides two `i64`s (total) and jumps to `done(q, r)` as `i128`s.
    fn udivrem64_into(&mut self, x: cl::Value, y: cl::Value, done: cl::Block) {
        let zero = self.b.ins().iconst(types::I64, 0);
        let one = self.b.ins().iconst(types::I64, 1);
        let y_zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        let safe = self.b.ins().select(y_zero, one, y);
        let q = self.b.ins().udiv(x, safe);
        let r = self.b.ins().urem(x, safe);
        let q = self.b.ins().select(y_zero, zero, q);
        let r = self.b.ins().select(y_zero, x, r);
        let q = self.b.ins().uextend(types::I128, q);
        let r = self.b.ins().uextend(types::I128, r);
        self.b
            .ins()
            .jump(done, &[BlockArg::Value(q), BlockArg::Value(r)]);
    }

    /// Shift-and-subtract division of `i128`s, jumping to `done(q, r)`.
    fn udivrem_loop_into(&mut self, x: cl::Value, y: cl::Value, done: cl::Block) {
        let zero = self.int_const(types::I128, 0);
        let y_gt_x = self.b.ins().icmp(IntCC::UnsignedGreaterThan, y, x);
        let y_is_zero = self.b.ins().icmp(IntCC::Equal, y, zero);
        let trivial = self.b.ins().bor(y_gt_x, y_is_zero);
        let setup = self.b.create_block();
        self.b.ins().brif(
            trivial,
            done,
            &[BlockArg::Value(zero), BlockArg::Value(x)],
            setup,
            &[],
        );

        // y <= x and y != 0: align y's top bit with x's, then one step per
        // quotient bit.
        self.b.switch_to_block(setup);
        let cy = self.b.ins().clz(y);
        let cx = self.b.ins().clz(x);
        let shift = self.b.ins().isub(cy, cx);
        let shift = self.b.ins().ireduce(types::I64, shift);
        let d = self.b.ins().ishl(y, shift);
        let step = self.b.create_block();
        let q = self.b.append_block_param(step, types::I128);
        let r = self.b.append_block_param(step, types::I128);
        let d_p = self.b.append_block_param(step, types::I128);
        let i = self.b.append_block_param(step, types::I64);
        self.b.ins().jump(
            step,
            &[
                BlockArg::Value(zero),
                BlockArg::Value(x),
                BlockArg::Value(d),
                BlockArg::Value(shift),
            ],
        );

        self.b.switch_to_block(step);
        let one = self.b.ins().iconst(types::I64, 1);
        let ge = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, r, d_p);
        let bit = self.b.ins().uextend(types::I128, ge);
        let q2 = self.b.ins().ishl(q, one);
        let q2 = self.b.ins().bor(q2, bit);
        let diff = self.b.ins().isub(r, d_p);
        let r2 = self.b.ins().select(ge, diff, r);
        let d2 = self.b.ins().ushr(d_p, one);
        let i2 = self.b.ins().iadd_imm_s(i, -1);
        let more = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, i2, 0);
        self.b.ins().brif(
            more,
            step,
            &[
                BlockArg::Value(q2),
                BlockArg::Value(r2),
                BlockArg::Value(d2),
                BlockArg::Value(i2),
            ],
            done,
            &[BlockArg::Value(q2), BlockArg::Value(r2)],
        );
    }
}
