//! Image mapping and the initial stack, read back entry by entry.

use std::sync::Arc;
use vmtrans_abi::Arch;
use vmtrans_runtime::arch;
use vmtrans_runtime::loader::{auxv, build_stack, map_image, parse_elf, StackContents, STACK_TOP};
use vmtrans_runtime::mmu::{prot, PAGE_SIZE};
use vmtrans_runtime::{Guest, GuestMemory, RunOptions, RuntimeError};

mod common;

/// A minimal riscv64 ELF: a text segment holding the headers (R+X) and a
/// data segment with 16 file bytes and a page and a half of bss.
fn tiny_elf(e_type: u16, extra_phdr: Option<u32>) -> Vec<u8> {
    let phnum: u16 = 2 + extra_phdr.is_some() as u16;
    let mut f = vec![0u8; 0x1010];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little endian
    f[6] = 1;
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&243u16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x10100u64.to_le_bytes()); // entry
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&phnum.to_le_bytes());
    let mut ph =
        |i: usize, p_type: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
            let at = 64 + i * 56;
            f[at..at + 4].copy_from_slice(&p_type.to_le_bytes());
            f[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            f[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[at + 24..at + 32].copy_from_slice(&vaddr.to_le_bytes());
            f[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            f[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
            f[at + 48..at + 56].copy_from_slice(&PAGE_SIZE.to_le_bytes());
        };
    ph(0, 1, 5, 0, 0x10000, 0x200, 0x200);
    ph(1, 1, 6, 0x1000, 0x12000, 0x10, 0x1800);
    if let Some(t) = extra_phdr {
        ph(2, t, 4, 0x100, 0x10100, 0x10, 0x10);
    }
    f[0x1000..0x1010].copy_from_slice(b"DATA-SEGMENT-16b");
    f
}

fn riscv() -> &'static dyn vmtrans_runtime::arch::ArchOps {
    arch::ops(Arch::Riscv64).unwrap()
}

#[test]
fn parses_program_headers() {
    let info = parse_elf(&tiny_elf(2, None), "tiny").unwrap();
    assert_eq!(info.arch, Arch::Riscv64);
    assert!(!info.pie);
    assert_eq!(info.entry, 0x10100);
    assert_eq!(info.segments.len(), 2);
    assert_eq!(info.segments[1].memsz, 0x1800);
}

#[test]
fn rejects_bad_and_unsupported_files() {
    let err = |bytes: &[u8]| parse_elf(bytes, "prog").unwrap_err();
    assert!(matches!(
        err(b"not an elf at all, really not one, no no no no no no no no no no no no"),
        RuntimeError::BadElf { .. }
    ));
    let mut class32 = tiny_elf(2, None);
    class32[4] = 1;
    assert!(matches!(err(&class32), RuntimeError::UnsupportedElf { .. }));
    let interp = err(&tiny_elf(2, Some(3)));
    assert!(
        interp.to_string().contains("dynamically linked"),
        "{interp}"
    );
    let mut truncated = tiny_elf(2, None);
    truncated.truncate(0x1008);
    assert!(err(&truncated).to_string().contains("past the file end"));
    assert!(err(&truncated)
        .to_string()
        .starts_with("prog: malformed ELF"));
}

#[test]
fn maps_segments_with_protections_and_zero_bss() {
    let bytes = tiny_elf(2, None);
    let info = parse_elf(&bytes, "tiny").unwrap();
    let mem = GuestMemory::reserve().unwrap();
    let image = map_image(&mem, &info, &bytes, "/x/tiny", 0).unwrap();
    assert_eq!(image.entry, 0x10100);
    assert_eq!(image.phdr, 0x10040);
    assert_eq!(image.end, 0x13800);
    let mut data = [0u8; 16];
    mem.read(0x12000, &mut data).unwrap();
    assert_eq!(&data, b"DATA-SEGMENT-16b");
    assert_eq!(mem.read_u64(0x12010).unwrap(), 0, "bss is zero");
    assert_eq!(mem.read_u64(0x137f8).unwrap(), 0, "bss is zero to its end");
    let map = mem.snapshot_map();
    assert_eq!(map.find(0x10000).unwrap().prot, prot::READ | prot::EXEC);
    assert_eq!(map.find(0x13000).unwrap().prot, prot::RW);
    assert_eq!(map.find(0x10000).unwrap().name, "/x/tiny");
    assert_eq!(map.brk_start, 0x14000);
    assert_eq!(
        mem.write_u32(0x10000, 0),
        Err(vmtrans_runtime::Errno::EFAULT),
        "text is read-only"
    );
}

#[test]
fn static_pie_loads_at_the_chosen_base() {
    let bytes = tiny_elf(3, Some(6));
    let info = parse_elf(&bytes, "pie").unwrap();
    assert!(info.pie);
    let mem = GuestMemory::reserve().unwrap();
    let image = map_image(&mem, &info, &bytes, "pie", 0x5555_0000).unwrap();
    assert_eq!(image.bias, 0x5555_0000 - 0x10000);
    assert_eq!(image.entry, 0x5555_0100);
    assert_eq!(image.phdr, 0x5555_0100, "PT_PHDR wins");
    let mut data = [0u8; 4];
    mem.read(0x5555_2000, &mut data).unwrap();
    assert_eq!(&data, b"DATA");
}

fn words(mem: &GuestMemory, at: u64, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| mem.read_u64(at + 8 * i as u64).unwrap())
        .collect()
}

fn string_at(mem: &GuestMemory, at: u64) -> String {
    String::from_utf8(mem.read_cstring(at, 4096).unwrap()).unwrap()
}

#[test]
fn initial_stack_matches_linux_layout() {
    let bytes = tiny_elf(2, None);
    let info = parse_elf(&bytes, "tiny").unwrap();
    let mem = GuestMemory::reserve().unwrap();
    let image = map_image(&mem, &info, &bytes, "./tiny", 0).unwrap();
    let argv = vec![b"./tiny".to_vec(), b"one".to_vec(), b"two words".to_vec()];
    let envp = vec![b"HOME=/root".to_vec(), b"LANG=C".to_vec()];
    let random = *b"0123456789abcdef";
    let contents = StackContents {
        argv: &argv,
        envp: &envp,
        execfn: b"./tiny",
        random,
    };
    let sp = build_stack(&mem, riscv(), &image, 8 << 20, &contents).unwrap();
    assert_eq!(sp % 16, 0);

    // argc, argv[], NULL, envp[], NULL
    let head = words(&mem, sp, 1 + 3 + 1 + 2 + 1);
    assert_eq!(head[0], 3);
    let args: Vec<String> = head[1..4].iter().map(|&p| string_at(&mem, p)).collect();
    assert_eq!(args, ["./tiny", "one", "two words"]);
    assert_eq!(head[4], 0);
    let env: Vec<String> = head[5..7].iter().map(|&p| string_at(&mem, p)).collect();
    assert_eq!(env, ["HOME=/root", "LANG=C"]);
    assert_eq!(head[7], 0);
    // Strings ascend: argv, envp, execfn, then the 8-byte end marker at the top.
    assert!(head[1] < head[2] && head[3] < head[5] && head[5] < head[6]);
    assert_eq!(mem.read_u64(STACK_TOP - 8).unwrap(), 0);

    // auxv, in Linux's order.
    let mut at = sp + 8 * 8;
    let mut aux = Vec::new();
    loop {
        let kv = words(&mem, at, 2);
        aux.push((kv[0], kv[1]));
        at += 16;
        if kv[0] == auxv::AT_NULL {
            break;
        }
    }
    let keys: Vec<u64> = aux.iter().map(|&(k, _)| k).collect();
    use auxv::*;
    assert_eq!(
        keys,
        [
            AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS,
            AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_EXECFN, AT_NULL
        ]
    );
    let val = |k: u64| aux.iter().find(|&&(key, _)| key == k).unwrap().1;
    // SAFETY: id getters cannot fail.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    assert_eq!(val(AT_HWCAP), 0x112d);
    assert_eq!(val(AT_PAGESZ), 4096);
    assert_eq!(val(AT_CLKTCK), 100);
    assert_eq!(val(AT_PHDR), 0x10040);
    assert_eq!(val(AT_PHENT), 56);
    assert_eq!(val(AT_PHNUM), 2);
    assert_eq!(val(AT_BASE), 0);
    assert_eq!(val(AT_FLAGS), 0);
    assert_eq!(val(AT_ENTRY), 0x10100);
    assert_eq!(
        (val(AT_UID), val(AT_EUID), val(AT_GID), val(AT_EGID)),
        (uid as u64, euid as u64, gid as u64, egid as u64)
    );
    assert_eq!(val(AT_SECURE), 0);
    let mut rnd = [0u8; 16];
    mem.read(val(AT_RANDOM), &mut rnd).unwrap();
    assert_eq!(rnd, random);
    assert_eq!(string_at(&mem, val(AT_EXECFN)), "./tiny");
    assert!(val(AT_EXECFN) > head[6], "execfn is the topmost string");
    // The stack region and the mmap base below it.
    let map = mem.snapshot_map();
    let stack = map.find(STACK_TOP - 1).unwrap();
    assert_eq!(
        (stack.start, stack.len, stack.name.as_str()),
        (STACK_TOP - (8 << 20), 8 << 20, "[stack]")
    );
    assert!(map.mmap_base < STACK_TOP - (128 << 20));
}

#[test]
fn huge_arguments_are_refused() {
    let bytes = tiny_elf(2, None);
    let info = parse_elf(&bytes, "tiny").unwrap();
    let mem = GuestMemory::reserve().unwrap();
    let image = map_image(&mem, &info, &bytes, "tiny", 0).unwrap();
    let argv = vec![vec![b'x'; 100_000]];
    let contents = StackContents {
        argv: &argv,
        envp: &[],
        execfn: b"tiny",
        random: [0; 16],
    };
    let err = build_stack(&mem, riscv(), &image, 64 << 10, &contents).unwrap_err();
    assert!(matches!(err, RuntimeError::StackTooSmall { .. }), "{err}");
}

/// Options that reserve guest memory anywhere, so tests loading guests in
/// parallel do not compete for host address 0.
fn memory_anywhere() -> RunOptions {
    RunOptions {
        guest_base: vmtrans_abi::GuestBase::Argument,
        ..RunOptions::default()
    }
}

#[test]
fn guest_load_maps_image_stack_and_trampoline() {
    let bytes = tiny_elf(2, None);
    let guest = Guest::load(
        &bytes,
        "tiny",
        &["tiny"],
        &["A=1"],
        Arc::new(common::NoCode),
        &memory_anywhere(),
    )
    .unwrap();
    let p = &guest.process;
    let tramp = p.sigtramp.load(std::sync::atomic::Ordering::Relaxed);
    let region = p.mem.map().find(tramp).cloned().unwrap();
    assert_eq!(
        (region.prot, region.name.as_str()),
        (prot::READ | prot::EXEC, "[sigtramp]")
    );
    let mut code = [0u8; 8];
    p.mem.read_code(tramp, &mut code).unwrap();
    assert_eq!(&code, p.ops.sigreturn_trampoline());
    assert_eq!(p.mem.read_u64(guest.sp).unwrap(), 1);
    assert!(p.exe_path.is_absolute());
}

#[test]
fn real_fixture_loads_if_present() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testsuite/fixtures/riscv64/hello-O2"
    );
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let info = parse_elf(&bytes, path).unwrap();
    assert_eq!(info.arch, Arch::Riscv64);
    let guest = Guest::load(
        &bytes,
        path,
        &[path],
        &[] as &[&str],
        Arc::new(common::NoCode),
        &memory_anywhere(),
    )
    .unwrap();
    let mut insn = [0u8; 4];
    guest
        .process
        .mem
        .read_code(guest.image.entry, &mut insn)
        .unwrap();
    assert_ne!(insn, [0; 4], "entry has code");
}
