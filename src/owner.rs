//! Who owns a crash-safe record: a process, named by its pid and its kernel start time, so that a
//! pid reused after the owner died is not mistaken for it. The netns registry, the lazy-filesystem
//! mount registry, the clock control directories and the lab record their owners this way, and
//! sweep what a dead owner left.

/// This process's (pid, start time).
pub fn identity() -> (u32, u64) {
    let pid = std::process::id();
    (pid, start_time(pid).unwrap_or(0))
}

/// Whether the process `pid` that started at `start_time` (clock ticks since boot) still runs.
pub fn alive(pid: u32, start_time: u64) -> bool {
    self::start_time(pid).is_some_and(|t| t == start_time)
}

/// Start time (clock ticks since boot) of `pid`, if it exists.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22 of a `/proc/<pid>/stat` line. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted after the last `)`.
fn parse_start_time(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields 3.. follow; field 22 is the 20th of them.
    after.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_start_time_past_a_command_with_parentheses() {
        let stat = "42 (a (weird) name) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2";
        assert_eq!(parse_start_time(stat), Some(98765));
        assert_eq!(parse_start_time("garbage"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let (pid, t) = identity();
        assert!(t > 0);
        assert!(alive(pid, t));
        assert!(!alive(pid, t + 1));
        assert!(!alive(u32::MAX, t));
    }
}
