//! The fault coverage section, next to the plots: which fault kinds hit which roles (how often,
//! for how long, and how many client ops completed ok / fail / info meanwhile, against the
//! no-fault baseline), one row per fault window, the faults the run left out and its warnings.
//! Says so plainly when no fault hit the leader.

use std::fmt::Write;

use super::svg::esc_short;
use crate::nemesis::coverage::{Availability, Coverage};

/// Fault windows listed before the table is cut.
const MAX_WINDOWS: usize = 200;

fn cells(a: &Availability) -> String {
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td>",
        a.ok, a.fail, a.info, a.ok_per_s
    )
}

/// The section, or `None` when the history has no faults and nothing was left out.
pub(crate) fn render(c: &Coverage) -> Option<String> {
    if c.windows.is_empty()
        && c.left_out.is_empty()
        && c.warnings.is_empty()
        && c.families.is_empty()
    {
        return None;
    }
    let mut out = String::from(r#"<section id="coverage"><h2>Fault coverage</h2>"#);
    if !c.windows.is_empty() && !c.hit_leader {
        out.push_str(r#"<p class="warn" id="never-hit-leader">No fault hit the leader: every fault hit followers (or nodes while no leader was known). Faults aimed at the leader (kill-leader, partition-leader, ...) test what this run did not.</p>"#);
    }
    for w in &c.warnings {
        let _ = write!(out, r#"<p class="warn">{}</p>"#, esc_short(w, 500));
    }
    if !c.windows.is_empty() {
        out.push_str(r#"<p class="note">Roles are the leader probe's answer when each fault started. ok/s is availability: ok completions per second while the fault lasted, against the same rate with no fault active.</p>"#);
        out.push_str(r#"<table class="counts coverage-roles"><thead><tr><th>fault</th><th>hit</th><th>times</th><th>total s</th><th>ok</th><th>fail</th><th>info</th><th>ok/s</th></tr></thead><tbody>"#);
        for r in &c.by_role {
            let _ = write!(
                out,
                r#"<tr data-role="{role}"><td>{}</td><td>{role}</td><td>{}</td><td>{:.1}</td>{}</tr>"#,
                esc_short(&r.fault, 60),
                r.count,
                r.total_s,
                cells(&r.ops),
                role = r.role.name()
            );
        }
        let _ = write!(
            out,
            r#"<tr class="quiet"><td>(no fault)</td><td></td><td></td><td>{:.1}</td>{}</tr></tbody></table>"#,
            c.quiet.seconds,
            cells(&c.quiet)
        );
        out.push_str(r#"<table class="counts coverage-windows"><thead><tr><th>#</th><th>fault</th><th>targets</th><th>what</th><th>from s</th><th>to s</th><th>ok</th><th>fail</th><th>info</th><th>ok/s</th></tr></thead><tbody>"#);
        for (i, w) in c.windows.iter().take(MAX_WINDOWS).enumerate() {
            let targets: Vec<String> = w
                .targets
                .iter()
                .map(|(n, r)| format!("{n} ({})", r.name()))
                .collect();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td>{}</tr>",
                i + 1,
                esc_short(&w.fault, 60),
                esc_short(&targets.join(", "), 300),
                esc_short(&w.desc, 300),
                w.start_ns as f64 / 1e9,
                w.end_ns as f64 / 1e9,
                cells(&w.ops)
            );
        }
        out.push_str("</tbody></table>");
        if c.windows.len() > MAX_WINDOWS {
            let _ = write!(
                out,
                r#"<p class="note">Showing {MAX_WINDOWS} of {} fault windows; results.json has all.</p>"#,
                c.windows.len()
            );
        }
    }
    if !c.families.is_empty() {
        let (hit, missed) = c.families_hit();
        let _ = write!(
            out,
            r#"<p class="families">Families: {} of {} hit ({})"#,
            hit.len(),
            hit.len() + missed.len(),
            esc_short(&hit.join(", "), 400)
        );
        if !missed.is_empty() {
            let _ = write!(
                out,
                "; not reached before the time limit: {}",
                esc_short(&missed.join(", "), 400)
            );
        }
        out.push_str("</p>");
    }
    if !c.left_out.is_empty() {
        out.push_str(r#"<h3>Left out</h3><ul class="left-out">"#);
        for (f, why) in &c.left_out {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc_short(f, 60),
                esc_short(why, 400)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    Some(out)
}
