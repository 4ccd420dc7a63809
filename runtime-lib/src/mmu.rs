//! Guest memory: one host reservation holding the whole guest address space.
//!
//! Guest address `a` lives at host address `base + a`, where `base` is 0
//! when the runtime runs guests ([`GuestBase::Zero`]: a masked guest
//! address is its host address) and anywhere for embedders
//! ([`GuestBase::Argument`]). The runtime reserves 2^[`GUEST_ADDR_BITS`]
//! bytes with [`GUEST_GUARD_BYTES`] on each side, all `PROT_NONE`, so
//! generated code can turn any (masked) guest address, plus a small
//! displacement, into a host address with at most one add: unmapped guest
//! pages are `PROT_NONE` host pages and fault, and so do the guards.
//!
//! [`MemoryMap`] is the guest's view of its address space as plain data
//! (regions with start, length, protection and name, the brk area and the
//! mmap allocator's bounds); [`GuestMemory`] keeps it in step with the host
//! pages and offers checked accessors that return `EFAULT` instead of
//! faulting.

use crate::error::{Errno, RuntimeError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use vmtrans_abi::{GuestBase, GUEST_ADDR_BITS, GUEST_GUARD_BYTES};

/// Guest (and host) page size.
pub const PAGE_SIZE: u64 = 4096;
/// Size of the guest address space: valid guest addresses are below this.
pub const GUEST_SPACE: u64 = 1 << GUEST_ADDR_BITS;
/// Bytes of the guest space with its two guards.
pub const GUEST_ADDR_SPAN: u64 = GUEST_SPACE + 2 * GUEST_GUARD_BYTES;
/// Lowest address a non-fixed guest mmap may return (Linux `mmap_min_addr`).
pub const MMAP_MIN_ADDR: u64 = 0x10000;

/// Guest protection bits (the Linux `PROT_*` values, the same on every guest).
pub mod prot {
    /// Pages may be read.
    pub const READ: u32 = 1;
    /// Pages may be written.
    pub const WRITE: u32 = 2;
    /// Pages may be executed.
    pub const EXEC: u32 = 4;
    /// Read and write.
    pub const RW: u32 = READ | WRITE;
}

/// Rounds `addr` down to a page boundary.
pub const fn page_down(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// Rounds `addr` up to a page boundary (saturating at the last page).
pub const fn page_up(addr: u64) -> u64 {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(a) => a & !(PAGE_SIZE - 1),
        None => !(PAGE_SIZE - 1),
    }
}

/// One mapped range of guest pages with uniform attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// First guest address (page aligned).
    pub start: u64,
    /// Length in bytes (a multiple of the page size).
    pub len: u64,
    /// Guest protection ([`prot`] bits).
    pub prot: u32,
    /// What the pages hold: a file path, `[heap]`, `[stack]`, or empty for
    /// anonymous memory.
    pub name: String,
    /// A shared (`MAP_SHARED`) mapping.
    pub shared: bool,
}

impl Region {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.start + self.len
    }

    fn same_kind(&self, other: &Region) -> bool {
        self.prot == other.prot && self.name == other.name && self.shared == other.shared
    }
}

/// The guest memory map as plain data: serializable for snapshots and
/// testable without touching host pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryMap {
    regions: BTreeMap<u64, Region>,
    /// Start of the brk area (page aligned end of the loaded image).
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
    /// Top-down mmap allocations are placed below this address.
    pub mmap_base: u64,
}

impl MemoryMap {
    /// All regions in address order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// The region containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Region> {
        self.regions
            .range(..=addr)
            .next_back()
            .map(|(_, r)| r)
            .filter(|r| addr < r.end())
    }

    /// Whether any page of `start..start+len` is mapped.
    pub fn overlaps(&self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        self.regions
            .range(..end)
            .next_back()
            .is_some_and(|(_, r)| r.end() > start)
    }

    /// Adds `region`, replacing whatever was mapped in its range, and merges
    /// it with neighbours of the same kind (as Linux merges VMAs).
    pub fn insert(&mut self, region: Region) {
        self.remove(region.start, region.len);
        let mut region = region;
        let left = self
            .regions
            .range(..region.start)
            .next_back()
            .filter(|(_, l)| l.end() == region.start && l.same_kind(&region))
            .map(|(&k, _)| k);
        if let Some(left) = left.and_then(|k| self.regions.remove(&k)) {
            region.start = left.start;
            region.len += left.len;
        }
        let right = self
            .regions
            .get(&region.end())
            .filter(|r| r.same_kind(&region))
            .map(|r| r.start);
        if let Some(right) = right.and_then(|k| self.regions.remove(&k)) {
            region.len += right.len;
        }
        self.regions.insert(region.start, region);
    }

    /// Unmaps `start..start+len`, splitting regions at the edges; returns the
    /// pieces that were removed.
    pub fn remove(&mut self, start: u64, len: u64) -> Vec<Region> {
        let end = start.saturating_add(len);
        let hit: Vec<u64> = self
            .regions
            .range(..end)
            .rev()
            .take_while(|(_, r)| r.end() > start)
            .map(|(&k, _)| k)
            .collect();
        let mut removed = Vec::new();
        for key in hit.into_iter().rev() {
            let r = self.regions.remove(&key).expect("present");
            if r.start < start {
                self.regions.insert(
                    r.start,
                    Region {
                        len: start - r.start,
                        ..r.clone()
                    },
                );
            }
            if r.end() > end {
                self.regions.insert(
                    end,
                    Region {
                        start: end,
                        len: r.end() - end,
                        ..r.clone()
                    },
                );
            }
            let piece_start = r.start.max(start);
            let piece_end = r.end().min(end);
            removed.push(Region {
                start: piece_start,
                len: piece_end - piece_start,
                ..r
            });
        }
        removed
    }

    /// Whether `start..start+len` is mapped without holes.
    pub fn covered(&self, start: u64, len: u64) -> bool {
        self.accessible_len(start, len, 0) == len
    }

    /// How many bytes from `start` (at most `len`) are mapped without holes
    /// with at least the protection bits `need`.
    pub fn accessible_len(&self, start: u64, len: u64, need: u32) -> u64 {
        let end = start.saturating_add(len);
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some(r) if r.prot & need == need => at = r.end(),
                _ => break,
            }
        }
        at.min(end) - start
    }

    /// Changes the protection of `start..start+len`; `ENOMEM` if any page
    /// in it is unmapped (as Linux).
    pub fn protect(&mut self, start: u64, len: u64, prot: u32) -> Result<(), Errno> {
        if !self.covered(start, len) {
            return Err(Errno::ENOMEM);
        }
        for piece in self.remove(start, len) {
            self.insert(Region { prot, ..piece });
        }
        Ok(())
    }

    /// The highest `len`-byte free gap that ends at or below `top` and starts
    /// at or above `bottom`.
    pub fn find_free_top_down(&self, len: u64, top: u64, bottom: u64) -> Option<u64> {
        let mut end = top;
        for r in self.regions.range(..top).rev().map(|(_, r)| r) {
            if r.end() <= end && end - r.end() >= len {
                break;
            }
            end = end.min(r.start);
        }
        (end >= bottom.saturating_add(len)).then(|| end - len)
    }
}

/// Where a new mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Exactly here, replacing existing mappings (`MAP_FIXED`).
    Fixed(u64),
    /// Exactly here, failing with `EEXIST` if anything is mapped there
    /// (`MAP_FIXED_NOREPLACE`).
    FixedNoReplace(u64),
    /// Here if the range is free, otherwise anywhere (an mmap hint).
    Hint(u64),
    /// Anywhere (top-down below the stack, like Linux).
    Anywhere,
}

/// How the pages of a new mapping are filled.
pub enum Backing<'a> {
    /// Zero pages.
    Zero,
    /// Zero pages then this callback writes the initial contents through the
    /// host pointer of the mapping's first byte (the loader's segments).
    Fill(&'a dyn Fn(*mut u8) -> Result<(), Errno>),
    /// The host file descriptor, mapped shared at this offset (a negative
    /// descriptor: shared anonymous memory). Writes reach the file's page
    /// cache, so every other mapping and `read` of the file sees them.
    SharedFile {
        /// Host file descriptor.
        fd: i32,
        /// File offset (page aligned).
        offset: i64,
    },
    /// The host file descriptor, mapped private (copy-on-write) at this
    /// offset: until the guest writes a page, it shows the file's current
    /// contents (writes through shared mappings included), and touching a
    /// page wholly past the end of the file raises SIGBUS, as on Linux.
    PrivateFile {
        /// Host file descriptor.
        fd: i32,
        /// File offset (page aligned).
        offset: i64,
    },
}

/// The guest address space: a host reservation plus its [`MemoryMap`].
pub struct GuestMemory {
    /// Host address of guest address 0 (the reservation starts one guard
    /// below).
    /// Host address of guest address 0.
    base: usize,
    /// Host address where the reservation starts.
    host_start: usize,
    reserved: u64,
    map: Mutex<MemoryMap>,
}

// SAFETY: the reservation is plain memory owned by this value; the map is
// behind a mutex and host pages are only changed while holding it.
unsafe impl Send for GuestMemory {}
// SAFETY: see `Send`; shared access goes through the mutex or raw host
// accesses whose safety the callers check against the map.
unsafe impl Sync for GuestMemory {}

fn host_prot(guest: u32) -> i32 {
    let mut p = libc::PROT_NONE;
    if guest & (prot::READ | prot::WRITE | prot::EXEC) != 0 {
        // Exec-only guest pages stay host-readable so the JIT can read code.
        p |= libc::PROT_READ;
    }
    if guest & prot::WRITE != 0 {
        p |= libc::PROT_WRITE;
    }
    p
}

fn check_range(addr: u64, len: u64) -> Result<(), Errno> {
    match addr.checked_add(len) {
        Some(end) if end <= GUEST_SPACE => Ok(()),
        _ => Err(Errno::ENOMEM),
    }
}

impl GuestMemory {
    /// Reserves the guest address space anywhere in the host's (nothing
    /// mapped yet): for code built with [`GuestBase::Argument`].
    pub fn reserve() -> Result<GuestMemory, RuntimeError> {
        GuestMemory::reserve_for(GuestBase::Argument)
    }

    /// Reserves the guest address space where code built for `base`
    /// expects it. [`GuestBase::Zero`] puts guest address `a` at host
    /// address `a`: the host range from [`MMAP_MIN_ADDR`] to the end of the
    /// upper guard must be free (it is in a position-independent host
    /// process, whose mappings are all far above 2^40); the lower guard is
    /// the top of the address space, the host kernel's, which always
    /// faults.
    pub fn reserve_for(base: GuestBase) -> Result<GuestMemory, RuntimeError> {
        let (hint, size, flags) = match base {
            GuestBase::Zero => (
                MMAP_MIN_ADDR as usize,
                GUEST_SPACE + GUEST_GUARD_BYTES - MMAP_MIN_ADDR,
                libc::MAP_FIXED_NOREPLACE,
            ),
            GuestBase::Argument => (0, GUEST_SPACE + 2 * GUEST_GUARD_BYTES, 0),
        };
        // SAFETY: a fresh anonymous PROT_NONE mapping, at a kernel-chosen
        // address or where nothing is mapped (MAP_FIXED_NOREPLACE), touches
        // no existing memory.
        let ptr = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                size as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | flags,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(RuntimeError::Reserve {
                size,
                at: (base == GuestBase::Zero).then_some(hint as u64),
                source: std::io::Error::last_os_error(),
            });
        }
        let host = ptr as usize;
        let base = match base {
            GuestBase::Zero => 0,
            GuestBase::Argument => host + GUEST_GUARD_BYTES as usize,
        };
        Ok(GuestMemory {
            base,
            host_start: host,
            reserved: size,
            map: Mutex::new(MemoryMap::default()),
        })
    }

    /// Host address of guest address 0 (null for [`GuestBase::Zero`]).
    pub fn base(&self) -> *mut u8 {
        self.base as *mut u8
    }

    /// Bytes of host address space reserved.
    pub fn reserved_len(&self) -> u64 {
        self.reserved
    }

    /// Host address where the reservation starts.
    pub fn reservation_start(&self) -> usize {
        self.host_start
    }

    /// Host address where the guest space's lower guard starts: the guest
    /// space and its two guards are the [`GUEST_ADDR_SPAN`] bytes from
    /// here, wrapping around the top of the host's address space when the
    /// base is 0.
    pub fn guarded_start(&self) -> usize {
        self.base.wrapping_sub(GUEST_GUARD_BYTES as usize)
    }

    /// The guest address of host address `host`, if it is inside the guest
    /// space or its guards (below the guest space that is a wrapped,
    /// "negative" address, as the guest computed it).
    pub fn guest_addr_of(&self, host: usize) -> Option<u64> {
        let inside = (host.wrapping_sub(self.guarded_start()) as u64) < GUEST_ADDR_SPAN;
        inside.then(|| host.wrapping_sub(self.base) as u64)
    }

    /// Locks and returns the memory map.
    pub fn map(&self) -> MutexGuard<'_, MemoryMap> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the memory map.
    pub fn snapshot_map(&self) -> MemoryMap {
        self.map().clone()
    }

    fn host(&self, addr: u64) -> *mut u8 {
        // Callers pass guest addresses below GUEST_SPACE, so the result
        // stays inside the reservation (or is guest page 0, never mapped).
        (self.base + addr as usize) as *mut u8
    }

    fn host_mmap(
        &self,
        addr: u64,
        len: u64,
        hprot: i32,
        flags: i32,
        fd: i32,
        off: i64,
    ) -> Result<(), Errno> {
        // SAFETY: the range lies inside our reservation (checked by callers),
        // so MAP_FIXED replaces only guest pages.
        let p = unsafe {
            libc::mmap(
                self.host(addr).cast(),
                len as usize,
                hprot,
                flags | libc::MAP_FIXED,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            Err(Errno::last())
        } else {
            Ok(())
        }
    }

    fn host_map_zero(&self, addr: u64, len: u64, hprot: i32) -> Result<(), Errno> {
        self.host_mmap(
            addr,
            len,
            hprot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    }

    fn host_release(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        self.host_mmap(addr, len, libc::PROT_NONE, flags, -1, 0)
    }

    fn host_protect(&self, addr: u64, len: u64, guest_prot: u32) -> Result<(), Errno> {
        // SAFETY: the range lies inside our reservation.
        let r =
            unsafe { libc::mprotect(self.host(addr).cast(), len as usize, host_prot(guest_prot)) };
        if r == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    }

    /// Maps zeroed pages at exactly `addr` (replacing what was there).
    pub fn map_fixed(&self, addr: u64, len: u64, prot: u32, name: &str) -> Result<(), Errno> {
        self.allocate(Placement::Fixed(addr), len, prot, name, Backing::Zero)
            .map(|_| ())
    }

    /// Maps `len` bytes of guest pages placed per `placement`, filled per
    /// `backing`, and returns the guest address. `EINVAL` for unaligned
    /// fixed addresses or zero length, `ENOMEM` when nothing fits.
    pub fn allocate(
        &self,
        placement: Placement,
        len: u64,
        prot: u32,
        name: &str,
        backing: Backing<'_>,
    ) -> Result<u64, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        let mut map = self.map();
        let addr = Self::place(&map, placement, len)?;
        let shared = matches!(backing, Backing::SharedFile { .. });
        match backing {
            Backing::Zero => self.host_map_zero(addr, len, host_prot(prot))?,
            Backing::Fill(fill) => {
                self.host_map_zero(addr, len, libc::PROT_READ | libc::PROT_WRITE)?;
                if let Err(e) =
                    fill(self.host(addr)).and_then(|()| self.host_protect(addr, len, prot))
                {
                    self.host_release(addr, len)?;
                    map.remove(addr, len);
                    return Err(e);
                }
            }
            Backing::SharedFile { fd, offset } => {
                let anon = if fd < 0 { libc::MAP_ANONYMOUS } else { 0 };
                self.host_mmap(
                    addr,
                    len,
                    host_prot(prot),
                    libc::MAP_SHARED | anon,
                    fd,
                    offset,
                )?
            }
            Backing::PrivateFile { fd, offset } => {
                self.host_mmap(addr, len, host_prot(prot), libc::MAP_PRIVATE, fd, offset)?
            }
        }
        map.insert(Region {
            start: addr,
            len,
            prot,
            name: name.to_string(),
            shared,
        });
        Ok(addr)
    }

    fn place(map: &MemoryMap, placement: Placement, len: u64) -> Result<u64, Errno> {
        match placement {
            Placement::Fixed(addr) | Placement::FixedNoReplace(addr) => {
                if addr % PAGE_SIZE != 0 {
                    return Err(Errno::EINVAL);
                }
                check_range(addr, len)?;
                if matches!(placement, Placement::FixedNoReplace(_)) && map.overlaps(addr, len) {
                    return Err(Errno::EEXIST);
                }
                Ok(addr)
            }
            Placement::Hint(addr) => {
                let addr = page_down(addr);
                let fits = addr >= MMAP_MIN_ADDR
                    && check_range(addr, len).is_ok()
                    && !map.overlaps(addr, len);
                if fits {
                    Ok(addr)
                } else {
                    Self::place(map, Placement::Anywhere, len)
                }
            }
            Placement::Anywhere => {
                let top = if map.mmap_base == 0 {
                    GUEST_SPACE
                } else {
                    map.mmap_base
                };
                map.find_free_top_down(len, top, MMAP_MIN_ADDR)
                    .or_else(|| map.find_free_top_down(len, GUEST_SPACE, top))
                    .ok_or(Errno::ENOMEM)
            }
        }
    }

    /// Unmaps `addr..addr+len` (`EINVAL` if unaligned or empty); unmapped
    /// pages in the range are fine, as in Linux.
    pub fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        check_range(addr, len).map_err(|_| Errno::EINVAL)?;
        let mut map = self.map();
        self.host_release(addr, len)?;
        map.remove(addr, len);
        Ok(())
    }

    /// Changes the protection of `addr..addr+len`: `EINVAL` if unaligned,
    /// `ENOMEM` if any page is unmapped.
    pub fn protect(&self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        if len == 0 {
            return Ok(());
        }
        check_range(addr, len)?;
        let mut map = self.map();
        map.protect(addr, len, prot)?;
        self.host_protect(addr, len, prot)
    }

    /// Sets up an empty brk area starting at `start` (page aligned up).
    pub fn init_brk(&self, start: u64) {
        let mut map = self.map();
        map.brk_start = page_up(start);
        map.brk = map.brk_start;
    }

    /// Sets where top-down mmap allocations start.
    pub fn set_mmap_base(&self, base: u64) {
        self.map().mmap_base = page_down(base);
    }

    /// The brk system call: moves the program break to `new` if possible
    /// and returns the break in effect afterwards (Linux semantics: a failed
    /// request returns the old break).
    pub fn brk(&self, new: u64) -> u64 {
        let mut map = self.map();
        let old = map.brk;
        if new < map.brk_start || new >= GUEST_SPACE {
            return old;
        }
        let (old_top, new_top) = (page_up(old), page_up(new));
        if new_top > old_top {
            let len = new_top - old_top;
            let limit = if map.mmap_base == 0 {
                GUEST_SPACE
            } else {
                map.mmap_base
            };
            if new_top > limit
                || map.overlaps(old_top, len)
                || self
                    .host_map_zero(old_top, len, libc::PROT_READ | libc::PROT_WRITE)
                    .is_err()
            {
                return old;
            }
            map.insert(Region {
                start: old_top,
                len,
                prot: prot::RW,
                name: "[heap]".into(),
                shared: false,
            });
        } else if new_top < old_top {
            if self.host_release(new_top, old_top - new_top).is_err() {
                return old;
            }
            map.remove(new_top, old_top - new_top);
        }
        map.brk = new;
        new
    }

    /// The mremap system call (`flags` are `MREMAP_MAYMOVE` = 1 and
    /// `MREMAP_FIXED` = 2): resizes or moves the mapping at `old`.
    pub fn remap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u32,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        const MAYMOVE: u32 = 1;
        const FIXED: u32 = 2;
        if !old.is_multiple_of(PAGE_SIZE)
            || new_len == 0
            || old_len == 0
            || flags & !(MAYMOVE | FIXED) != 0
        {
            return Err(Errno::EINVAL);
        }
        if flags & FIXED != 0 && (flags & MAYMOVE == 0 || !new_addr.is_multiple_of(PAGE_SIZE)) {
            return Err(Errno::EINVAL);
        }
        let (old_len, new_len) = (page_up(old_len), page_up(new_len));
        check_range(old, old_len).map_err(|_| Errno::EFAULT)?;
        let mut map = self.map();
        let Some(template) = map.find(old).cloned() else {
            return Err(Errno::EFAULT);
        };
        if !map.covered(old, old_len) {
            return Err(Errno::EFAULT);
        }
        if flags & FIXED != 0 {
            check_range(new_addr, new_len)?;
            if new_addr < old + old_len && old < new_addr + new_len {
                return Err(Errno::EINVAL);
            }
            return self.move_pages(&mut map, &template, old, old_len, new_len, new_addr);
        }
        if new_len <= old_len {
            if new_len < old_len {
                self.host_release(old + new_len, old_len - new_len)?;
                map.remove(old + new_len, old_len - new_len);
            }
            return Ok(old);
        }
        let grow = new_len - old_len;
        if check_range(old, new_len).is_ok()
            && !map.overlaps(old + old_len, grow)
            && !template.shared
        {
            self.host_map_zero(old + old_len, grow, host_prot(template.prot))?;
            map.insert(Region {
                start: old + old_len,
                len: grow,
                ..template
            });
            return Ok(old);
        }
        if flags & MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let new_addr = Self::place(&map, Placement::Anywhere, new_len)?;
        self.move_pages(&mut map, &template, old, old_len, new_len, new_addr)
    }

    fn move_pages(
        &self,
        map: &mut MemoryMap,
        template: &Region,
        old: u64,
        old_len: u64,
        new_len: u64,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        // SAFETY: both ranges are inside the reservation and disjoint; the
        // host moves the pages (MREMAP_FIXED replaces our PROT_NONE
        // reservation at the target) and we re-reserve the old range right
        // after, while holding the map lock.
        let moved = unsafe {
            libc::mremap(
                self.host(old).cast(),
                old_len as usize,
                new_len as usize,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                self.host(new_addr),
            )
        };
        if moved == libc::MAP_FAILED {
            // The old range spans several host mappings: copy instead.
            self.host_map_zero(new_addr, new_len, libc::PROT_READ | libc::PROT_WRITE)?;
            // SAFETY: both ranges are mapped readable/writable host pages of
            // at least `old_len.min(new_len)` bytes and do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.host(old),
                    self.host(new_addr),
                    old_len.min(new_len) as usize,
                )
            };
            self.host_protect(new_addr, new_len, template.prot)?;
        }
        self.host_release(old, old_len)?;
        map.remove(old, old_len);
        map.insert(Region {
            start: new_addr,
            len: new_len,
            ..template.clone()
        });
        Ok(new_addr)
    }

    /// madvise(MADV_DONTNEED): private anonymous pages read back as zero.
    pub fn discard(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        check_range(addr, len)?;
        let map = self.map();
        if !map.covered(addr, len) {
            return Err(Errno::ENOMEM);
        }
        // SAFETY: the range is mapped guest memory inside our reservation.
        let r = unsafe { libc::madvise(self.host(addr).cast(), len as usize, libc::MADV_DONTNEED) };
        if r == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    }

    /// The host pointer for `addr..addr+len` after checking only that the
    /// range lies in the guest space (`EFAULT` otherwise). For handing guest
    /// buffers to host system calls: the host kernel then reports `EFAULT`
    /// for unmapped or read-only pages exactly as Linux would for the guest.
    pub fn host_ptr(&self, addr: u64, len: u64) -> Result<*mut u8, Errno> {
        check_range(addr, len).map_err(|_| Errno::EFAULT)?;
        Ok(self.host(addr))
    }

    fn checked(&self, addr: u64, len: u64, need: u32) -> Result<MutexGuard<'_, MemoryMap>, Errno> {
        check_range(addr, len).map_err(|_| Errno::EFAULT)?;
        let map = self.map();
        if map.accessible_len(addr, len, need) == len {
            Ok(map)
        } else {
            Err(Errno::EFAULT)
        }
    }

    /// Copies guest memory at `addr` into `buf` (`EFAULT` unless readable).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let _map = self.checked(addr, buf.len() as u64, prot::READ)?;
        // SAFETY: the map says the range is mapped readable, the map lock
        // keeps it so, and `buf` is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(self.host(addr), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` into guest memory at `addr` (`EFAULT` unless writable).
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let _map = self.checked(addr, data.len() as u64, prot::WRITE)?;
        // SAFETY: the map says the range is mapped writable and the lock
        // keeps it so.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.host(addr), data.len()) };
        Ok(())
    }

    /// Copies guest code at `addr` into `buf` (needs execute permission),
    /// for translators.
    pub fn read_code(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let _map = self.checked(addr, buf.len() as u64, prot::EXEC)?;
        // SAFETY: executable guest pages are host-readable (see `host_prot`).
        unsafe { std::ptr::copy_nonoverlapping(self.host(addr), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Writes `data` at `addr` whatever the guest protection (the range must
    /// be mapped): for the loader and the runtime's own structures.
    pub fn poke(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let map = self.checked(addr, data.len() as u64, 0)?;
        let restore: Vec<Region> = map
            .regions()
            .filter(|r| {
                r.prot & prot::WRITE == 0 && r.end() > addr && r.start < addr + data.len() as u64
            })
            .cloned()
            .collect();
        for r in &restore {
            self.host_protect(r.start, r.len, r.prot | prot::WRITE)?;
        }
        // SAFETY: the range is mapped and now host-writable.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.host(addr), data.len()) };
        for r in &restore {
            self.host_protect(r.start, r.len, r.prot)?;
        }
        Ok(())
    }

    /// Reads a little-endian u64.
    pub fn read_u64(&self, addr: u64) -> Result<u64, Errno> {
        let mut b = [0; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a little-endian u32.
    pub fn read_u32(&self, addr: u64) -> Result<u32, Errno> {
        let mut b = [0; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Writes a little-endian u64.
    pub fn write_u64(&self, addr: u64, value: u64) -> Result<(), Errno> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Writes a little-endian u32.
    pub fn write_u32(&self, addr: u64, value: u32) -> Result<(), Errno> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the
    /// NUL): `EFAULT` on unreadable memory, `ENAMETOOLONG` when longer.
    pub fn read_cstring(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let chunk = (page_up(at + 1) - at) as usize;
            let mut buf = vec![0; chunk];
            self.read(at, &mut buf)?;
            if let Some(nul) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..nul]);
                return if out.len() > max {
                    Err(Errno::ENAMETOOLONG)
                } else {
                    Ok(out)
                };
            }
            out.extend_from_slice(&buf);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            at += chunk as u64;
        }
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: we own the whole reservation and nothing refers to it once
        // the memory is dropped.
        unsafe {
            libc::munmap(
                self.reservation_start() as *mut libc::c_void,
                self.reserved as usize,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start: u64, len: u64, prot: u32) -> Region {
        Region {
            start,
            len,
            prot,
            name: String::new(),
            shared: false,
        }
    }

    #[test]
    fn insert_merges_and_remove_splits() {
        let mut m = MemoryMap::default();
        m.insert(region(0x1000, 0x1000, prot::RW));
        m.insert(region(0x2000, 0x1000, prot::RW));
        assert_eq!(m.regions().count(), 1);
        let removed = m.remove(0x1800, 0x100);
        assert_eq!(removed, vec![region(0x1800, 0x100, prot::RW)]);
        let starts: Vec<_> = m.regions().map(|r| (r.start, r.len)).collect();
        assert_eq!(starts, vec![(0x1000, 0x800), (0x1900, 0x1700)]);
    }

    #[test]
    fn find_free_skips_used_ranges() {
        let mut m = MemoryMap::default();
        m.insert(region(0x8000, 0x2000, prot::READ));
        assert_eq!(m.find_free_top_down(0x1000, 0xa000, 0x1000), Some(0x7000));
        assert_eq!(m.find_free_top_down(0x1000, 0xb000, 0x1000), Some(0xa000));
        assert_eq!(m.find_free_top_down(0x8000, 0xa000, 0x1000), None);
    }

    #[test]
    fn protect_requires_full_coverage() {
        let mut m = MemoryMap::default();
        m.insert(region(0x1000, 0x1000, prot::RW));
        assert_eq!(m.protect(0x1000, 0x2000, prot::READ), Err(Errno::ENOMEM));
        assert_eq!(m.protect(0x1000, 0x1000, prot::READ), Ok(()));
        assert_eq!(m.find(0x1fff).map(|r| r.prot), Some(prot::READ));
    }
}
