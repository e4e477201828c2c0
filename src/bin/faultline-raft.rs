//! `faultline-raft`: the bundled reference Raft key-value node. Thin: hands argv to
//! [`faultline_raft::cli`], which parses flags and runs [`faultline::raft`].

fn main() -> std::process::ExitCode {
    faultline::raft::cli::main(std::env::args_os())
}
