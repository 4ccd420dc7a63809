//! Text printer (being written).
