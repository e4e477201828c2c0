//! The counterexample as an HTML table: the failing op, the previous ok, the longest linearizable
//! prefix, the possible model states and every final path step by step (illegal steps in pink).

use std::fmt::Write;

use super::svg::{esc, esc_short};
use crate::checker::Counterexample;
use crate::report::text::op_text;

/// Paths listed in the table.
const MAX_TABLE_PATHS: usize = 50;

/// Render the table for one counterexample.
pub(crate) fn table(ce: &Counterexample) -> String {
    let mut out = String::from(r#"<table class="ce"><tbody>"#);
    if let Some(k) = &ce.key {
        let _ = write!(
            out,
            "<tr><th>Key</th><td><code>{}</code></td></tr>",
            esc_short(&k.to_string(), 200)
        );
    }
    let _ = write!(
        out,
        r#"<tr><th>Op that could not be linearized</th><td class="failing-op"><code>{}</code></td></tr>"#,
        esc_short(&op_text(&ce.op), 400)
    );
    let prev = ce
        .previous_ok
        .as_ref()
        .map(op_text)
        .unwrap_or_else(|| "none".into());
    let _ = write!(
        out,
        "<tr><th>Previous ok</th><td><code>{}</code></td></tr>",
        esc_short(&prev, 400)
    );
    let prefix: Vec<String> = ce
        .longest_prefix
        .iter()
        .take(60)
        .map(|i| format!("#{i}"))
        .collect();
    let more = if ce.longest_prefix.len() > 60 {
        " …"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<tr><th>Longest linearizable prefix</th><td>{} ops: <code>{}{more}</code></td></tr>",
        ce.longest_prefix.len(),
        esc(&prefix.join(" "))
    );
    let states: Vec<String> = ce
        .states
        .iter()
        .take(50)
        .map(|s| format!("<code>{}</code>", esc_short(s, 200)))
        .collect();
    let _ = write!(
        out,
        "<tr><th>Possible model states before it</th><td>{}</td></tr>",
        states.join(", ")
    );
    out.push_str("</tbody></table>");
    let _ = write!(
        out,
        r#"<h3>Final paths ({})</h3><table class="paths"><thead><tr><th>#</th><th>steps (op → model state)</th></tr></thead><tbody>"#,
        ce.final_paths.len()
    );
    for (i, path) in ce.final_paths.iter().take(MAX_TABLE_PATHS).enumerate() {
        let _ = write!(out, "<tr><td>{}</td><td><ol class=\"path\">", i + 1);
        for s in path {
            let class = if s.legal {
                "step legal"
            } else {
                "step illegal"
            };
            let _ = write!(
                out,
                r#"<li class="{class}"><code>{}</code> → <code class="state">{}</code></li>"#,
                esc_short(&op_text(&s.op), 300),
                esc_short(&s.state, 300)
            );
        }
        out.push_str("</ol></td></tr>");
    }
    out.push_str("</tbody></table>");
    if ce.final_paths.len() > MAX_TABLE_PATHS {
        let _ = write!(
            out,
            r#"<p class="note">Listing {MAX_TABLE_PATHS} of {} paths.</p>"#,
            ce.final_paths.len()
        );
    }
    out
}
