//! nemesis: see DESIGN.md. (Being built.)
