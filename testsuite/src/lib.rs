//! Shared helpers for the vmtrans test suites.
