//! workload: see DESIGN.md. (Being built.)
