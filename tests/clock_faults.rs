//! Clock faults through libfaketime: a child process started with a control file's environment
//! sees exactly the offset written to it (wall clock always, CLOCK_MONOTONIC only when asked);
//! binaries a preload cannot reach are recognised; the seeded bug `lease-read` is found under
//! `skew-isolate-leader` and the correct node stays valid under every clock and proxy link fault.
//!
//! Needs libfaketime (Debian `libfaketime`): under `CI=true` a missing library fails these tests;
//! elsewhere they skip, saying why.

mod run_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use faultline::clock::elf::{linkage, Linkage};
use faultline::clock::{libfaketime, ClockControl};
use faultline::nemesis::{FaultKind, NemesisSchedule, Planner};
use run_support::*;

/// libfaketime, or `None` (skip) outside CI.
fn faketime(test: &str) -> Option<PathBuf> {
    match libfaketime::locate() {
        Ok(p) => Some(p),
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: libfaketime is required under CI ({why})"
            );
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

/// Run `program args` with node `id`'s clock environment; its stdout as a number.
fn reading(c: &ClockControl, id: &str, program: &str, args: &[&str]) -> f64 {
    let out = Command::new(program)
        .args(args)
        .envs(c.env_for(id, None))
        .output()
        .expect("run child");
    assert!(out.status.success(), "{program}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn a_child_sees_the_offset_written_to_its_control_file() {
    let Some(lib) = faketime("a_child_sees_the_offset_written_to_its_control_file") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let nodes = vec!["n1".to_string(), "n2".to_string()];
    let c = ClockControl::create_in(root.path(), lib.clone(), &nodes, true).unwrap();
    let date = |id| reading(&c, id, "date", &["+%s.%N"]);
    assert!((date("n1") - now_s()).abs() < 2.0, "offset 0 is true time");
    c.set_offset("n1", 3_600_000).unwrap();
    assert!((date("n1") - now_s() - 3600.0).abs() < 2.0, "an hour ahead");
    assert!(
        (date("n2") - now_s()).abs() < 2.0,
        "other nodes keep true time"
    );
    c.set_offset("n1", -90_500).unwrap();
    assert!((date("n1") - now_s() + 90.5).abs() < 2.0, "90.5 s behind");
    c.set_offset("n1", 0).unwrap();
    assert!((date("n1") - now_s()).abs() < 2.0, "put right");

    // CLOCK_MONOTONIC moves with the offset only when the control says so (read by python3, a
    // dynamically linked reader of CLOCK_MONOTONIC; the stand-in node tests need it in CI too).
    if Command::new("python3").arg("-V").output().is_err() {
        eprintln!("skipping the CLOCK_MONOTONIC half: no python3");
        return;
    }
    let py = "python3".to_string();
    for monotonic in [true, false] {
        let c = ClockControl::create_in(root.path(), lib.clone(), &nodes, monotonic).unwrap();
        let mono = |c: &ClockControl| {
            reading(
                c,
                "n1",
                &py,
                &["-c", "import time; print(time.monotonic())"],
            )
        };
        let before = mono(&c);
        c.set_offset("n1", -600_000).unwrap();
        let moved = mono(&c) - before;
        if monotonic {
            assert!((moved + 600.0).abs() < 5.0, "monotonic moved {moved} s");
        } else {
            assert!((0.0..5.0).contains(&moved), "monotonic moved {moved} s");
        }
    }
    let dir = c.dir().to_path_buf();
    drop(c);
    assert!(!dir.exists(), "the control files are removed");
}

#[test]
fn binaries_a_preload_cannot_reach_are_recognised() {
    let me = std::env::current_exe().unwrap();
    assert_eq!(linkage(&me).unwrap(), Linkage::Dynamic);
    // Debian's ldconfig is static-pie; etcd is a Go program (dynamically linked, but Go reads
    // the clock through the vDSO). Checked where present.
    for (path, want) in [
        ("/sbin/ldconfig", Linkage::Static),
        ("/usr/bin/etcd", Linkage::Go),
    ] {
        let p = Path::new(path);
        if p.exists() {
            assert_eq!(linkage(p).unwrap(), want, "{path}");
            assert!(want.warning(p).is_some());
        }
    }
}

/// Read-heavy single register: a stale read shows soon.
const READ_HEAVY: &str = "name = \"read-heavy\"\nmodel = \"cas-register\"\nkeys = 1\nvalues = [0, 4]\n[mix]\nread = 6\nwrite = 2\ncas = 1\n";

fn args<'a>(nemesis: &'a str, workload: &'a str, time: &'a str, seed: &'a str) -> Vec<&'a str> {
    vec![
        "--nemesis",
        nemesis,
        "--workload",
        workload,
        "--nodes",
        "3",
        "--clients",
        "8",
        "--rate",
        "300",
        "--time-limit",
        time,
        "--seed",
        seed,
    ]
}

/// No control directory of a finished `faultline` child is left under the control root. A
/// directory is named `<owner pid>-<owner start time>-<n>`; one whose owner still runs belongs to
/// another live run on this machine (other test binaries, other users), not to a finished child.
fn no_control_files_left(before: &[PathBuf]) {
    let root = std::env::temp_dir().join(faultline::clock::CONTROL_ROOT);
    let now: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let owner_alive = |p: &PathBuf| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut parts = name.split('-').map(|x| x.parse::<u64>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(pid), Some(start)) => {
                u32::try_from(pid).is_ok_and(|pid| faultline::owner::alive(pid, start))
            }
            _ => false,
        }
    };
    let new: Vec<&PathBuf> = now
        .iter()
        .filter(|p| !before.contains(p) && !owner_alive(p))
        .collect();
    assert!(new.is_empty(), "clock control files left behind: {new:?}");
}

fn control_dirs() -> Vec<PathBuf> {
    let root = std::env::temp_dir().join(faultline::clock::CONTROL_ROOT);
    std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn lease_read_is_found_when_the_isolated_leaders_clock_jumps_back() {
    if faketime("lease_read_is_found_when_the_isolated_leaders_clock_jumps_back").is_none() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let workload = write(dir.path(), "read-heavy.toml", READ_HEAVY);
    let before = control_dirs();
    for seed in ["1", "2", "3"] {
        let mut a = args("skew-isolate-leader", &workload, "8s", seed);
        a.extend(["--bug", "lease-read"]);
        let out = run_test(dir.path(), &a);
        assert_no_nodes_left(dir.path());
        no_control_files_left(&before);
        match out.status.code() {
            Some(1) => {
                let history = std::fs::read_to_string(latest(dir.path()).join("history.jsonl"))
                    .expect("history");
                assert!(
                    history.contains(r#""offsets_ms":{"#),
                    "the skew is recorded"
                );
                return;
            }
            Some(0) | Some(2) => continue,
            other => panic!("harness error {other:?}"),
        }
    }
    panic!("lease-read not found under skew-isolate-leader in 3 runs");
}

#[test]
fn the_correct_node_is_valid_under_every_clock_and_proxy_link_fault() {
    if faketime("the_correct_node_is_valid_under_every_clock_and_proxy_link_fault").is_none() {
        return;
    }
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let kinds = [
        FaultKind::ClockSkew,
        FaultKind::ClockStrobe,
        FaultKind::Delay,
        FaultKind::Slow,
        FaultKind::Flaky,
    ];
    let text = "name = \"clock-and-links\"\nfaults = [\"clock-skew\", \"clock-strobe\", \"delay\", \"slow\", \"flaky\"]\ninterval = \"400ms\"\nduration = \"900ms\"\n[clock]\noffset = \"3s\"\nstrobe_every = \"100ms\"\n";
    let nemesis = write(dir.path(), "clock-and-links.toml", text);
    // A seed whose first seven faults include every kind (the plan depends on the seed alone).
    let schedule = NemesisSchedule::parse(text, Path::new("x.toml")).unwrap();
    let ids: Vec<String> = (1..=3).map(|i| format!("n{i}")).collect();
    let seed = (1u64..)
        .find(|s| {
            let drawn: Vec<FaultKind> = Planner::new(&schedule, &ids, *s)
                .take(7)
                .map(|p| p.kind)
                .collect();
            kinds.iter().all(|k| drawn.contains(k))
        })
        .unwrap()
        .to_string();
    let workload = write(dir.path(), "read-heavy.toml", READ_HEAVY);
    let before = control_dirs();
    let out = run_test(dir.path(), &args(&nemesis, &workload, "10s", &seed));
    assert_no_nodes_left(dir.path());
    no_control_files_left(&before);
    assert_eq!(
        out.status.code(),
        Some(0),
        "correct node under clock and link faults"
    );
    let run = latest(dir.path());
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let windows = results["coverage"]["windows"]
        .as_array()
        .expect("coverage windows");
    for k in kinds {
        assert!(
            windows.iter().any(|w| w["fault"] == k.name()),
            "{} never ran: {windows:?}",
            k.name()
        );
    }
    let rows = results["coverage"]["by_role"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["count"].as_u64() >= Some(1)));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains(r#"<section id="coverage">"#));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("coverage    "), "{stdout}");
}
