//! The riscv64 frontend (being written).
