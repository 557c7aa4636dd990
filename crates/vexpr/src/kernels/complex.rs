//! Complex math (being written).
