//! The `vmtrans` command line.
fn main() {}
