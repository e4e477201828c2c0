//! The HTML report renders in a real browser without script errors and shows the verdict, the
//! plots and, for invalid histories, the counterexample; it stays small on long histories and
//! escapes everything that comes from a history.

mod report_common;

use std::path::{Path, PathBuf};

use faultline::checker::Verdict;
use faultline::report::{render_html, write_report};
use report_common::{browser, invalid_case, run_results, synthetic, valid_check, EVIL};

fn write(dir: &Path, name: &str, html: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, html).expect("write report");
    p
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn valid_run_report_renders_timeline_latency_and_throughput() {
    let h = synthetic(600, 5, 0);
    let check = valid_check(&h);
    let run = run_results(&h, check.clone());
    let tmp = tempfile::tempdir().expect("tmp");
    let page = tmp.path().join("report.html");
    write_report(&page, &h, &check, Some(&run)).expect("write report");
    let html = std::fs::read_to_string(&page).expect("read back");
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    );
    assert!(
        !html.contains("<link") && !html.contains(" src="),
        "report must not fetch anything"
    );
    assert!(html.contains("--seed 7"), "rerun command missing");
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let dom = browser::dump_dom(&chromium, &page).stdout;
    assert!(
        dom.contains(r#"data-verdict="valid""#) && dom.contains(">VALID<"),
        "verdict missing"
    );
    assert!(
        dom.contains(r#"class="plot timeline""#),
        "timeline svg missing"
    );
    assert!(
        dom.contains(r#"class="plot latency""#),
        "latency svg missing"
    );
    assert!(
        dom.contains(r#"class="plot throughput""#),
        "throughput svg missing"
    );
    assert_eq!(count(&dom, "class=\"op "), 600, "one bar per op");
    assert!(
        count(&dom, "class=\"band\"") >= 6,
        "nemesis bands in the three plots"
    );
    assert!(
        dom.contains("data-tip=\"nemesis partition: [n1 n2] [n3 n4 n5]\""),
        "tooltips were not installed"
    );
    assert!(!dom.contains("id=\"counterexample\""));
    browser::screenshot(&chromium, &page, "valid");
}

#[test]
fn keyed_long_history_aggregates_the_timeline_and_lists_keys() {
    let h = synthetic(6000, 10, 4);
    let mut check = valid_check(&h);
    check.keys[1].verdict = Verdict::Unknown {
        reason: "time limit 1s reached after 12000 configurations".into(),
    };
    check.verdict = check.keys[1].verdict.clone();
    let run = run_results(&h, check.clone());
    let html = render_html(&h, &check, Some(&run));
    assert!(
        count(&html, "class=\"op ") == 0,
        "aggregated timeline must not draw one bar per op"
    );
    // Dense buckets cover the faint backdrop: the faults also get a lane of their own.
    let timeline = &html[html.find("class=\"plot timeline\"").expect("timeline")..];
    let timeline = &timeline[..timeline.find("</svg>").expect("svg end")];
    assert!(
        count(timeline, "class=\"band-lane\"") >= 1 && timeline.contains(">nemesis</text>"),
        "nemesis lane missing from the aggregated timeline"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let page = write(tmp.path(), "report.html", &html);
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let dom = browser::dump_dom(&chromium, &page).stdout;
    assert!(dom.contains(">UNKNOWN<"), "verdict missing");
    assert!(
        dom.contains("time buckets per row"),
        "aggregation note missing"
    );
    assert!(
        dom.contains(r#"<table class="keys">"#),
        "per-key table missing"
    );
    assert_eq!(count(&dom, "<tr class=\""), 4, "one row per key");
    assert!(dom.contains("time limit 1s reached"));
    browser::screenshot(&chromium, &page, "keyed-aggregated");
}

#[test]
fn invalid_report_draws_the_counterexample() {
    let (h, check) = invalid_case();
    let html = render_html(&h, &check, None);
    assert!(
        !html.contains(EVIL),
        "history text reached the page unescaped"
    );
    assert!(
        !html.contains("<img") && !html.contains("<script>document"),
        "history text reached the page unescaped"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let page = write(tmp.path(), "report.html", &html);
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let dom = browser::dump_dom(&chromium, &page).stdout;
    assert!(
        dom.contains(r#"data-verdict="invalid""#) && dom.contains(">INVALID<"),
        "verdict missing"
    );
    assert!(
        dom.contains(r#"class="plot counterexample""#),
        "counterexample svg missing"
    );
    assert!(
        count(&dom, r#"class="tick illegal""#) >= 3,
        "illegal steps missing"
    );
    assert!(
        count(&dom, r#"class="tick legal""#) >= 3,
        "legal steps missing"
    );
    assert!(
        count(&dom, r#"class="path-line""#) >= 4,
        "path lines missing"
    );
    assert!(
        dom.contains("can't read 0 from register 2"),
        "error text missing"
    );
    assert!(dom.contains("op ok failing"), "failing op not marked");
    assert!(
        dom.contains(r#"<table class="paths">"#)
            && count(&dom, r#"<li class="step illegal">"#) == 4
    );
    assert!(
        dom.contains("#6 p2 ok read 0"),
        "failing op not in the table"
    );
    assert!(
        !dom.contains(r#"data-xss="1""#) && !dom.contains("<img"),
        "injected markup executed"
    );
    assert!(
        dom.contains("<title>faultline check</title>"),
        "injected script changed the title"
    );
    browser::screenshot(&chromium, &page, "invalid");
}

#[test]
fn report_of_100k_ops_stays_under_5_mb() {
    let h = synthetic(100_000, 20, 0);
    let check = valid_check(&h);
    let run = run_results(&h, check.clone());
    let start = std::time::Instant::now();
    let html = render_html(&h, &check, Some(&run));
    println!(
        "100k-op report: {} bytes rendered in {:?}",
        html.len(),
        start.elapsed()
    );
    assert!(
        html.len() < 5 * 1024 * 1024,
        "report is {} bytes",
        html.len()
    );
    assert!(html.contains(r#"class="plot latency""#) && html.contains(r#"class="plot timeline""#));
    let page = write(&browser::screenshot_dir(), "report-100k.html", &html);
    println!("100k-op report written to {}", page.display());
}

/// The Knossos `cas-failure` fixture, checked by the real checker and rendered: the diagram must
/// show the final paths Knossos reports (write 2, then cas [1 1] or read 0, both illegal).
#[test]
fn knossos_cas_failure_report_shows_the_real_counterexample() {
    use faultline::checker::{check, CheckOptions, ModelKind};
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/knossos/data/cas-register/bad/cas-failure.edn");
    if !fixture.is_file() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "fixture {} missing in CI",
            fixture.display()
        );
        eprintln!("SKIP: {} not found", fixture.display());
        return;
    }
    let h = faultline::history::load(&fixture, None).expect("load fixture");
    let opts = CheckOptions {
        model: ModelKind::CasRegister,
        ..CheckOptions::default()
    };
    let report = check(&h, &opts).expect("check fixture");
    let Verdict::Invalid { counterexample } = &report.verdict else {
        panic!("cas-failure must be invalid, got {:?}", report.verdict)
    };
    assert_eq!(counterexample.op.index, 491);
    let html = render_html(&h, &report, None);
    let tmp = tempfile::tempdir().expect("tmp");
    let page = write(tmp.path(), "report.html", &html);
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let dom = browser::dump_dom(&chromium, &page).stdout;
    assert!(dom.contains(">INVALID<") && dom.contains("op #491 could not be linearized"));
    assert!(dom.contains(r#"class="plot counterexample""#));
    assert!(
        count(&dom, r#"class="tick illegal""#) >= 2,
        "both final paths end in an illegal step"
    );
    assert!(
        dom.contains("#491 p70 ok read 0"),
        "failing op missing from the table"
    );
    assert!(dom.contains("#478 "), "previous ok (index 478) missing");
    assert!(
        dom.contains("history index (no timestamps recorded)"),
        "EDN fixture has no times"
    );
    browser::screenshot(&chromium, &page, "knossos-cas-failure");
}

/// A keyed history with one stale read on `k1`, checked by the real checker: the report lists
/// both keys and draws the counterexample of the invalid key from the history's own ops.
#[test]
fn keyed_invalid_history_reports_the_failing_key() {
    use faultline::checker::{check, CheckOptions, ModelKind};
    use faultline::history::{History, OpType, Process};
    use serde_json::json;
    let mut ops = Vec::new();
    let script = [
        ("k0", "write", json!(1), json!(1)),
        ("k1", "write", json!(1), json!(1)),
        ("k0", "read", json!(null), json!(1)),
        ("k1", "write", json!(2), json!(2)),
        ("k1", "read", json!(null), json!(1)),
    ];
    for (i, (k, f, inv, done)) in script.iter().enumerate() {
        let p = Process::Client(i as u64 % 2);
        for (kind, v) in [(OpType::Invoke, inv), (OpType::Ok, done)] {
            let mut o =
                report_common::op(ops.len() as u64, ops.len() as f64, p, kind, f, v.clone());
            o.key = Some((*k).into());
            ops.push(o);
        }
    }
    let h = History { ops };
    let report = check(
        &h,
        &CheckOptions {
            model: ModelKind::Kv,
            ..CheckOptions::default()
        },
    )
    .expect("check");
    assert!(
        matches!(report.verdict, Verdict::Invalid { .. }),
        "{:?}",
        report.verdict
    );
    let html = render_html(&h, &report, None);
    assert!(html.contains(r#"<table class="keys">"#));
    assert!(
        html.contains(r#"<tr class="invalid"><td><code>k1</code>"#),
        "k1 must be listed invalid first"
    );
    assert!(html.contains(r#"<tr class="valid"><td><code>k0</code>"#));
    assert!(html.contains("<h3>Key <code>k1</code></h3>"));
    assert!(
        html.contains("#9 p0 ok read 1 key=k1"),
        "failing op from the history"
    );
    assert!(html.contains("op ok failing"), "failing op outlined");
}
