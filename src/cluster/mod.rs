//! cluster: see DESIGN.md. (Being built.)
