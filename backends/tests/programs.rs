//! Random programs, JIT against the interpreter: dozens of ops whose
//! operands are earlier results of any type, then a diamond whose join
//! block takes a parameter from either arm. Every result is stored to
//! guest memory and every byte must agree. NaNs produced by arithmetic
//! (whose payloads the IR leaves to the host) are canonicalised in the
//! program itself, so the comparison stays exact.

mod common;

use common::programs::{memory, program};
use common::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_programs_match_the_interpreter(seed: u64, len in 5usize..60) {
        let f = program(seed, len);
        differential(&mut jit(), &f, &[], &memory(seed, len));
    }
}
