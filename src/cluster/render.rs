//! Rendering a node's command line from the spec's templates and the network layout.
//!
//! Placeholders in `args` and `env` values: `{id}`, `{client_addr}`, `{peer_addr}`, `{peers}`,
//! `{data_dir}`, `{client_port}`, `{peer_port}`, `{host}`, `{all_peers}` and `{initial_cluster}`.
//! `{peers}` lists the *other* nodes as this node must dial them (with the proxy backend: through
//! the per-pair proxies), each rendered with `peers_format` (placeholders `{id}`, `{addr}`,
//! `{host}`, `{port}`; default `{id}={addr}`) and joined with `,`. `{all_peers}` is the same list
//! over all nodes in node order, with this node at its own `{peer_addr}`. `{initial_cluster}` is etcd's
//! `id=http://addr,...` over *all* nodes (this node's own peer address, the others as dialled).
//! `{{` and `}}` are literal braces.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::net::NodeEndpoints;

use super::spec::ClusterSpec;

/// Placeholders allowed in `args` and `env` values.
pub const NODE_PLACEHOLDERS: &[&str] = &[
    "id",
    "client_addr",
    "peer_addr",
    "peers",
    "data_dir",
    "client_port",
    "peer_port",
    "host",
    "initial_cluster",
    "all_peers",
];

/// Placeholders allowed in `peers_format`.
pub const PEER_PLACEHOLDERS: &[&str] = &["id", "addr", "host", "port"];

pub use crate::host::NodeCommand;

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

fn check_against(template: &str, known: &[&str]) -> Result<(), String> {
    for p in parse(template)? {
        if let Piece::Var(v) = p {
            if !known.contains(&v) {
                return Err(format!(
                    "unknown placeholder {{{v}}} in {template:?}; known: {}",
                    known
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
        }
    }
    Ok(())
}

/// Check an `args`/`env` template: well-formed and only known placeholders.
pub fn check_template(template: &str) -> Result<(), String> {
    check_against(template, NODE_PLACEHOLDERS)
}

/// Check a `peers_format` template.
pub fn check_peer_template(template: &str) -> Result<(), String> {
    check_against(template, PEER_PLACEHOLDERS)
}

/// Substitute `vars` into a template that was validated with [`check_template`]; unknown names
/// (which validation prevents) render as nothing.
fn substitute(template: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
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

fn render_peer(format: &str, id: &str, addr: SocketAddr) -> String {
    substitute(format, &|v| match v {
        "id" => Some(id.to_string()),
        "addr" => Some(addr.to_string()),
        "host" => Some(addr.ip().to_string()),
        "port" => Some(addr.port().to_string()),
        _ => None,
    })
}

/// Render the command for node `me` of `all` (the backend's layout), with its data directory.
pub fn render_node(
    spec: &ClusterSpec,
    program: &Path,
    all: &[NodeEndpoints],
    me: &NodeEndpoints,
    data_dir: &Path,
) -> NodeCommand {
    let peers = me
        .peers
        .iter()
        .map(|(id, addr)| render_peer(&spec.peers_format, id, *addr))
        .collect::<Vec<_>>()
        .join(",");
    // Every node as this node reaches it (itself at its own peer address), in node order.
    let view: Vec<(&str, SocketAddr)> = all
        .iter()
        .filter_map(|n| {
            let addr = if n.id == me.id {
                Some(me.peer_bind)
            } else {
                me.peers.iter().find(|(id, _)| *id == n.id).map(|(_, a)| *a)
            };
            addr.map(|a| (n.id.as_str(), a))
        })
        .collect();
    let initial_cluster = view
        .iter()
        .map(|(id, a)| format!("{id}=http://{a}"))
        .collect::<Vec<_>>()
        .join(",");
    let all_peers = view
        .iter()
        .map(|(id, a)| render_peer(&spec.peers_format, id, *a))
        .collect::<Vec<_>>()
        .join(",");
    let data = data_dir.display().to_string();
    let vars = |v: &str| -> Option<String> {
        Some(match v {
            "id" => me.id.clone(),
            "client_addr" => me.client_bind.to_string(),
            "peer_addr" => me.peer_bind.to_string(),
            "peers" => peers.clone(),
            "data_dir" => data.clone(),
            "client_port" => me.client_bind.port().to_string(),
            "peer_port" => me.peer_bind.port().to_string(),
            "host" => me.client_bind.ip().to_string(),
            "initial_cluster" => initial_cluster.clone(),
            "all_peers" => all_peers.clone(),
            _ => return None,
        })
    };
    let rendered: Vec<String> = spec.args.iter().map(|a| substitute(a, &vars)).collect();
    let env = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), substitute(v, &vars)))
        .collect();
    let (program, args) = match me.command_prefix.split_first() {
        Some((first, rest)) => {
            let mut args: Vec<String> = rest.to_vec();
            args.push(program.display().to_string());
            args.extend(rendered);
            (PathBuf::from(first), args)
        }
        None => (program.to_path_buf(), rendered),
    };
    NodeCommand { program, args, env }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(id: &str, c: u16, p: u16, peers: &[(&str, u16)]) -> NodeEndpoints {
        let a = |port| SocketAddr::from(([127, 0, 0, 1], port));
        NodeEndpoints {
            id: id.into(),
            client_bind: a(c),
            client_addr: a(c),
            peer_bind: a(p),
            peers: peers
                .iter()
                .map(|(i, port)| (i.to_string(), a(*port)))
                .collect(),
            command_prefix: vec![],
        }
    }

    #[test]
    fn renders_every_placeholder() {
        let text = r#"
name = "t"
nodes = 3
command = "x"
args = ["--id={id}", "{client_addr}", "{peer_addr}", "{peers}", "{data_dir}", "{client_port}",
        "{peer_port}", "{host}", "{initial_cluster}", "{{lit}}", "{all_peers}"]
env = { NODE = "{id}" }
ready = { http_get = "/health" }
"#;
        let spec = ClusterSpec::parse(text, Path::new("t.toml")).unwrap();
        let all = vec![
            ep("n1", 1001, 2001, &[("n2", 3012), ("n3", 3013)]),
            ep("n2", 1002, 2002, &[("n1", 3021), ("n3", 3023)]),
            ep("n3", 1003, 2003, &[("n1", 3031), ("n2", 3032)]),
        ];
        let cmd = render_node(
            &spec,
            Path::new("/bin/x"),
            &all,
            &all[0],
            Path::new("/d/n1"),
        );
        assert_eq!(cmd.program, PathBuf::from("/bin/x"));
        assert_eq!(
            cmd.args,
            [
                "--id=n1",
                "127.0.0.1:1001",
                "127.0.0.1:2001",
                "n2=127.0.0.1:3012,n3=127.0.0.1:3013",
                "/d/n1",
                "1001",
                "2001",
                "127.0.0.1",
                "n1=http://127.0.0.1:2001,n2=http://127.0.0.1:3012,n3=http://127.0.0.1:3013",
                "{lit}",
                "n1=127.0.0.1:2001,n2=127.0.0.1:3012,n3=127.0.0.1:3013",
            ]
        );
        assert_eq!(cmd.env, [("NODE".to_string(), "n1".to_string())]);
    }

    #[test]
    fn command_prefix_goes_first() {
        let spec = ClusterSpec::parse(
            "name='t'\nnodes=1\ncommand='x'\nargs=['{id}']\nready={http_get='/'}\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let mut me = ep("n1", 1, 2, &[]);
        me.command_prefix = vec!["ip".into(), "netns".into(), "exec".into(), "ns1".into()];
        let cmd = render_node(
            &spec,
            Path::new("/bin/x"),
            &[me.clone()],
            &me,
            Path::new("/d"),
        );
        assert_eq!(cmd.program, PathBuf::from("ip"));
        assert_eq!(cmd.args, ["netns", "exec", "ns1", "/bin/x", "n1"]);
    }

    #[test]
    fn malformed_templates_are_rejected() {
        assert!(check_template("{id").is_err());
        assert!(check_template("a}b").is_err());
        assert!(check_template("{nope}").unwrap_err().contains("{nope}"));
        assert!(check_peer_template("{id}@{host}:{port}").is_ok());
    }
}
