//! Guest memory: mapping, unmapping, protection, brk, mremap, accessors.

use vmtrans_abi::GuestBase;
use vmtrans_runtime::mmu::{
    prot, Backing, MemoryMap, Placement, Region, GUEST_SPACE, MMAP_MIN_ADDR, PAGE_SIZE,
};
use vmtrans_runtime::{Errno, GuestMemory};

const MB: u64 = 1 << 20;

fn mem() -> GuestMemory {
    let mem = GuestMemory::reserve().expect("reserve");
    mem.init_brk(0x40_0000);
    mem.set_mmap_base(0x10_0000_0000);
    mem
}

fn regions(mem: &GuestMemory) -> Vec<(u64, u64, u32)> {
    mem.map()
        .regions()
        .map(|r| (r.start, r.len, r.prot))
        .collect()
}

#[test]
fn reservation_covers_guest_space_and_both_guards() {
    let m = mem();
    assert_eq!(
        m.reserved_len(),
        (1 << vmtrans_abi::GUEST_ADDR_BITS) + 2 * vmtrans_abi::GUEST_GUARD_BYTES
    );
    let base = m.base() as usize;
    let guard = vmtrans_abi::GUEST_GUARD_BYTES as usize;
    assert_eq!(m.reservation_start(), base - guard);
    assert_eq!(m.guarded_start(), base - guard);
    assert_eq!(m.guest_addr_of(base + 0x1234), Some(0x1234));
    assert_eq!(m.guest_addr_of(base - 8), Some(-8i64 as u64));
    assert_eq!(m.guest_addr_of(base - guard - 1), None);
    let end = m.reservation_start() + m.reserved_len() as usize;
    assert_eq!(m.guest_addr_of(end - 1), Some((end - 1 - base) as u64));
    assert_eq!(m.guest_addr_of(end), None);
}

#[test]
fn zero_based_memory_puts_each_guest_address_at_the_same_host_address() {
    let m = GuestMemory::reserve_for(GuestBase::Zero).expect("reserve at host address 0");
    assert!(m.base().is_null());
    assert_eq!(m.reservation_start() as u64, MMAP_MIN_ADDR);
    let guard = vmtrans_abi::GUEST_GUARD_BYTES;
    let end = GUEST_SPACE + guard;
    assert_eq!(m.reservation_start() as u64 + m.reserved_len(), end);
    m.map_fixed(0x20000, PAGE_SIZE, prot::RW, "a").unwrap();
    m.write_u64(0x20008, 0x1122_3344_5566_7788).unwrap();
    // SAFETY: guest page 0x20000 was just mapped read-write, at host 0x20000.
    let host = unsafe { std::ptr::read_volatile(0x20008 as *const u64) };
    assert_eq!(host, 0x1122_3344_5566_7788);
    // The lower guard wraps around the top of the host's address space.
    assert_eq!(m.guest_addr_of(0), Some(0));
    assert_eq!(m.guest_addr_of(usize::MAX - 7), Some(-8i64 as u64));
    assert_eq!(
        m.guest_addr_of(0usize.wrapping_sub(guard as usize)),
        Some(guard.wrapping_neg())
    );
    assert_eq!(
        m.guest_addr_of(0usize.wrapping_sub(guard as usize + 1)),
        None
    );
    assert_eq!(m.guest_addr_of(end as usize - 1), Some(end - 1));
    assert_eq!(m.guest_addr_of(end as usize), None);
    // A second zero-based memory cannot coexist with the first.
    let Err(second) = GuestMemory::reserve_for(GuestBase::Zero) else {
        panic!("a second zero-based memory was reserved");
    };
    assert!(
        second.to_string().contains("at host address 0x10000"),
        "{second}"
    );
}

#[test]
fn fixed_map_read_write_and_efault() {
    let m = mem();
    m.map_fixed(0x10000, 2 * PAGE_SIZE, prot::RW, "a").unwrap();
    m.write_u64(0x10008, 0xdead_beef).unwrap();
    assert_eq!(m.read_u64(0x10008).unwrap(), 0xdead_beef);
    // Spanning the end of the mapping, or unmapped: EFAULT, not a crash.
    assert_eq!(m.read_u64(0x10000 + 2 * PAGE_SIZE - 4), Err(Errno::EFAULT));
    assert_eq!(m.write_u32(0x9000, 1), Err(Errno::EFAULT));
    assert_eq!(m.read_u64(u64::MAX - 3), Err(Errno::EFAULT));
    // Read-only pages refuse writes through the checked accessor.
    m.protect(0x10000, PAGE_SIZE, prot::READ).unwrap();
    assert_eq!(m.write_u32(0x10000, 1), Err(Errno::EFAULT));
    assert_eq!(m.read_u64(0x10008).unwrap(), 0xdead_beef);
    // poke ignores guest protection (loader use) and restores it.
    m.poke(0x10000, &[7]).unwrap();
    assert_eq!(m.read(0x10000, &mut [0]).map(|_| ()), Ok(()));
    assert_eq!(m.map().find(0x10000).unwrap().prot, prot::READ);
}

#[test]
fn unmap_splits_regions_and_tolerates_holes() {
    let m = mem();
    m.map_fixed(0x20000, 4 * PAGE_SIZE, prot::RW, "").unwrap();
    m.unmap(0x21000, PAGE_SIZE).unwrap();
    assert_eq!(
        regions(&m),
        vec![
            (0x20000, PAGE_SIZE, prot::RW),
            (0x22000, 2 * PAGE_SIZE, prot::RW)
        ]
    );
    // Unmapping a range with holes is fine; unaligned or empty is EINVAL.
    m.unmap(0x20000, 8 * PAGE_SIZE).unwrap();
    assert!(regions(&m).is_empty());
    assert_eq!(m.unmap(0x20001, PAGE_SIZE), Err(Errno::EINVAL));
    assert_eq!(m.unmap(0x20000, 0), Err(Errno::EINVAL));
    // The pages are gone: accessors fault.
    assert_eq!(m.read_u32(0x22000), Err(Errno::EFAULT));
}

#[test]
fn protect_splits_and_rejects_holes() {
    let m = mem();
    m.map_fixed(0x30000, 3 * PAGE_SIZE, prot::RW, "x").unwrap();
    m.protect(0x31000, PAGE_SIZE, prot::READ).unwrap();
    assert_eq!(
        regions(&m),
        vec![
            (0x30000, PAGE_SIZE, prot::RW),
            (0x31000, PAGE_SIZE, prot::READ),
            (0x32000, PAGE_SIZE, prot::RW)
        ]
    );
    // Back to RW merges them again.
    m.protect(0x31000, PAGE_SIZE, prot::RW).unwrap();
    assert_eq!(regions(&m), vec![(0x30000, 3 * PAGE_SIZE, prot::RW)]);
    assert_eq!(
        m.protect(0x30000, 4 * PAGE_SIZE, prot::READ),
        Err(Errno::ENOMEM)
    );
    assert_eq!(
        m.protect(0x30001, PAGE_SIZE, prot::READ),
        Err(Errno::EINVAL)
    );
    // Length rounds up to whole pages.
    m.protect(0x30000, 1, prot::READ).unwrap();
    assert_eq!(m.map().find(0x30fff).unwrap().prot, prot::READ);
}

#[test]
fn anywhere_allocations_go_top_down_below_mmap_base() {
    let m = mem();
    let a = m
        .allocate(Placement::Anywhere, PAGE_SIZE, prot::RW, "", Backing::Zero)
        .unwrap();
    let b = m
        .allocate(
            Placement::Anywhere,
            3 * PAGE_SIZE,
            prot::RW,
            "",
            Backing::Zero,
        )
        .unwrap();
    assert_eq!(a, 0x10_0000_0000 - PAGE_SIZE);
    assert_eq!(b, a - 3 * PAGE_SIZE);
    // A free hole is reused.
    m.unmap(a, PAGE_SIZE).unwrap();
    let c = m
        .allocate(Placement::Anywhere, PAGE_SIZE, prot::RW, "", Backing::Zero)
        .unwrap();
    assert_eq!(c, a);
    // A free hint is honoured; a busy one is not.
    let h = m
        .allocate(
            Placement::Hint(0x5000_0000),
            PAGE_SIZE,
            prot::RW,
            "",
            Backing::Zero,
        )
        .unwrap();
    assert_eq!(h, 0x5000_0000);
    let h2 = m
        .allocate(
            Placement::Hint(0x5000_0000),
            PAGE_SIZE,
            prot::RW,
            "",
            Backing::Zero,
        )
        .unwrap();
    assert_ne!(h2, 0x5000_0000);
    // FIXED_NOREPLACE refuses, FIXED replaces (and zeroes).
    m.write_u32(0x5000_0000, 9).unwrap();
    assert_eq!(
        m.allocate(
            Placement::FixedNoReplace(0x5000_0000),
            PAGE_SIZE,
            prot::RW,
            "",
            Backing::Zero
        ),
        Err(Errno::EEXIST)
    );
    m.allocate(
        Placement::Fixed(0x5000_0000),
        PAGE_SIZE,
        prot::RW,
        "",
        Backing::Zero,
    )
    .unwrap();
    assert_eq!(m.read_u32(0x5000_0000).unwrap(), 0);
    assert_eq!(
        m.allocate(Placement::Anywhere, 0, prot::RW, "", Backing::Zero),
        Err(Errno::EINVAL)
    );
}

#[test]
fn fill_backing_writes_initial_contents_then_protects() {
    let m = mem();
    let fill = |host: *mut u8| {
        // SAFETY: the mapping is at least one page.
        unsafe { host.add(5).write(42) };
        Ok(())
    };
    let a = m
        .allocate(
            Placement::Anywhere,
            10,
            prot::READ,
            "file",
            Backing::Fill(&fill),
        )
        .unwrap();
    let mut b = [0u8; 6];
    m.read(a, &mut b).unwrap();
    assert_eq!(b, [0, 0, 0, 0, 0, 42]);
    assert_eq!(m.write(a, &[1]), Err(Errno::EFAULT));
    let failing = |_: *mut u8| Err(Errno::EACCES);
    assert_eq!(
        m.allocate(
            Placement::Anywhere,
            10,
            prot::READ,
            "f",
            Backing::Fill(&failing)
        ),
        Err(Errno::EACCES)
    );
    assert_eq!(m.map().regions().filter(|r| r.name == "f").count(), 0);
}

#[test]
fn brk_grows_shrinks_and_refuses_collisions() {
    let m = mem();
    assert_eq!(m.brk(0), 0x40_0000);
    assert_eq!(m.brk(0x40_0000 + 100), 0x40_0064);
    m.write_u32(0x40_0060, 1).unwrap();
    assert_eq!(m.brk(0x40_0000 + 3 * PAGE_SIZE), 0x40_3000);
    assert_eq!(regions(&m), vec![(0x40_0000, 3 * PAGE_SIZE, prot::RW)]);
    assert_eq!(m.map().find(0x40_0000).unwrap().name, "[heap]");
    // Shrinking unmaps whole pages above the new break.
    assert_eq!(m.brk(0x40_0010), 0x40_0010);
    assert_eq!(m.read_u32(0x40_1000), Err(Errno::EFAULT));
    assert_eq!(m.read_u32(0x40_0060).unwrap(), 1);
    // Below the start: no change. Into another mapping: no change.
    assert_eq!(m.brk(0x10), 0x40_0010);
    m.map_fixed(0x40_2000, PAGE_SIZE, prot::READ, "").unwrap();
    assert_eq!(m.brk(0x40_5000), 0x40_0010);
    // Growth freshly zeroes pages that were released.
    assert_eq!(m.brk(0x40_2000), 0x40_2000);
    assert_eq!(m.read_u32(0x40_1000).unwrap(), 0);
}

#[test]
fn mremap_shrinks_grows_in_place_and_moves() {
    let m = mem();
    let a = 0x60_0000;
    m.map_fixed(a, 4 * PAGE_SIZE, prot::RW, "").unwrap();
    m.write_u64(a, 0x1122).unwrap();
    // Shrink in place.
    assert_eq!(m.remap(a, 4 * PAGE_SIZE, 2 * PAGE_SIZE, 0, 0), Ok(a));
    assert_eq!(m.read_u32(a + 2 * PAGE_SIZE), Err(Errno::EFAULT));
    // Grow in place when the space after is free.
    assert_eq!(m.remap(a, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 0, 0), Ok(a));
    assert_eq!(m.read_u32(a + 2 * PAGE_SIZE).unwrap(), 0);
    // Blocked: ENOMEM without MAYMOVE, a move with it.
    m.map_fixed(a + 3 * PAGE_SIZE, PAGE_SIZE, prot::READ, "")
        .unwrap();
    assert_eq!(
        m.remap(a, 3 * PAGE_SIZE, 8 * PAGE_SIZE, 0, 0),
        Err(Errno::ENOMEM)
    );
    let moved = m.remap(a, 3 * PAGE_SIZE, 8 * PAGE_SIZE, 1, 0).unwrap();
    assert_ne!(moved, a);
    assert_eq!(m.read_u64(moved).unwrap(), 0x1122);
    assert_eq!(m.read_u32(a), Err(Errno::EFAULT));
    assert_eq!(m.map().find(moved).unwrap().len, 8 * PAGE_SIZE);
    // MREMAP_FIXED to a chosen address.
    let target = 0x7000_0000;
    assert_eq!(
        m.remap(moved, 8 * PAGE_SIZE, 8 * PAGE_SIZE, 3, target),
        Ok(target)
    );
    assert_eq!(m.read_u64(target).unwrap(), 0x1122);
    // Bad arguments.
    assert_eq!(
        m.remap(target + 1, PAGE_SIZE, PAGE_SIZE, 0, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(m.remap(target, PAGE_SIZE, 0, 0, 0), Err(Errno::EINVAL));
    assert_eq!(
        m.remap(0x9000_0000, PAGE_SIZE, 2 * PAGE_SIZE, 1, 0),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        m.remap(target, PAGE_SIZE, PAGE_SIZE, 2, 0x1000),
        Err(Errno::EINVAL)
    );
}

#[test]
fn discard_zeroes_private_anonymous_pages() {
    let m = mem();
    m.map_fixed(0x80_0000, 2 * PAGE_SIZE, prot::RW, "").unwrap();
    m.write_u64(0x80_1000, 5).unwrap();
    m.discard(0x80_0000, 2 * PAGE_SIZE).unwrap();
    assert_eq!(m.read_u64(0x80_1000).unwrap(), 0);
    assert_eq!(m.discard(0x90_0000, PAGE_SIZE), Err(Errno::ENOMEM));
}

#[test]
fn read_cstring_crosses_pages_and_stops_at_limits() {
    let m = mem();
    m.map_fixed(0xa0_0000, 2 * PAGE_SIZE, prot::RW, "").unwrap();
    let at = 0xa0_0000 + PAGE_SIZE - 3;
    m.write(at, b"hello\0").unwrap();
    assert_eq!(m.read_cstring(at, 100).unwrap(), b"hello");
    assert_eq!(m.read_cstring(at, 3), Err(Errno::ENAMETOOLONG));
    // No NUL before the end of the mapping: EFAULT.
    m.write(0xa0_0000 + 2 * PAGE_SIZE - 2, b"ab").unwrap();
    assert_eq!(
        m.read_cstring(0xa0_0000 + 2 * PAGE_SIZE - 2, 100),
        Err(Errno::EFAULT)
    );
}

#[test]
fn memory_map_is_serializable_plain_data() {
    let m = mem();
    m.map_fixed(0x10000, PAGE_SIZE, prot::READ | prot::EXEC, "/bin/prog")
        .unwrap();
    m.brk(0x40_0000 + MB);
    let map = m.snapshot_map();
    let json = serde_json::to_string(&map).unwrap();
    let back: MemoryMap = serde_json::from_str(&json).unwrap();
    assert_eq!(back, map);
    let first: Vec<Region> = back.regions().cloned().collect();
    assert_eq!(
        first[0],
        Region {
            start: 0x10000,
            len: PAGE_SIZE,
            prot: prot::READ | prot::EXEC,
            name: "/bin/prog".into(),
            shared: false
        }
    );
    assert_eq!(back.brk, 0x40_0000 + MB);
}
