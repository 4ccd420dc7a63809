//! Text parser (being written).
