//! Parsing, validation, round trips and requirement checks of schedules.

use super::*;

fn parse(t: &str) -> Result<NemesisSchedule, ScheduleError> {
    NemesisSchedule::parse(t, Path::new("nemesis/x.toml"))
}

#[test]
fn parses_a_schedule() {
    let s = parse(
        "name='m'\nfaults=['kill','bridge']\ninterval='2s'\nduration='500ms'\ntargets='minority'\n",
    )
    .unwrap();
    assert_eq!(s.faults, [FaultKind::Kill, FaultKind::Bridge]);
    assert_eq!(s.interval, Duration::from_secs(2));
    assert_eq!(s.duration, Duration::from_millis(500));
    assert_eq!(s.targets.count(5), 2);
}

#[test]
fn errors_name_file_and_field() {
    let e = parse("name='m'\nfaults=['kill','explode']\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("nemesis/x.toml: field \"faults[1]\": unknown fault \"explode\""),
        "{e}"
    );
    let e = parse("name='m'\nfaults=['kill']\ninterval='often'\n").unwrap_err();
    assert!(e.to_string().contains("field \"interval\""), "{e}");
    let e = parse("name='m'\nfaults=['kill']\nduration='0s'\n").unwrap_err();
    assert!(e.to_string().contains("field \"duration\""), "{e}");
    let e = parse("name='m'\nfrequency=3\n").unwrap_err();
    assert!(e.to_string().contains("frequency"), "{e}");
    assert!(e.to_string().starts_with("nemesis/x.toml: "), "{e}");
}

#[test]
fn to_toml_round_trips() {
    let s =
        parse("name='m'\nfaults=['pause','partition-ring']\ninterval='1s 500ms'\ntargets='all'\n")
            .unwrap();
    assert_eq!(parse(&s.to_toml()).unwrap(), s);
}

#[test]
fn clock_and_link_tables_parse_validate_and_round_trip() {
    let s = parse(
        "name='c'\nfaults=['clock-skew','delay']\noptional_faults=['loss']\n[clock]\noffset='2s'\nmonotonic=false\n[link]\ndelay='20ms'\njitter='0s'\nloss_percent=50\n",
    )
    .unwrap();
    assert_eq!(s.clock.offset, Duration::from_secs(2));
    assert!(!s.clock.monotonic);
    assert_eq!(s.clock.strobe_every, ClockParams::default().strobe_every);
    assert_eq!(s.link.delay, Duration::from_millis(20));
    assert_eq!(s.link.jitter, Duration::ZERO);
    assert_eq!(s.link.loss_percent, 50);
    assert_eq!(s.optional_faults, [FaultKind::Loss]);
    assert_eq!(parse(&s.to_toml()).unwrap(), s);
    // Defaults are not written out.
    let plain = parse("name='p'\nfaults=['kill']\n").unwrap();
    assert!(!plain.to_toml().contains("[clock]"));
    for (text, field) in [
        ("[clock]\noffset='0s'\n", "clock.offset"),
        ("[clock]\nstrobe_every='soon'\n", "clock.strobe_every"),
        ("[link]\nloss_percent=0\n", "link.loss_percent"),
        ("[link]\nbytes_per_sec=0\n", "link.bytes_per_sec"),
        ("optional_faults=['warp']\n", "optional_faults[0]"),
    ] {
        let e = parse(&format!("name='x'\n{text}")).unwrap_err().to_string();
        assert!(e.contains(&format!("field \"{field}\"")), "{e}");
    }
    assert!(parse("name='x'\n[clock]\nspeed=2\n")
        .unwrap_err()
        .to_string()
        .contains("speed"));
}

fn caps(net: &'static str, faketime: bool) -> Capabilities {
    Capabilities {
        euid: 0,
        dev_fuse: true,
        libfaketime: if faketime {
            Ok(PathBuf::from("/usr/lib/libfaketime.so.1"))
        } else {
            Err("apt-get install libfaketime".into())
        },
        net,
        hosts: crate::host::LocalHost::FAULTS,
        leader_probe: true,
        node_status: true,
    }
}

#[test]
fn restrict_fails_on_explicit_faults_and_leaves_out_optional_ones() {
    let s =
        parse("name='m'\nfaults=['kill']\noptional_faults=['clock-skew','delay','loss','kill']\n")
            .unwrap();
    let r = s.restrict(&caps("proxy", false)).unwrap();
    assert_eq!(r.schedule.faults, [FaultKind::Kill, FaultKind::Delay]);
    assert!(r.schedule.optional_faults.is_empty());
    let left: Vec<FaultKind> = r.left_out.iter().map(|(k, _)| *k).collect();
    assert_eq!(left, [FaultKind::ClockSkew, FaultKind::Loss]);
    assert!(r.left_out[1].1.to_string().contains("--net netns"));
    let all = s.restrict(&caps("netns", true)).unwrap();
    assert_eq!(
        all.schedule.faults,
        [FaultKind::Kill, FaultKind::ClockSkew, FaultKind::Loss]
    );
    let e = parse("name='c'\nfaults=['kill','clock-strobe']\n")
        .unwrap()
        .restrict(&caps("proxy", false))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "nemesis/x.toml: fault \"clock-strobe\" needs libfaketime (Debian package libfaketime)"
        ),
        "{e}"
    );
}

#[test]
fn disk_faults_need_dev_fuse_and_root_and_mixed_leaves_them_out_without() {
    let mixed = parse(include_str!("../../../nemesis/mixed.toml")).unwrap();
    let disks = [
        FaultKind::LoseUnfsynced,
        FaultKind::TornWrite,
        FaultKind::DiskError,
        FaultKind::DiskFull,
    ];
    assert!(disks.iter().all(|k| mixed.optional_faults.contains(k)));
    let all = mixed.restrict(&caps("proxy", true)).unwrap();
    assert!(all.schedule.needs_lazyfs());
    let no_root = Capabilities {
        euid: 1000,
        ..caps("proxy", true)
    };
    let r = mixed.restrict(&no_root).unwrap();
    assert!(!r.schedule.needs_lazyfs());
    for k in disks {
        let (_, why) = r.left_out.iter().find(|(l, _)| *l == k).expect("left out");
        assert_eq!(why.what, "root", "{k}: {why}");
    }
    let no_fuse = Capabilities {
        dev_fuse: false,
        ..caps("proxy", true)
    };
    let e = parse("name='d'\nfaults=['torn-write']\n")
        .unwrap()
        .restrict(&no_fuse)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("nemesis/x.toml: fault \"torn-write\" needs a usable /dev/fuse"),
        "{e}"
    );
}

#[test]
fn the_default_schedule_has_crash_and_disk_families_where_the_run_can_do_them() {
    use crate::nemesis::families::{Family, FamilyCycle};
    let default = parse(include_str!("../../../nemesis/default.toml")).unwrap();
    assert_eq!(default.order, Order::Families);
    let family = |s: &NemesisSchedule, f: Family| {
        FamilyCycle::new(&s.faults, 1)
            .families()
            .into_iter()
            .find(|(g, _)| *g == f)
            .map(|(_, kinds)| kinds)
    };
    let all = default.restrict(&caps("proxy", true)).unwrap();
    assert!(all.schedule.needs_lazyfs());
    // Power loss first: the first round of a run that can do it tries it.
    assert_eq!(
        family(&all.schedule, Family::Crash).unwrap(),
        [
            FaultKind::LoseUnfsynced,
            FaultKind::TornWrite,
            FaultKind::KillAll
        ]
    );
    assert_eq!(
        family(&all.schedule, Family::Disk).unwrap(),
        [FaultKind::DiskError, FaultKind::DiskFull]
    );
    let no_root = Capabilities {
        euid: 1000,
        ..caps("proxy", true)
    };
    let r = default.restrict(&no_root).unwrap();
    assert!(!r.schedule.needs_lazyfs());
    assert_eq!(
        family(&r.schedule, Family::Crash).unwrap(),
        [FaultKind::KillAll]
    );
    assert_eq!(family(&r.schedule, Family::Disk), None);
    for k in [FaultKind::LoseUnfsynced, FaultKind::DiskFull] {
        let (_, why) = r.left_out.iter().find(|(l, _)| *l == k).expect("left out");
        assert_eq!(why.what, "root", "{k}: {why}");
    }
    let ssh = Capabilities {
        hosts: crate::host::SshHost::FAULTS,
        ..caps("hosts", true)
    };
    let r = default.restrict(&ssh).unwrap();
    let (_, why) = r
        .left_out
        .iter()
        .find(|(l, _)| *l == FaultKind::TornWrite)
        .expect("left out on hosts");
    assert!(why.to_string().contains("--hosts"), "{why}");
}

#[test]
fn on_ssh_hosts_mixed_keeps_process_and_partition_faults_and_leaves_out_the_rest() {
    let mixed = parse(include_str!("../../../nemesis/mixed.toml")).unwrap();
    let ssh = Capabilities {
        hosts: crate::host::SshHost::FAULTS,
        ..caps("hosts", true)
    };
    let r = mixed.restrict(&ssh).unwrap();
    assert_eq!(
        r.schedule.faults, mixed.faults,
        "every explicit mixed fault works on hosts"
    );
    let left: Vec<FaultKind> = r.left_out.iter().map(|(k, _)| *k).collect();
    assert_eq!(left, mixed.optional_faults);
    for (k, why) in &r.left_out {
        let why = why.to_string();
        assert!(why.contains("--hosts"), "{k}: {why}");
    }
    let e = parse("name='c'\nfaults=['kill','clock-skew']\n")
        .unwrap()
        .restrict(&ssh)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "nemesis/x.toml: fault \"clock-skew\" needs nodes whose hosts take clock faults"
        ),
        "{e}"
    );
}

#[test]
fn target_counts() {
    assert_eq!(Targets::One.count(5), 1);
    assert_eq!(Targets::Minority.count(3), 1);
    assert_eq!(Targets::Majority.count(5), 3);
    assert_eq!(Targets::All.count(3), 3);
}

#[test]
fn order_and_overlap_parse_validate_and_round_trip() {
    let s = parse(
        "name='d'\norder='families'\noverlap=2\nfaults=['kill','kill-all','kill-majority']\n[clock]\noffset='2s'\n",
    )
    .unwrap();
    assert_eq!((s.order, s.overlap), (Order::Families, 2));
    assert_eq!(
        s.faults,
        [FaultKind::Kill, FaultKind::KillAll, FaultKind::KillMajority]
    );
    let text = s.to_toml();
    assert!(text.contains("order = \"families\""), "{text}");
    assert_eq!(parse(&text).unwrap(), s);
    let plain = parse("name='p'\nfaults=['kill']\n").unwrap();
    assert_eq!((plain.order, plain.overlap), (Order::Random, 1));
    assert!(!plain.to_toml().contains("order"));
    for (text, needle) in [
        ("overlap=0", "field \"overlap\""),
        ("overlap=9", "field \"overlap\""),
        ("order='sometimes'", "order"),
    ] {
        let e = parse(&format!("name='x'\nfaults=['kill']\n{text}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{e}");
        assert!(e.starts_with("nemesis/x.toml: "), "{e}");
    }
}
