//! `faultline-raft`: the bundled reference Raft key-value node. Thin: hands argv to
//! [`faultline::cli::raft_node`], which parses flags and runs [`faultline::raft`].

fn main() -> std::process::ExitCode {
    faultline::cli::raft_node::main(std::env::args_os())
}
