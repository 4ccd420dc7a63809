//! Loader tests: real facts about committed fixtures, tiny programs compiled
//! at test time (skipped when the cross compiler is missing), and malformed
//! ELFs made by mutating a real binary in memory.

use std::path::{Path, PathBuf};
use std::process::Command;

use vmtrans_translator::loader::{CodePointerKind, ElfType, GuestImage, SymbolKind};
use vmtrans_translator::{Arch, TranslateError};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite/fixtures")
}

fn hello_path() -> PathBuf {
    fixtures().join("riscv64/hello-O2")
}

fn hello_bytes() -> Vec<u8> {
    std::fs::read(hello_path()).expect("testsuite/fixtures/riscv64/hello-O2 is committed")
}

/// Loads `bytes` and returns the error message, which must name the file.
fn load_error(bytes: &[u8]) -> String {
    match GuestImage::from_bytes("bad.elf", bytes) {
        Ok(_) => panic!("malformed ELF was accepted"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("bad.elf: "),
                "message does not name the file: {msg}"
            );
            msg
        }
    }
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// File offset of field `field` of program header `index` in hello-O2.
fn phdr(index: usize, field: usize) -> usize {
    64 + 56 * index + field
}

// ---------------------------------------------------------------------------
// Facts about hello-O2 (checked against `riscv64-linux-gnu-readelf`).

#[test]
fn hello_header_and_segments() {
    let image = GuestImage::load(hello_path()).unwrap();
    assert_eq!(image.arch, Arch::Riscv64);
    assert_eq!(image.elf_type, ElfType::Exec);
    assert_eq!(image.entry, 0x10580, "readelf -h: Entry point address");
    assert_eq!(image.program_headers.len(), 7);
    assert_eq!(image.segments.len(), 2, "two PT_LOAD");
    let (text, data) = (&image.segments[0], &image.segments[1]);
    assert_eq!(
        (text.vaddr, text.memsz, text.flags.to_string()),
        (0x10000, 0x605e4, "r-x".into())
    );
    assert_eq!(
        (data.vaddr, data.memsz, data.bytes.len()),
        (0x71dc0, 0xaab8, 0x5600)
    );
    assert_eq!(data.flags.to_string(), "rw-");
    let tls = image.tls.expect("PT_TLS");
    assert_eq!(
        (tls.vaddr, tls.filesz, tls.memsz, tls.align),
        (0x71dc0, 0x18, 0x60, 8)
    );
    assert!(!image.gnu_stack.expect("PT_GNU_STACK").flags.execute);
    assert!(
        image.eh_frame_hdr.is_none(),
        "this binary has no PT_GNU_EH_FRAME"
    );
    assert_eq!(image.header.phdr_addr, Some(0x10040));
    assert_eq!((image.header.phent, image.header.phnum), (56, 7));
    assert_eq!(image.executable_ranges(), vec![0x10000..0x705e4]);
}

#[test]
fn hello_reads_bytes_like_the_file() {
    let image = GuestImage::load(hello_path()).unwrap();
    let file = hello_bytes();
    // First LOAD maps offset 0 at 0x10000.
    assert_eq!(image.read(0x10580, 8).unwrap(), &file[0x580..0x588]);
    // Second LOAD maps offset 0x60dc0 at 0x71dc0.
    assert_eq!(image.read(0x75000, 16).unwrap(), &file[0x64000..0x64010]);
    assert!(image.read(0x705e0, 8).is_none(), "crosses the segment end");
    assert!(image.read(0x7c000, 1).is_none(), ".bss is not file-backed");
    assert!(image.read(0x1000, 1).is_none(), "unmapped");
    assert!(image.is_code(0x10580) && !image.is_code(0x75000));
}

#[test]
fn hello_symbols_sections_and_fdes() {
    let image = GuestImage::load(hello_path()).unwrap();
    let main = image
        .symbols
        .iter()
        .find(|s| s.name == "main")
        .expect("main");
    assert_eq!(
        (main.addr, main.size, main.kind),
        (0x10552, 44, SymbolKind::Function)
    );
    assert_eq!(image.symbol_name(0x10552), Some("main"));
    assert_eq!(
        image.symbol_at(0x10552 + 10).map(|s| s.name.as_str()),
        Some("main")
    );
    assert_eq!(image.symbol_name(0x10580), Some("_start"));
    assert!(image.symbol_at(0x75000).is_none(), "data is no function");
    assert!(
        image.symbols.len() > 1000,
        "{} symbols",
        image.symbols.len()
    );
    assert!(image.symbols.windows(2).all(|w| w[0].addr <= w[1].addr));

    let text = image.section(".text").expect(".text");
    assert_eq!(
        (text.addr, text.size, text.execute),
        (0x10420, 0x4130e, true)
    );
    assert_eq!(image.sections.len(), 28);

    // readelf --debug-dump=frames lists 260 FDEs, the first for _start.
    assert_eq!(image.fdes.len(), 260);
    assert!(image
        .fdes
        .iter()
        .any(|f| f.start == 0x10580 && f.len == 0x22));
    assert!(image.warnings.is_empty(), "{:?}", image.warnings);
    assert!(!image.has_line_info() && image.line_at(0x10552).is_none());

    // readelf -x .preinit_array/.init_array/.fini_array.
    let ptr = |addr, kind| {
        image
            .code_pointers
            .iter()
            .any(|p| p.addr == addr && p.kind == kind)
    };
    assert!(ptr(0x105a2, CodePointerKind::PreinitArray));
    assert!(ptr(0x10634, CodePointerKind::InitArray));
    assert!(ptr(0x105fc, CodePointerKind::FiniArray));
}

#[test]
fn image_is_plain_serializable_data() {
    fn serializable<T: serde::Serialize + Send + Sync>() {}
    serializable::<GuestImage>();
}

/// Every committed fixture of a supported arch loads, with the arch its
/// folder names and its entry in code.
#[test]
fn all_fixtures_load() {
    let mut loaded = 0;
    for arch in Arch::ALL {
        let Ok(dir) = std::fs::read_dir(fixtures().join(arch.name())) else {
            eprintln!("no fixtures for {arch} yet: skipped");
            continue;
        };
        for entry in dir.flatten() {
            let path = entry.path();
            let bytes = std::fs::read(&path).unwrap();
            if !bytes.starts_with(b"\x7fELF") {
                continue;
            }
            let image = GuestImage::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(image.arch, arch, "{}", path.display());
            assert!(image.is_code(image.entry), "{}", path.display());
            loaded += 1;
        }
    }
    assert!(loaded >= 1);
}

// ---------------------------------------------------------------------------
// Programs compiled at test time.

/// Compiles `source` with `cc` and `flags` into the test tmpdir; `None`
/// (test skipped) when the compiler is missing or fails.
fn compile(cc: &str, name: &str, source: &str, flags: &[&str]) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loader");
    std::fs::create_dir_all(&dir).ok()?;
    let src = dir.join(format!("{name}.c"));
    let out = dir.join(name);
    std::fs::write(&src, source).ok()?;
    let status = Command::new(cc)
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        _ => {
            eprintln!("{cc} unavailable or failed: {name} skipped");
            None
        }
    }
}

const TINY: &str = "int add(int a, int b) { return a + b; }\n\
                    void _start(void) { volatile int x = add(1, 2); for (;;) { } }\n";

#[test]
fn tiny_programs_of_each_arch_with_line_info() {
    let compilers = [
        (Arch::Riscv64, "riscv64-linux-gnu-gcc"),
        (Arch::Aarch64, "aarch64-linux-gnu-gcc"),
        (Arch::X86_64, "x86_64-linux-gnu-gcc"),
    ];
    for (arch, cc) in compilers {
        let flags = ["-g", "-O1", "-nostdlib", "-static", "-fno-inline"];
        let Some(path) = compile(cc, &format!("tiny-{arch}"), TINY, &flags) else {
            continue;
        };
        let image = GuestImage::load(&path).unwrap();
        assert_eq!(image.arch, arch);
        assert_eq!(image.elf_type, ElfType::Exec);
        assert_eq!(image.symbol_name(image.entry), Some("_start"));
        let add = image.symbols.iter().find(|s| s.name == "add").expect("add");
        assert!(image.has_line_info());
        let loc = image.line_at(add.addr).expect("line for add");
        assert!(loc.file.ends_with(&format!("tiny-{arch}.c")), "{loc}");
        assert_eq!(loc.line, 1, "{loc}");
        let start = image.line_at(image.entry).expect("line for _start");
        assert_eq!(start.line, 2, "{start}");
        assert!(image.line_info_errors().is_empty());
    }
}

#[test]
fn x86_64_static_pie() {
    let source = "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n";
    let Some(path) = compile(
        "x86_64-linux-gnu-gcc",
        "pie-x86_64",
        source,
        &["-O2", "-static-pie"],
    ) else {
        return;
    };
    let image = GuestImage::load(&path).unwrap();
    assert_eq!(
        (image.arch, image.elf_type),
        (Arch::X86_64, ElfType::StaticPie)
    );
    assert!(image.symbol_name(image.entry).is_some());
    let resolvers = image
        .code_pointers
        .iter()
        .filter(|p| p.kind == CodePointerKind::IrelativeResolver)
        .count();
    assert!(resolvers > 0, "glibc's ifuncs use IRELATIVE relocations");
    assert!(
        image.code_pointers.iter().all(|p| image.is_code(p.addr)),
        "{:x?}",
        image.code_pointers
    );
    assert!(!image.fdes.is_empty());
    assert!(image.eh_frame_hdr.is_some());

    // Without section headers, .eh_frame is found through PT_GNU_EH_FRAME.
    let mut bytes = std::fs::read(&path).unwrap();
    put64(&mut bytes, 40, 0); // e_shoff
    put16(&mut bytes, 60, 0); // e_shnum
    put16(&mut bytes, 62, 0); // e_shstrndx
    let stripped = GuestImage::from_bytes(&path, &bytes).unwrap();
    assert!(stripped.sections.is_empty() && stripped.symbols.is_empty());
    assert_eq!(stripped.fdes, image.fdes);
}

#[test]
fn hello_landing_pads_come_from_lsdas() {
    let image = GuestImage::load(hello_path()).unwrap();
    let with_lsda: Vec<_> = image.fdes.iter().filter(|f| f.lsda.is_some()).collect();
    assert!(
        !with_lsda.is_empty(),
        "glibc's stdio has cleanup landing pads"
    );
    let pads: Vec<u64> = image
        .code_pointers
        .iter()
        .filter(|p| p.kind == CodePointerKind::LandingPad)
        .map(|p| p.addr)
        .collect();
    assert!(!pads.is_empty());
    for pad in pads {
        let inside = with_lsda
            .iter()
            .any(|f| pad >= f.start && pad < f.start + f.len);
        assert!(
            inside,
            "landing pad {pad:#x} outside every FDE with an LSDA"
        );
    }
}

#[test]
fn image_is_a_code_source_for_the_lifter() {
    use vmtrans_translator::lift::CodeSource;
    let image = GuestImage::load(hello_path()).unwrap();
    assert_eq!(image.code(0x10580, 4), image.read(0x10580, 4));
    assert_eq!(
        image.code(0x705e2, 16).map(<[u8]>::len),
        Some(2),
        "short at segment end"
    );
    assert!(image.code(0x75000, 4).is_none(), "data is not code");
}

// ---------------------------------------------------------------------------
// Malformed and unsupported files.

#[test]
fn missing_file_is_an_io_error() {
    let err = GuestImage::load("/nonexistent/guest").unwrap_err();
    assert!(matches!(err, TranslateError::Io { .. }));
    assert!(err.to_string().starts_with("/nonexistent/guest: "));
}

#[test]
fn bad_magic_and_truncated_header() {
    assert!(load_error(b"").contains("bad magic at offset 0 (expected 7f 45 4c 46, found nothing)"));
    assert!(load_error(b"MZ\x90\x00junk").contains("found 4d 5a 90 00"));
    let bytes = hello_bytes();
    let msg = load_error(&bytes[..40]);
    assert!(
        msg.contains("truncated ELF header: the file is 40 bytes"),
        "{msg}"
    );
    assert!(load_error(&bytes[..4]).contains("truncated ELF header"));
}

#[test]
fn truncated_program_headers() {
    let bytes = hello_bytes();
    let msg = load_error(&bytes[..200]);
    assert!(
        msg.contains("program header table at offset 0x40 (7 entries of 56 bytes) extends beyond the end of the file (200 bytes)"),
        "{msg}"
    );
}

#[test]
fn wrong_class_endianness_machine_and_type() {
    let mut b = hello_bytes();
    b[4] = 1;
    let msg = load_error(&b);
    assert!(msg.contains("32-bit ELF (ELFCLASS32 at offset 4)"), "{msg}");

    let mut b = hello_bytes();
    b[5] = 2;
    assert!(load_error(&b).contains("big-endian ELF"));

    let mut b = hello_bytes();
    put16(&mut b, 18, 8);
    let msg = load_error(&b);
    assert!(
        msg.contains("machine EM_MIPS (e_machine 8 at offset 18) is not a supported guest"),
        "{msg}"
    );
    let err = GuestImage::from_bytes("x", &b).unwrap_err();
    assert!(matches!(err, TranslateError::Unsupported { .. }));

    let mut b = hello_bytes();
    put16(&mut b, 16, 1);
    assert!(load_error(&b).contains("relocatable object file (ET_REL)"));

    let mut b = hello_bytes();
    put16(&mut b, 54, 32);
    assert!(load_error(&b).contains("e_phentsize is 32, ELF64 needs 56"));
}

#[test]
fn segments_beyond_the_file() {
    let mut b = hello_bytes();
    put64(&mut b, phdr(1, 32), 0x1000_0000);
    let msg = load_error(&b);
    assert!(
        msg.contains("program header 1 (PT_LOAD): contents at offset 0x0, size 0x10000000 extend beyond the end of the file (502792 bytes)"),
        "{msg}"
    );

    let mut b = hello_bytes();
    put64(&mut b, phdr(2, 8), u64::MAX - 4);
    let msg = load_error(&b);
    assert!(
        msg.contains("program header 2 (PT_LOAD): contents at offset 0xfffffffffffffffb"),
        "{msg}"
    );
}

#[test]
fn absurd_or_overlapping_segments() {
    let mut b = hello_bytes();
    put64(&mut b, phdr(2, 40), 0x100);
    assert!(load_error(&b)
        .contains("program header 2 (PT_LOAD): p_filesz 0x5600 exceeds p_memsz 0x100"));

    let mut b = hello_bytes();
    put64(&mut b, phdr(2, 16), 0xffff_ffff_ffff_0dc0);
    assert!(load_error(&b).contains("lies beyond the 47-bit user address space"));

    let mut b = hello_bytes();
    put64(&mut b, phdr(2, 16), 0x20dc0);
    let msg = load_error(&b);
    assert!(
        msg.contains("program headers 1 and 2 (PT_LOAD) overlap or are out of order: [0x10000, 0x705e4) then [0x20dc0, 0x2b878)"),
        "{msg}"
    );

    let mut b = hello_bytes();
    put64(&mut b, phdr(2, 16), 0x71dc4);
    assert!(load_error(&b).contains("disagree modulo it"));
}

#[test]
fn entry_outside_code() {
    let mut b = hello_bytes();
    put64(&mut b, 24, 0x75000);
    let msg = load_error(&b);
    assert!(
        msg.contains(
            "entry point 0x75000 (e_entry at offset 24) is outside every executable segment"
        ),
        "{msg}"
    );
}

#[test]
fn bad_section_table_is_reported() {
    let mut b = hello_bytes();
    put64(&mut b, 40, 0x7fff_0000);
    let msg = load_error(&b);
    assert!(msg.contains("section header table"), "{msg}");
}

#[test]
fn dynamically_linked_is_unsupported() {
    let path = fixtures().join("bad/dynamic-riscv64");
    let err = GuestImage::load(&path).unwrap_err();
    assert!(matches!(err, TranslateError::Unsupported { .. }));
    let msg = err.to_string();
    assert!(
        msg.ends_with(
            "dynamically linked (interpreter /lib/ld-linux-riscv64-lp64d.so.1): not supported yet"
        ),
        "{msg}"
    );
    assert!(msg.starts_with(&path.display().to_string()));
}

/// Random truncations and byte corruptions of a real binary never panic.
#[test]
fn mutations_never_panic() {
    let original = hello_bytes();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for len in (0..1200).chain((0..200).map(|_| rng.below(original.len()))) {
        let _ = GuestImage::from_bytes("cut", &original[..len]);
    }
    // Corrupt the ELF/program headers, the section headers and .eh_frame,
    // where the parsers look.
    let shoff = 501_000;
    let regions = [0..456, shoff..original.len(), 0x5d410..0x603ec];
    for round in 0..1500 {
        let mut b = original.clone();
        for _ in 0..1 + round % 8 {
            let region = &regions[rng.below(regions.len())];
            let at = region.start + rng.below(region.len());
            b[at] ^= 1 << rng.below(8);
        }
        if let Ok(image) = GuestImage::from_bytes("flip", &b) {
            let _ = image.symbol_at(image.entry);
            let _ = image.line_at(image.entry);
        }
    }
}

/// Corrupted DWARF and unwind info in a program with debug info never panic.
#[test]
fn debug_info_mutations_never_panic() {
    let Some(path) = compile(
        "riscv64-linux-gnu-gcc",
        "fuzz-riscv64",
        TINY,
        &["-g", "-O1", "-nostdlib", "-static"],
    ) else {
        return;
    };
    let original = std::fs::read(path).unwrap();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for round in 0..3000 {
        let mut b = original.clone();
        for _ in 0..1 + round % 6 {
            let at = rng.below(b.len());
            b[at] ^= 1 << rng.below(8);
        }
        if let Ok(image) = GuestImage::from_bytes("flip", &b) {
            for f in &image.fdes {
                let _ = image.line_at(f.start);
            }
            let _ = image.line_at(image.entry);
        }
    }
}

/// A tiny deterministic PRNG, enough for mutation tests.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn code_labels_are_symbols_and_function_entries() {
    // glibc's aarch64 `_start` hands `__libc_start_main` the address of
    // `__wrap_main` (`adrp; add`), a local NOTYPE label inside `_start`'s
    // extent: only the label says a function starts there.
    let image = GuestImage::load(fixtures().join("aarch64/hello-O2")).unwrap();
    let label = image
        .symbols
        .iter()
        .find(|s| s.name == "__wrap_main")
        .expect("__wrap_main");
    assert_eq!((label.addr, label.kind), (0x4005f4, SymbolKind::Label));
    assert!(
        image.symbols.iter().all(|s| !s.name.starts_with('$')),
        "mapping symbols stay out"
    );
    let lifter = vmtrans_translator::lifter_for(Arch::Aarch64).unwrap();
    let found = vmtrans_translator::discover::discover(&image, lifter);
    let wrap = found.functions.iter().find(|f| f.entry == 0x4005f4);
    assert!(
        wrap.is_some_and(|f| f.sources.symbol),
        "a function at __wrap_main"
    );
}
