//! raft: see DESIGN.md. (Being built.)
