//! The retention engine (being written).
