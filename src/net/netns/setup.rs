//! Creating and removing one run's namespaces, bridge and veths with `ip`, and sweeping up what a
//! crashed run left behind. The only code in the backend that changes the host's network state.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::cmd;
use super::layout::{self, Layout, BRIDGE, HOST_PORT, NODE_IF};
use super::registry::{self, Record, Registry};
use super::rules;
use crate::net::NetError;

/// The located system tools.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `ip` (iproute2).
    pub ip: PathBuf,
    /// `nft` (nftables).
    pub nft: PathBuf,
}

impl Tools {
    /// Run `ip args...`.
    pub fn ip(&self, args: &[&str]) -> Result<String, NetError> {
        cmd::run(&self.ip, args, None)
    }

    /// Run `ip -n <ns> args...`.
    pub fn ip_in(&self, ns: &str, args: &[&str]) -> Result<String, NetError> {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        cmd::run(&self.ip, &all, None)
    }

    /// Load an nft script inside namespace `ns`.
    pub fn nft_load(&self, ns: &str, script: &str) -> Result<(), NetError> {
        let nft = self.nft.to_string_lossy();
        cmd::run(
            &self.ip,
            &["netns", "exec", ns, &nft, "-f", "-"],
            Some(script),
        )
        .map(|_| ())
    }

    /// Names of every network namespace (`ip netns list`).
    pub fn namespaces(&self) -> Result<Vec<String>, NetError> {
        Ok(self
            .ip(&["netns", "list"])?
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect())
    }

    /// Names of every link in the root namespace (`ip -o link show`).
    pub fn root_links(&self) -> Result<Vec<String>, NetError> {
        Ok(self
            .ip(&["-o", "link", "show"])?
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|name| name.split('@').next().unwrap_or(name).to_string())
            .collect())
    }
}

/// Create everything `layout` describes, then install the empty (accept-all) rule set.
/// On error the caller tears down whatever was created.
pub fn build(tools: &Tools, l: &Layout) -> Result<(), NetError> {
    let br = l.bridge_namespace();
    tools.ip(&["netns", "add", &br])?;
    tools.ip_in(&br, &["link", "set", "lo", "up"])?;
    tools.ip_in(&br, &["link", "add", BRIDGE, "type", "bridge"])?;
    tools.ip_in(&br, &["link", "set", BRIDGE, "up"])?;
    for node in &l.nodes {
        let ns = node.namespace.as_str();
        let port = node.bridge_port.as_str();
        let cidr = format!("{}/24", node.ip);
        tools.ip(&["netns", "add", ns])?;
        tools.ip_in(ns, &["link", "set", "lo", "up"])?;
        tools.ip_in(
            &br,
            &[
                "link", "add", port, "type", "veth", "peer", "name", NODE_IF, "netns", ns,
            ],
        )?;
        tools.ip_in(&br, &["link", "set", port, "master", BRIDGE])?;
        tools.ip_in(&br, &["link", "set", port, "up"])?;
        tools.ip_in(ns, &["addr", "add", &cidr, "dev", NODE_IF])?;
        tools.ip_in(ns, &["link", "set", NODE_IF, "up"])?;
    }
    // The controller's way in: a veth from the root namespace onto the bridge. Its /24 address
    // adds exactly one connected route, for the run's subnet; the default route is not touched.
    let host = l.host_link();
    let host_cidr = format!("{}/24", l.host_ip());
    tools.ip(&[
        "link", "add", &host, "type", "veth", "peer", "name", HOST_PORT, "netns", &br,
    ])?;
    tools.ip_in(&br, &["link", "set", HOST_PORT, "master", BRIDGE])?;
    tools.ip_in(&br, &["link", "set", HOST_PORT, "up"])?;
    tools.ip(&["addr", "add", &host_cidr, "dev", &host])?;
    tools.ip(&["link", "set", &host, "up"])?;
    tools.nft_load(&br, &rules::render(&[], &[]))
}

/// Remove a run's root link and namespaces (which takes its veths, bridge and nft table with
/// them), after killing every process still inside them (all started in namespaces the run
/// created: a crashed run's nodes, a lab's sshd). Missing objects are fine; every removal is
/// attempted even if one fails.
pub fn teardown(tools: &Tools, namespaces: &[String], host_link: &str) -> Result<(), NetError> {
    kill_inside(tools, namespaces);
    let mut first_err = cmd::run_removal(&tools.ip, &["link", "del", host_link]).err();
    for ns in namespaces {
        if let Err(e) = cmd::run_removal(&tools.ip, &["netns", "del", ns]) {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// SIGKILL every process in `namespaces` and wait (bounded) until they are gone.
pub fn kill_inside(tools: &Tools, namespaces: &[String]) {
    let pids = |ns: &str| -> Vec<i32> {
        tools
            .ip(&["netns", "pids", ns])
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for ns in namespaces {
        loop {
            let left = pids(ns);
            if left.is_empty() || std::time::Instant::now() >= deadline {
                break;
            }
            for pid in left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Remove the leftovers of dead runs: every record whose owner is gone, and every `fl-` namespace
/// or root link named like ours whose run has no record at all. Caller holds the registry lock.
/// Returns the names removed.
pub fn sweep_stale(tools: &Tools, reg: &Registry) -> Result<Vec<String>, NetError> {
    let (records, unreadable) = reg.list();
    for path in unreadable {
        let _ = std::fs::remove_file(path);
    }
    let live: BTreeSet<String> = records
        .iter()
        .filter(|r| registry::is_alive(r))
        .map(|r| r.run_id.clone())
        .collect();
    let mut removed = Vec::new();
    for r in records.iter().filter(|r| !live.contains(&r.run_id)) {
        teardown(tools, &r.namespaces, &r.host_link)?;
        reg.remove(&r.run_id)?;
        removed.extend(r.namespaces.iter().cloned());
        removed.push(r.host_link.clone());
    }
    // Names of ours with no record: a run that died between creating and registering cannot
    // exist (records are written first), so these are leftovers of a lost registry.
    let orphan = |name: &String| layout::owner_run_id(name).is_some_and(|rid| !live.contains(rid));
    for ns in tools.namespaces()?.iter().filter(|n| orphan(n)) {
        cmd::run_removal(&tools.ip, &["netns", "del", ns])?;
        removed.push(ns.clone());
    }
    for link in tools.root_links()?.iter().filter(|n| orphan(n)) {
        cmd::run_removal(&tools.ip, &["link", "del", link])?;
        removed.push(link.clone());
    }
    removed.sort();
    removed.dedup();
    Ok(removed)
}

/// Pick a run id and a `10.77.x.0/24` no live run and no root-namespace address or route uses,
/// and register them for this process (or, with `lab`, for the lab in that directory). Caller
/// holds the registry lock and has swept.
pub fn register(
    tools: &Tools,
    reg: &Registry,
    nodes: &[String],
    lab: Option<&std::path::Path>,
) -> Result<Layout, NetError> {
    let (records, _) = reg.list();
    let mut used: BTreeSet<u8> = records.iter().map(|r| r.subnet).collect();
    let mut seen = tools.ip(&["-4", "-o", "addr", "show"])?;
    seen.push_str(&tools.ip(&["-4", "route", "show", "table", "all"])?);
    used.extend(subnets_mentioned(&seen));
    let subnet = (1..=250u8).find(|s| !used.contains(s)).ok_or_else(|| {
        NetError::Unsupported(format!(
            "no free 10.77.x.0/24 subnet for a netns run ({} runs registered in {}); remove \
             stale runs or use `--net proxy`",
            records.len(),
            reg.dir().display()
        ))
    })?;
    // Run ids in use: registered, or still named by a namespace or link a sweep could not remove.
    let mut taken: BTreeSet<String> = records.iter().map(|r| r.run_id.clone()).collect();
    for name in tools.namespaces()?.iter().chain(&tools.root_links()?) {
        if let Some(rid) = layout::owner_run_id(name) {
            taken.insert(rid.to_string());
        }
    }
    let run_id = (0..64)
        .map(|_| format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| format!("{:06x}", std::process::id() & 0x00ff_ffff));
    let l = Layout::new(&run_id, subnet, nodes);
    let (pid, start_time) = crate::owner::identity();
    reg.write(&Record {
        run_id,
        pid,
        start_time,
        subnet,
        namespaces: l.namespaces(),
        host_link: l.host_link(),
        lab: lab.map(std::path::Path::to_path_buf),
    })?;
    Ok(l)
}

/// Third octets `x` of every `10.77.x.y` in `text`.
fn subnets_mentioned(text: &str) -> BTreeSet<u8> {
    let prefix = format!("{}.{}.", layout::NET_PREFIX[0], layout::NET_PREFIX[1]);
    text.match_indices(&prefix)
        .filter(|(i, _)| *i == 0 || !text.as_bytes()[i - 1].is_ascii_digit())
        .filter_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_subnets_in_ip_output_but_not_lookalikes() {
        let text = "4: fl-x-h inet 10.77.3.254/24 scope global\n10.77.12.0/24 dev fl-y-h\n\
                    110.77.9.1 via x\n";
        assert_eq!(subnets_mentioned(text), BTreeSet::from([3, 12]));
    }
}
