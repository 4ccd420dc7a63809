//! `vmtrans translate`: a guest program to a native executable, ahead of
//! time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use vmtrans_backends::{compile_object, CompileOptions};
use vmtrans_ir::passes::{optimize_module, OptLevel, OptOptions};
use vmtrans_ir::Module;
use vmtrans_translator::discover::{discover, Discovery, IndirectKind};
use vmtrans_translator::lift::{lift_function_multi_entry, lift_function_with_tables};
use vmtrans_translator::lifter_for;
use vmtrans_translator::loader::GuestImage;

/// Arguments of `vmtrans translate`.
#[derive(clap::Args, Debug)]
pub struct TranslateArgs {
    /// The guest program.
    pub guest: PathBuf,
    /// The native executable to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print what was translated and how long each stage took.
    #[arg(short, long)]
    pub verbose: bool,
    /// Also keep the translated object file next to the output (OUTPUT.o).
    #[arg(long)]
    pub keep_object: bool,
}

/// Translates and links.
pub fn run(args: &TranslateArgs) -> Result<()> {
    let total = Instant::now();
    let bytes = std::fs::read(&args.guest).with_context(|| format!("{}", args.guest.display()))?;
    let image = GuestImage::from_bytes(&args.guest, &bytes)?;
    let lifter = lifter_for(image.arch).map_err(|e| anyhow!("{}: {e}", args.guest.display()))?;
    let runtime = runtime_library()?;

    let t = Instant::now();
    let discovery = discover(&image, lifter);
    let discover_time = t.elapsed();

    let t = Instant::now();
    let tables = discovery.jump_tables();
    let functions: Vec<_> = discovery
        .functions
        .par_iter()
        .map(|f| {
            lift_function_with_tables(
                lifter,
                &image,
                &f.display_name(),
                f.entry,
                &f.block_ranges(),
                &tables,
            )
            .0
        })
        .collect();
    let variants = multi_entry_variants(lifter, &image, &discovery, &tables);
    let mut module = Module::new(lifter.regfile());
    module.functions = functions;
    module.functions.extend(variants);
    let lift_time = t.elapsed();

    let t = Instant::now();
    let opts = OptOptions {
        verify_each: false,
        ..OptOptions::new(OptLevel::Full)
    };
    optimize_module(&mut module, &opts)
        .map_err(|e| anyhow!("optimizing failed (a vmtrans bug): {e}"))?;
    let opt_time = t.elapsed();

    let t = Instant::now();
    let object = compile_object(&module, image.arch, &bytes, &CompileOptions::default())?;
    let codegen_time = t.elapsed();

    let t = Instant::now();
    let object_path = args.output.with_extension("vmtrans.o");
    std::fs::write(&object_path, &object).with_context(|| format!("{}", object_path.display()))?;
    let linked = link(&object_path, &runtime, &args.output);
    if !args.keep_object {
        let _ = std::fs::remove_file(&object_path);
    }
    linked?;
    if args.verbose {
        let guest_bytes: u64 = discovery
            .functions
            .iter()
            .flat_map(|f| &f.insns)
            .map(|i| u64::from(i.len))
            .sum();
        eprintln!(
            "vmtrans: {} functions, {} guest instructions ({guest_bytes} bytes): discover {discover_time:.2?}, lift {lift_time:.2?}, optimize {opt_time:.2?}, codegen {codegen_time:.2?}, link {:.2?}; total {:.2?} ({:.0} guest bytes/s)",
            module.functions.len(),
            discovery.instruction_count(),
            t.elapsed(),
            total.elapsed(),
            guest_bytes as f64 / total.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The runtime staticlib AOT executables link: `VMTRANS_RUNTIME_LIB`, or
/// `libvmtrans.a` next to this executable (where cargo puts both).
fn runtime_library() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("VMTRANS_RUNTIME_LIB") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the vmtrans executable")?;
    let lib = exe.with_file_name("libvmtrans.a");
    if lib.exists() {
        return Ok(lib);
    }
    bail!(
        "the runtime library {} is missing: build vmtrans with `cargo build --release` and run it from target/release, or set VMTRANS_RUNTIME_LIB",
        lib.display()
    )
}

/// Links the translated object with the runtime into `output`, with the
/// C compiler driver (`CC`, else `cc`). It asks for GNU gold first: the
/// runtime library is large (its debug information included) and gold
/// links it in about half the time of the default BFD linker (riscv64
/// hello: 1.0 s against 1.8 s). Where gold is missing or fails, the
/// default linker runs, and its error is the one reported.
fn link(object: &Path, runtime: &Path, output: &Path) -> Result<()> {
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let run = |extra: &[&str]| {
        Command::new(&cc)
            .args(extra)
            .arg("-o")
            .arg(output)
            .arg(object)
            .arg(runtime)
            .args(LINK_LIBRARIES)
            .output()
            .with_context(|| format!("running the linker {}", cc.to_string_lossy()))
    };
    if run(&["-fuse-ld=gold"])?.status.success() {
        return Ok(());
    }
    let out = run(&[])?;
    if !out.status.success() {
        bail!(
            "linking {} failed ({} {}):\n{}",
            output.display(),
            cc.to_string_lossy(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The host libraries the runtime needs, in link order.
const LINK_LIBRARIES: [&str; 7] = [
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// Multi-entry variants (every block start an entry) of the functions with
/// indirect jumps discovery could not resolve, such as glibc's `vfprintf`
/// computed gotos: their targets then need no translation at run time.
fn multi_entry_variants(
    lifter: &dyn vmtrans_translator::Lifter,
    image: &GuestImage,
    discovery: &Discovery,
    tables: &vmtrans_translator::JumpTables,
) -> Vec<vmtrans_ir::Function> {
    let unresolved: std::collections::HashSet<u64> = discovery
        .indirect_sites
        .iter()
        .filter(|s| s.kind == IndirectKind::Jump && s.targets.is_none())
        .map(|s| s.addr)
        .collect();
    discovery
        .functions
        .par_iter()
        .filter(|f| f.blocks.len() > 1 && f.insns.iter().any(|i| unresolved.contains(&i.addr)))
        .map(|f| {
            let name = format!("{}$entries", f.display_name());
            lift_function_multi_entry(lifter, image, &name, f.entry, &f.block_ranges(), tables).0
        })
        .collect()
}
