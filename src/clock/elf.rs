//! Can a preload reach this program's clock? Read from its ELF headers: a program without a
//! `PT_INTERP` segment is statically linked (the dynamic loader never runs, so `LD_PRELOAD` is
//! ignored), and a Go program reads the clock through the vDSO without calling libc, so
//! libfaketime does not move it even when the binary is dynamically linked (etcd is one).

use std::path::Path;

use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{elf, Endianness, FileKind, Object};

/// How a program gets at the clock, as far as its ELF headers tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linkage {
    /// Dynamically linked, calls libc: libfaketime works.
    Dynamic,
    /// Statically linked: a preload never loads.
    Static,
    /// A Go program: reads clocks through the vDSO, bypassing libc.
    Go,
    /// Not an ELF file (a script, say): cannot tell; its interpreter decides.
    Unknown,
}

impl Linkage {
    /// Why libfaketime cannot move this program's clock, or `None` if it can (or we cannot tell).
    pub fn warning(self, program: &Path) -> Option<String> {
        match self {
            Linkage::Static => Some(format!(
                "{} is statically linked: LD_PRELOAD is ignored, so clock faults will not move its clock",
                program.display()
            )),
            Linkage::Go => Some(format!(
                "{} is a Go program: Go reads the clock through the vDSO, not libc, so libfaketime \
                 (and the clock faults) will not move its clock",
                program.display()
            )),
            Linkage::Dynamic | Linkage::Unknown => None,
        }
    }
}

/// Read `program`'s ELF headers. Errors only when the file cannot be read.
pub fn linkage(program: &Path) -> std::io::Result<Linkage> {
    let data = std::fs::read(program)?;
    Ok(match FileKind::parse(&*data) {
        Ok(FileKind::Elf64) => of::<elf::FileHeader64<Endianness>>(&data),
        Ok(FileKind::Elf32) => of::<elf::FileHeader32<Endianness>>(&data),
        _ => Linkage::Unknown,
    })
}

fn of<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Linkage {
    let Ok(file) = ElfFile::<H>::parse(data) else {
        return Linkage::Unknown;
    };
    let endian = file.endian();
    if [".go.buildinfo", ".note.go.buildid"]
        .iter()
        .any(|s| file.section_by_name(s).is_some())
    {
        return Linkage::Go;
    }
    let interp = file
        .elf_program_headers()
        .iter()
        .any(|ph| ph.p_type(endian) == elf::PT_INTERP);
    if interp {
        Linkage::Dynamic
    } else {
        Linkage::Static
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_dynamic_and_a_script_is_unknown() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(linkage(&me).unwrap(), Linkage::Dynamic);
        assert_eq!(Linkage::Dynamic.warning(&me), None);
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("node.sh");
        std::fs::write(&script, "#!/bin/sh\nexec true\n").unwrap();
        assert_eq!(linkage(&script).unwrap(), Linkage::Unknown);
        assert!(linkage(&dir.path().join("missing")).is_err());
        assert!(Linkage::Static
            .warning(Path::new("/bin/x"))
            .unwrap()
            .contains("statically linked"));
    }
}
