//! net: see DESIGN.md. (Being built.)
