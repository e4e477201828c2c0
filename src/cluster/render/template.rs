//! Templates: literal text with `{name}` placeholders (`{{` and `}}` are literal braces). Parsing,
//! checking against a list of known names, and substitution. Pure.

/// Split a template into literal text and placeholder names; `Err` says what is malformed.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{{") {
            out.push(Piece::Lit("{"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            out.push(Piece::Lit("}"));
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').ok_or_else(|| {
                format!("unclosed '{{' in {template:?} (write {{{{ for a literal brace)")
            })?;
            out.push(Piece::Var(&r[..end]));
            rest = &r[end + 1..];
        } else if rest.starts_with('}') {
            return Err(format!(
                "stray '}}' in {template:?} (write }}}} for a literal brace)"
            ));
        } else {
            let end = rest.find(['{', '}']).unwrap_or(rest.len());
            out.push(Piece::Lit(&rest[..end]));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

enum Piece<'a> {
    Lit(&'a str),
    Var(&'a str),
}

/// Check that `template` is well-formed and uses only `known` placeholders.
pub fn check_against<S: AsRef<str>>(template: &str, known: &[S]) -> Result<(), String> {
    for p in parse(template)? {
        if let Piece::Var(v) = p {
            if !known.iter().any(|k| k.as_ref() == v) {
                return Err(format!(
                    "unknown placeholder {{{v}}} in {template:?}; known: {}",
                    known
                        .iter()
                        .map(|k| format!("{{{}}}", k.as_ref()))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
        }
    }
    Ok(())
}

/// Substitute `vars` into a template that was checked with [`check_against`]; unknown names
/// (which validation prevents) render as nothing.
pub fn substitute(template: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    match parse(template) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Lit(s) => s.to_string(),
                Piece::Var(v) => vars(v).unwrap_or_default(),
            })
            .collect(),
        Err(_) => template.to_string(),
    }
}
