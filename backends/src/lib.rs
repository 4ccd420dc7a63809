//! IR to host code with Cranelift (being written).
