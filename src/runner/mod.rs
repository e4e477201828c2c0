//! runner: see DESIGN.md. (Being built.)
