//! The pass pipeline (being written).
