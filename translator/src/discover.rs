//! Code discovery (being written).
