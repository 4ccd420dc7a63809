//! `.eh_frame` FDEs and the landing pads of their LSDAs, read through `gimli`.

use object::elf;

use super::{CodePointer, CodePointerKind, FdeRange, GuestImage};

/// FDE ranges from `.eh_frame` (by section, else via `PT_GNU_EH_FRAME`).
/// Parse problems become warnings: unwind info only adds function seeds.
pub(super) fn read_fdes(image: &mut GuestImage) -> Vec<FdeRange> {
    let Some((addr, data)) = eh_frame_location(image) else {
        return Vec::new();
    };
    let mut bases = gimli::BaseAddresses::default().set_eh_frame(addr);
    if let Some(text) = image.section(".text") {
        bases = bases.set_text(text.addr);
    }
    if let Some(got) = image.section(".got") {
        bases = bases.set_got(got.addr);
    }
    let eh_frame = gimli::EhFrame::new(data, gimli::LittleEndian);
    let (mut fdes, warnings) = collect_fdes(&eh_frame, &bases);
    image.warnings.extend(warnings);
    fdes.sort();
    fdes.dedup();
    add_landing_pads(image, &fdes);
    fdes
}

/// Adds the landing pads of every FDE's LSDA to the image's code pointers.
fn add_landing_pads(image: &mut GuestImage, fdes: &[FdeRange]) {
    let mut pads = Vec::new();
    for fde in fdes {
        let Some(lsda) = fde.lsda else { continue };
        match landing_pads(image, fde.start, lsda) {
            Ok(found) => pads.extend(found),
            Err(e) => image
                .warnings
                .push(format!("LSDA at {lsda:#x} (FDE for {:#x}): {e}", fde.start)),
        }
    }
    image
        .code_pointers
        .extend(pads.into_iter().map(|addr| CodePointer {
            addr,
            kind: CodePointerKind::LandingPad,
        }));
    image.code_pointers.sort();
    image.code_pointers.dedup();
}

/// `DW_EH_PE_omit`: the field is absent.
const EH_PE_OMIT: u8 = 0xff;

/// Parses a GCC LSDA header and call-site table and returns the landing
/// pads. The layout is the one `__gcc_personality_v0` and
/// `__gxx_personality_v0` read.
fn landing_pads(image: &GuestImage, func_start: u64, lsda: u64) -> Result<Vec<u64>, String> {
    use gimli::Reader;
    let bytes = image
        .bytes_from(lsda)
        .ok_or("not in the loaded file contents")?;
    let mut r = gimli::EndianSlice::new(bytes, gimli::LittleEndian);
    let err = |e: gimli::Error| e.to_string();
    let lp_encoding = r.read_u8().map_err(err)?;
    let lp_start = if lp_encoding == EH_PE_OMIT {
        func_start
    } else {
        read_encoded(&mut r, lp_encoding)?
    };
    if r.read_u8().map_err(err)? != EH_PE_OMIT {
        r.read_uleb128().map_err(err)?; // offset of the type table
    }
    let cs_encoding = r.read_u8().map_err(err)?;
    let table_len = r.read_uleb128().map_err(err)?;
    let table_len = usize::try_from(table_len).map_err(|_| "call-site table too long")?;
    let mut table = r.split(table_len).map_err(err)?;
    let mut pads = Vec::new();
    while !table.is_empty() {
        let _start = read_encoded(&mut table, cs_encoding)?;
        let _len = read_encoded(&mut table, cs_encoding)?;
        let pad = read_encoded(&mut table, cs_encoding)?;
        table.read_uleb128().map_err(err)?; // action
        if pad != 0 {
            pads.push(lp_start.wrapping_add(pad));
        }
    }
    Ok(pads)
}

/// Reads a `DW_EH_PE_*` value whose application is absolute (the only kind
/// GCC emits inside an LSDA).
fn read_encoded(
    r: &mut gimli::EndianSlice<'_, gimli::LittleEndian>,
    encoding: u8,
) -> Result<u64, String> {
    use gimli::Reader;
    if encoding & 0x70 != 0 {
        return Err(format!("unsupported pointer encoding {encoding:#x}"));
    }
    let value = match encoding & 0x0f {
        0x00 | 0x04 => r.read_u64(),
        0x01 => r.read_uleb128(),
        0x02 => r.read_u16().map(u64::from),
        0x03 => r.read_u32().map(u64::from),
        0x09 => r.read_sleb128().map(|v| v as u64),
        0x0a => r.read_i16().map(|v| v as u64),
        0x0b => r.read_i32().map(|v| v as u64),
        0x0c => r.read_i64().map(|v| v as u64),
        _ => return Err(format!("unknown pointer encoding {encoding:#x}")),
    };
    value.map_err(|e| e.to_string())
}

/// Walks the CIE/FDE entries; stops at the first structural error.
fn collect_fdes(
    eh_frame: &gimli::EhFrame<gimli::EndianSlice<'_, gimli::LittleEndian>>,
    bases: &gimli::BaseAddresses,
) -> (Vec<FdeRange>, Vec<String>) {
    use gimli::UnwindSection;
    let mut fdes = Vec::new();
    let mut warnings = Vec::new();
    let mut entries = eh_frame.entries(bases);
    loop {
        match entries.next() {
            Ok(None) => break,
            Ok(Some(gimli::CieOrFde::Cie(_))) => {}
            Ok(Some(gimli::CieOrFde::Fde(partial))) => {
                match partial.parse(gimli::EhFrame::cie_from_offset) {
                    Ok(fde) => fdes.push(FdeRange {
                        start: fde.initial_address(),
                        len: fde.len(),
                        lsda: match fde.lsda() {
                            Some(gimli::Pointer::Direct(addr)) => Some(addr),
                            _ => None,
                        },
                    }),
                    Err(e) => warnings.push(format!(".eh_frame: FDE skipped: {e}")),
                }
            }
            Err(e) => {
                warnings.push(format!(".eh_frame: stopped after {} FDEs: {e}", fdes.len()));
                break;
            }
        }
    }
    (fdes, warnings)
}

/// Address and bytes of `.eh_frame`: the section if present, else found
/// through `.eh_frame_hdr`'s `eh_frame_ptr` (running to its segment's end;
/// the zero terminator ends the walk).
fn eh_frame_location(image: &GuestImage) -> Option<(u64, &[u8])> {
    if let Some(s) = image
        .section(".eh_frame")
        .filter(|s| s.kind != elf::SHT_NOBITS)
    {
        let len = usize::try_from(s.size).ok()?;
        return Some((s.addr, image.read(s.addr, len)?));
    }
    let hdr = image.eh_frame_hdr?;
    let hdr_bytes = image.read(hdr.vaddr, usize::try_from(hdr.memsz).ok()?)?;
    let bases = gimli::BaseAddresses::default().set_eh_frame_hdr(hdr.vaddr);
    let parsed = gimli::EhFrameHdr::new(hdr_bytes, gimli::LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    match parsed.eh_frame_ptr() {
        gimli::Pointer::Direct(addr) => Some((addr, image.bytes_from(addr)?)),
        gimli::Pointer::Indirect(_) => None,
    }
}
