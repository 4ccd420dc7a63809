//! ELF loading (being written).
