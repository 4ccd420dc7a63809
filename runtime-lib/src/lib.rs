//! The vmtrans runtime (being written).
