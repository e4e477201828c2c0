//! Headless Chromium for report tests: load a file, dump the rendered DOM or take a screenshot.
//! Chromium runs in its own process group, killed on timeout, so tests leave no orphans.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How long one Chromium run may take.
const TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary, or `None` (with a printed reason) when absent outside CI.
/// Panics under `CI=true` when it is missing: there the browser tests must run.
pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("FAULTLINE_CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
        "/usr/bin/google-chrome".into(),
    ];
    let found = candidates
        .iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        let reason = "no Chromium found (/usr/bin/chromium; set FAULTLINE_CHROMIUM to override)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}: browser tests must run in CI (apt-get install chromium)");
        }
        eprintln!("SKIP browser check: {reason}");
    }
    found
}

/// What one headless run produced.
pub struct Run {
    /// Standard output (the DOM for `--dump-dom`).
    pub stdout: String,
    /// Standard error (console messages with `--enable-logging=stderr`).
    pub stderr: String,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

/// Run headless Chromium on `page` with `extra` flags.
pub fn run(chromium: &Path, page: &Path, extra: &[String]) -> Run {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (tmp.path().join("stdout"), tmp.path().join("stderr"));
    let profile = tmp.path().join("profile");
    let page = std::fs::canonicalize(page).expect("page exists");
    let start = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .process_group(0)
        .spawn()
        .expect("spawn chromium");
    let pgid = Pid::from_raw(child.id() as i32);
    loop {
        if child.try_wait().expect("wait chromium").is_some() {
            break;
        }
        if start.elapsed() > TIMEOUT {
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            panic!(
                "chromium did not finish within {TIMEOUT:?} on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = start.elapsed();
    // Helpers (zygote, GPU, ...) normally exit with the browser; make sure none outlive the test.
    let _ = killpg(pgid, Signal::SIGKILL);
    Run {
        stdout: std::fs::read_to_string(out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(err_path).unwrap_or_default(),
        elapsed,
    }
}

/// Load `page` and return the DOM after scripts ran, panicking on JavaScript errors.
pub fn dump_dom(chromium: &Path, page: &Path) -> Run {
    let r = run(chromium, page, &["--dump-dom".into()]);
    assert!(
        r.stdout.contains("</html>"),
        "no DOM dumped for {}; stderr:\n{}",
        page.display(),
        r.stderr
    );
    let console_errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("Uncaught") || (l.contains("CONSOLE") && l.contains("rror")))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors in {}:\n{}",
        page.display(),
        console_errors.join("\n")
    );
    assert!(
        r.stdout.contains(r#"data-report-ready="1""#),
        "report script did not run to the end in {}",
        page.display()
    );
    assert!(
        !r.stdout.contains(r#"data-js-errors="1""#),
        "window.onerror fired in {}: {}",
        page.display(),
        r.stdout.split("js-errors").nth(1).unwrap_or("")
    );
    r
}

/// Where screenshots go: `<target dir>/report-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("report-screenshots");
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

/// Screenshot `page` into `target/report-screenshots/<name>.png` and print the path.
pub fn screenshot(chromium: &Path, page: &Path, name: &str) -> PathBuf {
    let file = screenshot_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&file);
    run(
        chromium,
        page,
        &[
            format!("--screenshot={}", file.display()),
            "--window-size=1400,2000".into(),
            "--hide-scrollbars".into(),
        ],
    );
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {} missing or empty ({size} bytes)",
        file.display()
    );
    println!("screenshot: {}", file.display());
    file
}
