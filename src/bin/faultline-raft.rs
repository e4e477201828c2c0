//! `faultline-raft`: the bundled reference Raft key-value node. Thin: parses flags and hands over to
//! [`faultline::raft`].

fn main() -> std::process::ExitCode {
    eprintln!("faultline-raft is not built yet");
    std::process::ExitCode::from(3)
}
