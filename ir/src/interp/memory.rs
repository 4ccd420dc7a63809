//! Guest memory as the interpreter sees it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;

/// A guest memory access that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// First guest address of the access.
    pub addr: u64,
    /// Access size in bytes.
    pub bytes: u32,
    /// True for a write.
    pub write: bool,
}

impl fmt::Display for MemFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.write { "write" } else { "read" };
        write!(f, "{kind} of {} byte(s) at {:#x}", self.bytes, self.addr)
    }
}

/// Guest memory: little-endian loads and stores of 1 to 16 bytes at any
/// alignment.
pub trait Memory {
    /// Reads `bytes` bytes at `addr` as a little-endian integer.
    fn load(&mut self, addr: u64, bytes: u32) -> Result<u128, MemFault>;
    /// Writes the low `bytes` bytes of `value` at `addr`, little endian.
    fn store(&mut self, addr: u64, bytes: u32, value: u128) -> Result<(), MemFault>;
}

const PAGE: u64 = 4096;

/// A sparse byte-addressed memory: pages appear (zero-filled) when touched.
/// Either every address is accessible, or only the given regions are (an
/// access with any byte outside them faults).
#[derive(Clone, Debug, Default)]
pub struct SparseMemory {
    pages: HashMap<u64, Box<[u8; PAGE as usize]>>,
    regions: Option<Vec<Range<u64>>>,
}

impl SparseMemory {
    /// A memory in which every address is readable (as zero) and writable.
    pub fn new() -> SparseMemory {
        SparseMemory::default()
    }

    /// A memory in which only `region` is accessible.
    pub fn with_region(region: Range<u64>) -> SparseMemory {
        SparseMemory::with_regions(std::iter::once(region))
    }

    /// A memory in which only `regions` are accessible.
    pub fn with_regions(regions: impl IntoIterator<Item = Range<u64>>) -> SparseMemory {
        SparseMemory {
            pages: HashMap::new(),
            regions: Some(regions.into_iter().collect()),
        }
    }

    /// The byte at `addr` (zero if never written), ignoring regions.
    pub fn byte(&self, addr: u64) -> u8 {
        self.pages
            .get(&(addr / PAGE))
            .map_or(0, |p| p[(addr % PAGE) as usize])
    }

    /// Writes `data` at `addr` (wrapping), ignoring regions: for setting up
    /// a test's memory.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            self.set_byte(addr.wrapping_add(i as u64), b);
        }
    }

    /// Every nonzero byte by address: two memories with the same contents
    /// give equal maps, however their pages were touched.
    pub fn nonzero_bytes(&self) -> BTreeMap<u64, u8> {
        let mut out = BTreeMap::new();
        for (&page, data) in &self.pages {
            for (i, &b) in data.iter().enumerate() {
                if b != 0 {
                    out.insert(page * PAGE + i as u64, b);
                }
            }
        }
        out
    }

    fn set_byte(&mut self, addr: u64, b: u8) {
        let page = self
            .pages
            .entry(addr / PAGE)
            .or_insert_with(|| Box::new([0; PAGE as usize]));
        page[(addr % PAGE) as usize] = b;
    }

    fn check(&self, addr: u64, bytes: u32, write: bool) -> Result<(), MemFault> {
        let fault = MemFault { addr, bytes, write };
        if bytes == 0 || bytes > 16 {
            return Err(fault);
        }
        let Some(regions) = &self.regions else {
            return Ok(());
        };
        let inside = |a: u64| regions.iter().any(|r| r.contains(&a));
        let all_inside = (0..u64::from(bytes)).all(|i| inside(addr.wrapping_add(i)));
        if all_inside {
            Ok(())
        } else {
            Err(fault)
        }
    }
}

impl PartialEq for SparseMemory {
    fn eq(&self, other: &SparseMemory) -> bool {
        self.regions == other.regions && self.nonzero_bytes() == other.nonzero_bytes()
    }
}

impl Memory for SparseMemory {
    fn load(&mut self, addr: u64, bytes: u32) -> Result<u128, MemFault> {
        self.check(addr, bytes, false)?;
        Ok((0..bytes).rev().fold(0u128, |acc, i| {
            acc << 8 | u128::from(self.byte(addr.wrapping_add(u64::from(i))))
        }))
    }

    fn store(&mut self, addr: u64, bytes: u32, value: u128) -> Result<(), MemFault> {
        self.check(addr, bytes, true)?;
        for i in 0..bytes {
            self.set_byte(addr.wrapping_add(u64::from(i)), (value >> (8 * i)) as u8);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_endian_across_pages() {
        let mut m = SparseMemory::new();
        m.store(4094, 4, 0x1122_3344).unwrap();
        assert_eq!(m.byte(4094), 0x44);
        assert_eq!(m.byte(4097), 0x11);
        assert_eq!(m.load(4094, 4).unwrap(), 0x1122_3344);
        assert_eq!(m.load(4095, 2).unwrap(), 0x2233);
        m.store(u64::MAX, 2, 0xabcd).unwrap();
        assert_eq!(m.byte(0), 0xab);
        let v = u128::MAX - 5;
        m.store(100, 16, v).unwrap();
        assert_eq!(m.load(100, 16).unwrap(), v);
    }

    #[test]
    fn regions_fault_outside() {
        let mut m = SparseMemory::with_region(0x1000..0x1010);
        assert!(m.store(0x100c, 4, 1).is_ok());
        let err = m.store(0x100d, 4, 1).unwrap_err();
        assert_eq!(
            err,
            MemFault {
                addr: 0x100d,
                bytes: 4,
                write: true
            }
        );
        assert_eq!(err.to_string(), "write of 4 byte(s) at 0x100d");
        assert!(m.load(0xfff, 1).is_err());
    }

    #[test]
    fn equality_ignores_zero_pages() {
        let mut a = SparseMemory::new();
        let b = SparseMemory::new();
        a.store(0x5000, 8, 0).unwrap();
        assert_eq!(a, b);
        a.store(0x5000, 1, 7).unwrap();
        assert_ne!(a, b);
    }
}
