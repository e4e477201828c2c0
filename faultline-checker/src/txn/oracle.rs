//! Brute-force oracle (placeholder).
