//! Errors of the translator crate.

use std::path::PathBuf;

/// An instruction that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a valid (or not a supported) instruction.
    #[error("unknown {arch} instruction at {addr:#x}: bytes {}", hex(bytes))]
    Unknown {
        /// Guest architecture name.
        arch: &'static str,
        /// Guest address.
        addr: u64,
        /// The instruction bytes (as many as were examined).
        bytes: Vec<u8>,
    },
    /// The code ends in the middle of an instruction.
    #[error("truncated {arch} instruction at {addr:#x}: only {available} byte(s) left")]
    Truncated {
        /// Guest architecture name.
        arch: &'static str,
        /// Guest address.
        addr: u64,
        /// Bytes that were left.
        available: usize,
    },
}

/// Formats bytes as space-separated hex pairs.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Anything that stops translation of a guest program.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The guest file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not an ELF vmtrans can load; the message says what is wrong.
    #[error("{path}: {message}")]
    BadElf {
        /// The guest file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// The ELF is valid but uses something vmtrans does not support yet.
    #[error("{path}: {message}")]
    Unsupported {
        /// The guest file.
        path: PathBuf,
        /// What is unsupported.
        message: String,
    },
    /// An instruction could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Lifting produced IR that failed verification (a translator bug).
    #[error("lifted IR for {function} is malformed: {message}")]
    BadIr {
        /// Function name.
        function: String,
        /// The verifier's message.
        message: String,
    },
}
