//! Vectorized math (being written).
