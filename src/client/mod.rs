//! client: see DESIGN.md. (Being built.)
