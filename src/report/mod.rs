//! Reporting: the `results.json` schema, the terminal summary table, the self-contained HTML report
//! and JUnit XML. Renders what the runner and checker produced; never re-runs the checker.

pub mod results;

pub use results::RunResults;
