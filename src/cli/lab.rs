//! `faultline lab up N` / `faultline lab down`: namespaced sshd hosts on this machine (root), for
//! trying `faultline test --hosts` with real SSH.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::exit::Outcome;
use crate::host::lab::{self, DEFAULT_LAB_DIR};

/// Flags of `faultline lab`.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: LabAction,
}

/// `lab up` or `lab down`.
#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Create N network namespaces, each running sshd, and write DIR/hosts.toml.
    Up {
        /// Number of hosts.
        n: usize,
        /// The lab's directory (keys, sshd configs, hosts.toml, the hosts' work directories).
        #[arg(long, value_name = "DIR", default_value = DEFAULT_LAB_DIR)]
        dir: PathBuf,
    },
    /// Remove the lab in DIR: its processes, namespaces, veths, nft tables, registry entry, keys
    /// and files.
    Down {
        /// The lab's directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_LAB_DIR)]
        dir: PathBuf,
    },
}

/// Run `faultline lab`.
pub fn run(args: LabArgs) -> anyhow::Result<Outcome> {
    match args.action {
        LabAction::Up { n, dir } => {
            let st = lab::up(n, &dir)?;
            println!(
                "lab up: {} hosts on 10.77.{}.0/24 (ssh as root with {}/keys/id_ed25519)",
                st.hosts.len(),
                st.subnet,
                st.dir.display()
            );
            for (id, ip) in &st.hosts {
                println!("  {id}  root@{ip}");
            }
            println!(
                "run:  faultline test --hosts {} --nodes {}",
                st.hosts_toml().display(),
                st.hosts.len()
            );
            println!("stop: faultline lab down --dir {}", st.dir.display());
        }
        LabAction::Down { dir } => match lab::down(&dir)? {
            Some(st) => println!(
                "lab down: removed {} hosts, lab {} in {}",
                st.hosts.len(),
                st.run_id,
                st.dir.display()
            ),
            None => println!("no lab in {}; nothing to do", dir.display()),
        },
    }
    Ok(Outcome::Valid)
}
