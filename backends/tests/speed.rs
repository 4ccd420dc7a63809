//! Translation speed: lowering plus Cranelift compilation of a module of
//! random functions, AOT sequential against parallel, and JIT per
//! function. Ignored by default (timings, not checks); run with
//! `cargo test --release -p vmtrans-backends --test speed -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::programs::program;
use common::*;
use vmtrans_abi::Arch;
use vmtrans_backends::{compile_object, CompileOptions};
use vmtrans_ir::Module;

fn module(n: usize, len: usize) -> Module {
    let mut m = Module::new(typed_regs());
    for i in 0..n {
        let mut f = program(i as u64 * 0x9e37 + 1, len);
        f.entry_pc = 0x10_0000 + i as u64 * 0x100;
        m.functions.push(f);
    }
    m
}

#[test]
#[ignore]
fn translation_speed() {
    let (n, len) = (400, 60);
    let m = module(n, len);
    let insts: usize = m.functions.iter().map(|f| f.inst_count()).sum();
    for parallel in [false, true] {
        let opts = CompileOptions {
            parallel,
            verify: false,
            ..CompileOptions::default()
        };
        let t = Instant::now();
        let obj = compile_object(&m, Arch::Riscv64, b"", &opts).unwrap();
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "AOT parallel={parallel}: {n} functions, {insts} IR insts in {s:.3} s \
             ({:.0} insts/s, {:.2} ms/function), object {} KiB, {} threads",
            insts as f64 / s,
            s * 1000.0 / n as f64,
            obj.len() / 1024,
            rayon::current_num_threads()
        );
    }
    let mut jit = jit();
    let t = Instant::now();
    for f in &m.functions {
        jit.compile(f).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    eprintln!("JIT: {:.2} ms/function", s * 1000.0 / n as f64);
}

#[test]
#[ignore]
fn lowering_versus_compiling() {
    use cranelift_frontend::FunctionBuilderContext;
    let m = module(400, 60);
    let opts = CompileOptions {
        verify: false,
        ..CompileOptions::default()
    };
    let isa = vmtrans_backends::target::aot_isa(&opts).unwrap();
    let builder = cranelift_object::ObjectBuilder::new(
        isa.clone(),
        "t",
        cranelift_module::default_libcall_names(),
    )
    .unwrap();
    let mut obj = cranelift_object::ObjectModule::new(builder);
    let mut fctx = FunctionBuilderContext::new();
    let t = Instant::now();
    let mut clifs = Vec::new();
    for f in &m.functions {
        let clif =
            vmtrans_backends::lower::lower_function(&mut obj, f, &|_| None, &opts, &mut fctx)
                .unwrap();
        clifs.push(clif);
    }
    let lower = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for clif in clifs {
        let mut ctx = cranelift_codegen::Context::for_function(clif);
        ctx.compile(&*isa, &mut Default::default()).unwrap();
    }
    let compile = t.elapsed().as_secs_f64();
    eprintln!("lowering {lower:.3} s, Cranelift compile {compile:.3} s (sequential)");
}
