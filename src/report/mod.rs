//! Reporting: the `results.json` schema, the terminal summary table, the self-contained HTML report
//! and JUnit XML. Renders what the runner and checker produced; never re-runs the checker.

pub mod progress;
pub mod results;
pub mod summary;

pub use results::RunResults;
