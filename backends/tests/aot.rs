//! AOT objects: `compile_object` on a tiny module gives a relocatable
//! x86_64 ELF with the contract's sections and symbols, a correct metadata
//! header, a sorted and relocated entry table and the embedded image; and,
//! where a C compiler is installed, the object links into an executable
//! whose `main` reaches the runtime entry and runs translated code through
//! the table.

mod common;

use std::process::Command;

use common::*;
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};
use vmtrans_abi::{artifact, exit, header, reg_offset, Arch, ABI_VERSION};
use vmtrans_backends::{compile_object, CompileOptions};
use vmtrans_ir::parse::parse_function;
use vmtrans_ir::Module;

const IMAGE: &[u8] = b"\x7fELF pretend guest image";

/// 0x2000 doubles a0 and returns; 0x1000 adds one, calls 0x2000
/// directly, and exits to 0x5000; 0x1800 calls through a register.
fn tiny_module() -> Module {
    let regs = riscv_regs();
    let texts = [
        "function double @0x2000 {
block0:
    v0 = read_reg.i64 %a0
    v1 = iadd.i64 v0, v0
    write_reg.i64 %a0, v1
    v2 = read_reg.i64 %ra
    ret v2
}",
        "function main_fn @0x1000 {
block0:
    v0 = read_reg.i64 %a0
    v1 = iconst.i64 0x1
    v2 = iadd.i64 v0, v1
    write_reg.i64 %a0, v2
    v3 = iconst.i64 0x1008
    write_reg.i64 %ra, v3
    v4 = iconst.i64 0x2000
    call v4, 0x1008, block1
block1:
    v5 = iconst.i64 0x5000
    exit v5
}",
        "function indirect @0x1800 {
block0:
    v0 = read_reg.i64 %a5
    call v0, 0x1804, block1
block1:
    v1 = read_reg.i64 %fa0
    v2 = bitcast.f64 v1
    v3 = fadd.f64 rtz v2, v2
    v6 = fma.f64 dyn v3, v3, v2
    v7 = fround.f64 rdn v6
    v4 = bitcast.i64 v7
    write_reg.i64 %fa0, v4
    v5 = iconst.i64 0x5000
    exit v5
}",
    ];
    let mut m = Module::new(regs.clone());
    for t in texts {
        m.functions.push(parse_function(t, regs.clone()).unwrap());
    }
    m
}

fn compile(opts: &CompileOptions) -> Vec<u8> {
    compile_object(&tiny_module(), Arch::Riscv64, IMAGE, opts).expect("object")
}

#[test]
fn the_object_is_a_relocatable_x86_64_elf_with_the_contract_symbols() {
    let bytes = compile(&CompileOptions::default());
    let file = object::File::parse(&*bytes).unwrap();
    assert_eq!(file.format(), object::BinaryFormat::Elf);
    assert_eq!(file.architecture(), object::Architecture::X86_64);
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
    for s in [
        artifact::METADATA_SECTION,
        artifact::TABLE_SECTION,
        artifact::IMAGE_SECTION,
    ] {
        assert!(file.section_by_name(s).is_some(), "section {s} missing");
    }
    let defined = |name: &str| {
        file.symbols()
            .any(|s| s.name() == Ok(name) && s.is_definition() && s.is_global())
    };
    for name in [
        "vmt_1000",
        "vmt_1800",
        "vmt_2000",
        "main",
        artifact::TABLE_SYMBOL,
        artifact::TABLE_LEN_SYMBOL,
        artifact::METADATA_SYMBOL,
        artifact::IMAGE_SYMBOL,
        artifact::IMAGE_LEN_SYMBOL,
    ] {
        assert!(defined(name), "symbol {name} not defined");
    }
    let undefined: Vec<&str> = file
        .symbols()
        .filter(|s| s.is_undefined())
        .filter_map(|s| s.name().ok())
        .filter(|n| !n.is_empty())
        .collect();
    for name in [
        artifact::AOT_MAIN_SYMBOL,
        "vmtrans_rt_call",
        "vmtrans_rt_continue",
        "vmtrans_rt_fp_op",
    ] {
        assert!(
            undefined.contains(&name),
            "{name} not imported: {undefined:?}"
        );
    }
    // Nothing but the runtime: no libm (fma and rounding stay in-house at
    // the x86-64-v2 baseline).
    assert!(
        undefined.iter().all(|n| n.starts_with("vmtrans_")),
        "{undefined:?}"
    );
}

#[test]
fn metadata_table_and_image_hold_the_right_bytes() {
    let bytes = compile(&CompileOptions {
        parallel: false,
        ..CompileOptions::default()
    });
    let file = object::File::parse(&*bytes).unwrap();
    let meta = file.section_by_name(artifact::METADATA_SECTION).unwrap();
    let m = meta.data().unwrap();
    assert_eq!(&m[..8], &artifact::MAGIC);
    let word = |i: usize| u32::from_le_bytes(m[8 + 4 * i..12 + 4 * i].try_into().unwrap());
    assert_eq!(word(0), artifact::FORMAT_VERSION);
    assert_eq!(word(1), ABI_VERSION);
    assert_eq!(word(2), Arch::Riscv64.number());
    assert_eq!(word(3), 0);
    assert_eq!(m.len(), std::mem::size_of::<vmtrans_abi::ArtifactHeader>());

    let table = file.section_by_name(artifact::TABLE_SECTION).unwrap();
    let t = table.data().unwrap();
    assert_eq!(t.len(), 48);
    let pcs: Vec<u64> = (0..3)
        .map(|i| u64::from_le_bytes(t[i * 16..i * 16 + 8].try_into().unwrap()))
        .collect();
    assert_eq!(pcs, [0x1000, 0x1800, 0x2000], "sorted by pc");
    let mut relocs: Vec<(u64, String)> = table
        .relocations()
        .map(|(off, r)| {
            let RelocationTarget::Symbol(s) = r.target() else {
                panic!("table relocation without a symbol")
            };
            (
                off,
                file.symbol_by_index(s).unwrap().name().unwrap().to_string(),
            )
        })
        .collect();
    relocs.sort();
    assert_eq!(
        relocs,
        [
            (8, "vmt_1000".into()),
            (24, "vmt_1800".into()),
            (40, "vmt_2000".into())
        ]
    );

    let image = file.section_by_name(artifact::IMAGE_SECTION).unwrap();
    assert_eq!(image.data().unwrap(), IMAGE);
}

/// A C stand-in for the runtime: `vmtrans_aot_main` runs the function at
/// 0x1000 from the table and prints what it did; the other runtime symbols
/// the object imports exist only to link.
fn runtime_stub(imports: &[String]) -> String {
    let a0 = reg_offset(Arch::Riscv64, riscv_regs().by_name("a0").unwrap().index());
    let size = vmtrans_abi::state_size(Arch::Riscv64);
    let mut c = format!(
        "#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
struct entry {{ uint64_t pc; uint64_t (*f)(uint8_t *, uint8_t *); }};
extern struct entry vmtrans_aot_table[];
extern uint64_t vmtrans_aot_table_len;
extern uint8_t vmtrans_aot_meta[];
extern uint8_t vmtrans_aot_image[];
extern uint64_t vmtrans_aot_image_len;
static _Alignas(16) uint8_t state[{size}];
static uint8_t mem[4096];
int vmtrans_aot_main(int argc, char **argv, char **envp) {{
    (void)argv; (void)envp;
    if (memcmp(vmtrans_aot_meta, \"VMTRANS\", 8) != 0) return 90;
    uint64_t a0 = 20;
    memcpy(state + {a0}, &a0, 8);
    for (uint64_t i = 0; i < vmtrans_aot_table_len; i++) {{
        if (vmtrans_aot_table[i].pc != 0x1000) continue;
        uint64_t pc = vmtrans_aot_table[i].f(state, mem);
        uint64_t reason;
        memcpy(&reason, state + {reason}, 8);
        memcpy(&a0, state + {a0}, 8);
        printf(\"%llu %llx %llu %llu %d\\n\", (unsigned long long)reason,
               (unsigned long long)pc, (unsigned long long)a0,
               (unsigned long long)vmtrans_aot_image_len, argc);
        return 7;
    }}
    return 91;
}}
",
        reason = header::EXIT_REASON
    );
    for name in imports {
        if name != artifact::AOT_MAIN_SYMBOL {
            c.push_str(&format!("uint64_t {name}(void) {{ abort(); }}\n"));
        }
    }
    c
}

#[test]
fn the_object_links_and_runs_through_the_table() {
    if Command::new("cc").arg("--version").output().is_err() {
        eprintln!("no C compiler: skipping the link test");
        return;
    }
    let bytes = compile(&CompileOptions::default());
    let file = object::File::parse(&*bytes).unwrap();
    let imports: Vec<String> = file
        .symbols()
        .filter(|s| s.is_undefined())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    let dir = std::env::temp_dir().join(format!("vmtrans-aot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = dir.join("prog.o");
    let stub = dir.join("runtime.c");
    let exe = dir.join("prog");
    std::fs::write(&obj, &bytes).unwrap();
    std::fs::write(&stub, runtime_stub(&imports)).unwrap();
    let out = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&obj)
        .arg(&stub)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "link failed: {stderr}");
    assert!(!stderr.contains("warning"), "linker warnings: {stderr}");
    let run = Command::new(&exe).arg("x").output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        run.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // JUMP to 0x5000 with a0 = (20 + 1) * 2, the image length, argc 2.
    let expect = format!("{} 5000 42 {} 2\n", exit::JUMP, IMAGE.len());
    assert_eq!(String::from_utf8_lossy(&run.stdout), expect);
}
