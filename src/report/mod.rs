//! Reporting: the `results.json` schema, the terminal summary table, the self-contained HTML report
//! and JUnit XML. Renders what the runner and checker produced; never re-runs the checker.
//!
//! - [`results`]: `RunResults`, the `results.json` schema; [`run_check`]: its `check`, the
//!   linearizability or isolation report.
//! - [`html`]: `render_html` / `write_report`, the self-contained HTML report.
//! - [`junit`]: `render_junit` / `write_junit`, JUnit XML (one test case per checked key).
//! - [`summary`]: run statistics from a history and the terminal summary table.
//! - [`series`]: a series of runs (`--test-count`) as a table and as JUnit (one case per run).
//! - [`progress`]: the live progress bar (only on a TTY without `NO_COLOR`).
//! - [`stored`]: loading a results directory back (`faultline report`).

mod error;
mod escape;
pub mod html;
pub mod junit;
pub mod progress;
pub mod results;
pub mod run_check;
pub mod series;
pub mod stored;
pub mod summary;
pub mod text;

pub use error::ReportError;
pub use escape::esc;
pub use html::{render_html, render_txn_html, write_report, write_run_report, write_txn_report};
pub use junit::{render_junit, render_txn_junit, write_junit, write_run_junit, write_txn_junit};
pub use results::RunResults;
pub use run_check::RunCheck;
pub use series::{render_series_junit, render_series_table, write_series_junit, SeriesEntry};
pub use stored::{load_run, StoredRun};
