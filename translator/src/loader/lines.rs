//! DWARF line info (address → file:line), read through `gimli` on first use.

use std::collections::HashMap;

use object::elf;
use object::read::elf::SectionHeader as _;
use object::LittleEndian as LE;

use super::sections::Sections;
use super::LineLocation;

/// The DWARF sections line info needs (empty when absent).
#[derive(Clone, Default)]
pub(super) struct DebugSections {
    debug_info: Vec<u8>,
    debug_abbrev: Vec<u8>,
    debug_line: Vec<u8>,
    debug_str: Vec<u8>,
    debug_line_str: Vec<u8>,
    debug_str_offsets: Vec<u8>,
    debug_addr: Vec<u8>,
}

/// Shows whether line info exists, not the bytes.
impl std::fmt::Debug for DebugSections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DebugSections {{ debug_line: [{} bytes] }}",
            self.debug_line.len()
        )
    }
}

impl DebugSections {
    /// Copies the sections gimli needs for line info out of the file.
    pub(super) fn from_table(table: &Sections<'_>, data: &[u8]) -> DebugSections {
        let get = |name: &str| -> Vec<u8> {
            table
                .section_by_name(LE, name.as_bytes())
                .filter(|(_, s)| s.sh_type(LE) != elf::SHT_NOBITS)
                .and_then(|(_, s)| s.data(LE, data).ok())
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        };
        DebugSections {
            debug_info: get(".debug_info"),
            debug_abbrev: get(".debug_abbrev"),
            debug_line: get(".debug_line"),
            debug_str: get(".debug_str"),
            debug_line_str: get(".debug_line_str"),
            debug_str_offsets: get(".debug_str_offsets"),
            debug_addr: get(".debug_addr"),
        }
    }

    /// Whether there is a line program at all.
    pub(super) fn has_lines(&self) -> bool {
        !self.debug_line.is_empty()
    }

    fn get(&self, id: gimli::SectionId) -> &[u8] {
        use gimli::SectionId as S;
        match id {
            S::DebugInfo => &self.debug_info,
            S::DebugAbbrev => &self.debug_abbrev,
            S::DebugLine => &self.debug_line,
            S::DebugStr => &self.debug_str,
            S::DebugLineStr => &self.debug_line_str,
            S::DebugStrOffsets => &self.debug_str_offsets,
            S::DebugAddr => &self.debug_addr,
            _ => &[],
        }
    }
}

/// One address row of a line program.
#[derive(Clone, Copy, Debug)]
struct LineRow {
    addr: u64,
    file: u32,
    line: u32,
}

/// A contiguous run of rows, `[start, end)`.
#[derive(Clone, Debug)]
struct LineSequence {
    start: u64,
    end: u64,
    rows: Vec<LineRow>,
}

/// Address → file:line for the whole program.
#[derive(Clone, Default)]
pub(super) struct LineTable {
    files: Vec<String>,
    sequences: Vec<LineSequence>,
    pub(super) errors: Vec<String>,
}

type Slice<'a> = gimli::EndianSlice<'a, gimli::LittleEndian>;

/// Shows sizes, not rows.
impl std::fmt::Debug for LineTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LineTable {{ files: {}, sequences: {}, errors: {:?} }}",
            self.files.len(),
            self.sequences.len(),
            self.errors
        )
    }
}

impl LineTable {
    pub(super) fn parse(debug: &DebugSections) -> LineTable {
        let mut table = LineTable::default();
        let loaded = gimli::Dwarf::load(|id| {
            Ok::<_, gimli::Error>(Slice::new(debug.get(id), gimli::LittleEndian))
        });
        let Ok(dwarf) = loaded else {
            return table;
        };
        let mut interned = HashMap::new();
        let mut units = dwarf.units();
        loop {
            match units.next() {
                Ok(Some(header)) => {
                    let result = dwarf
                        .unit(header)
                        .and_then(|unit| table.add_unit(&dwarf, &unit, &mut interned));
                    if let Err(e) = result {
                        table.errors.push(format!(".debug_line: unit skipped: {e}"));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    table.errors.push(format!(".debug_info: {e}"));
                    break;
                }
            }
        }
        table.sequences.sort_by_key(|s| s.start);
        table
    }

    /// Adds the rows of one unit's line program.
    fn add_unit(
        &mut self,
        dwarf: &gimli::Dwarf<Slice<'_>>,
        unit: &gimli::Unit<Slice<'_>>,
        interned: &mut HashMap<String, u32>,
    ) -> gimli::Result<()> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(());
        };
        let mut rows = program.rows();
        let mut current: Vec<LineRow> = Vec::new();
        while let Some((header, row)) = rows.next_row()? {
            if row.end_sequence() {
                if let Some(first) = current.first() {
                    self.sequences.push(LineSequence {
                        start: first.addr,
                        end: row.address(),
                        rows: std::mem::take(&mut current),
                    });
                }
                continue;
            }
            let path = file_path(dwarf, unit, header, row.file(header));
            let next = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
            let file = *interned.entry(path).or_insert_with_key(|p| {
                self.files.push(p.clone());
                next
            });
            let line = row
                .line()
                .map_or(0, |l| u32::try_from(l.get()).unwrap_or(u32::MAX));
            current.push(LineRow {
                addr: row.address(),
                file,
                line,
            });
        }
        Ok(())
    }

    pub(super) fn lookup(&self, addr: u64) -> Option<LineLocation<'_>> {
        let i = self.sequences.partition_point(|s| s.start <= addr);
        let seq = self.sequences.get(i.checked_sub(1)?)?;
        if addr >= seq.end {
            return None;
        }
        let j = seq.rows.partition_point(|r| r.addr <= addr);
        let row = seq.rows.get(j.checked_sub(1)?)?;
        Some(LineLocation {
            file: self.files.get(row.file as usize)?,
            line: row.line,
        })
    }
}

/// The path of a line-program file entry, joined with its directory.
fn file_path(
    dwarf: &gimli::Dwarf<Slice<'_>>,
    unit: &gimli::Unit<Slice<'_>>,
    header: &gimli::LineProgramHeader<Slice<'_>>,
    file: Option<&gimli::FileEntry<Slice<'_>>>,
) -> String {
    let Some(file) = file else {
        return "??".to_string();
    };
    let text = |attr| {
        dwarf
            .attr_string(unit, attr)
            .map(|s| s.to_string_lossy().into_owned())
            .ok()
    };
    let name = text(file.path_name()).unwrap_or_else(|| "??".to_string());
    if name.starts_with('/') {
        return name;
    }
    match file.directory(header).and_then(text) {
        Some(dir) if !dir.is_empty() => format!("{dir}/{name}"),
        _ => name,
    }
}
