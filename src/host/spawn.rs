//! The thread that spawns every child process a host starts (nodes, and for SSH hosts the `ssh`
//! clients and master), so that each child's parent-death signal is tied to a thread that lives
//! exactly as long as its host — not to a tokio worker, which may come and go.
//!
//! Every child is spawned with `PR_SET_PDEATHSIG = SIGKILL`: the kernel kills it when the thread
//! that spawned it dies, so a `kill -9` of the controller takes its children with it.

use std::process::{Child, Command};
use std::sync::mpsc;

use std::os::unix::process::CommandExt;

use nix::sys::signal::Signal;

type Request = (Command, mpsc::Sender<std::io::Result<Child>>);

/// A dedicated thread that spawns children with a parent-death signal. Dropping it ends the
/// thread, which SIGKILLs every child it spawned that is still running.
#[derive(Debug)]
pub struct Spawner {
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spawner {
    /// Start the spawner thread.
    pub fn new(name: &str) -> std::io::Result<Spawner> {
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(spawn_tied(&mut command));
                }
            })?;
        Ok(Spawner {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Spawn `command` on the spawner thread, with the parent-death signal set.
    pub fn spawn(&self, command: Command) -> std::io::Result<Child> {
        let gone = || std::io::Error::other("the spawner thread is gone");
        let (reply, answer) = mpsc::channel();
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send((command, reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn spawn_tied(command: &mut Command) -> std::io::Result<Child> {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
    // calls (prctl, getppid); it allocates only on the error path, which ends in exec failure
    // reporting as std expects.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The parent may have died before prctl took effect.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the controller exited during spawn"));
            }
            Ok(())
        });
    }
    command.spawn()
}
