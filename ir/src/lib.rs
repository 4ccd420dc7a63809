//! placeholder while the IR core is written
