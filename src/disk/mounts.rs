//! [`LazyDisks`]: one lazy filesystem per node, mounted over the node's data directory with its
//! backing directory beside it (`<run>/data/<id>` over `<run>/data/<id>.disk`), served by a
//! thread of the controller. Every mountpoint is recorded in the registry before it is mounted,
//! and unmounted when this value is dropped (end, error, Ctrl-C, panic); after a `kill -9` of the
//! controller the next run's sweep unmounts it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fuser::{BackgroundSession, Config, MountOption};

use super::fs::{DiskControl, LazyFs};
use super::registry::{self, Record, Registry, FS_NAME};
use super::DiskError;
use crate::net::NodeId;

/// One node's mounted lazy filesystem.
struct Mounted {
    mountpoint: PathBuf,
    control: DiskControl,
    session: Option<BackgroundSession>,
}

/// The lazy filesystems of one run, by node id.
pub struct LazyDisks {
    disks: BTreeMap<NodeId, Mounted>,
    registry: Registry,
    record: Record,
}

impl LazyDisks {
    /// Mount a lazy filesystem over `data_root/<id>` for every node, backed by
    /// `data_root/<id>.disk` (both created if missing), after sweeping dead runs' mounts. Checks
    /// [`super::requirements`] first.
    pub fn mount(data_root: &Path, nodes: &[NodeId]) -> Result<LazyDisks, DiskError> {
        let registry = Registry::at(registry::DEFAULT_DIR);
        super::requirements().map_err(DiskError::Missing)?;
        let io = |what: &str, p: &Path| {
            let what = format!("{what} {}", p.display());
            move |source| DiskError::Io { what, source }
        };
        std::fs::create_dir_all(data_root).map_err(io("create", data_root))?;
        let data_root = std::fs::canonicalize(data_root).map_err(io("resolve", data_root))?;
        let record = {
            let _lock = registry.lock()?;
            let swept = registry::sweep(&registry);
            if !swept.is_empty() {
                tracing::info!(?swept, "unmounted lazy filesystems of dead runs");
            }
            let mut record = registry::new_record(&registry);
            record.mounts = nodes.iter().map(|id| data_root.join(id)).collect();
            registry.write(&record)?;
            record
        };
        // From here on, dropping `disks` unmounts what was mounted and removes the record.
        let mut disks = LazyDisks {
            disks: BTreeMap::new(),
            registry,
            record,
        };
        for id in nodes {
            let mountpoint = data_root.join(id);
            let backing = data_root.join(format!("{id}.disk"));
            for dir in [&mountpoint, &backing] {
                std::fs::create_dir_all(dir).map_err(io("create", dir))?;
            }
            let (fs, control) = LazyFs::new(&backing).map_err(io("open", &backing))?;
            let mut config = Config::default();
            config.mount_options = vec![
                MountOption::FSName(FS_NAME.into()),
                MountOption::DefaultPermissions,
                MountOption::NoAtime,
            ];
            let session = fuser::spawn_mount(fs, &mountpoint, &config).map_err(|source| {
                DiskError::Mount {
                    mountpoint: mountpoint.clone(),
                    source,
                }
            })?;
            disks.disks.insert(
                id.clone(),
                Mounted {
                    mountpoint,
                    control,
                    session: Some(session),
                },
            );
        }
        Ok(disks)
    }

    /// The control handle of node `id`'s filesystem.
    pub fn control(&self, id: &str) -> Option<&DiskControl> {
        self.disks.get(id).map(|m| &m.control)
    }

    /// Node ids with a lazy filesystem.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.disks.keys().cloned().collect()
    }

    /// Whether node `id`'s filesystem is still mounted where this run put it (something outside
    /// the run could have unmounted it).
    pub fn is_mounted(&self, id: &str) -> bool {
        self.mountpoint(id)
            .is_some_and(|m| registry::our_mounts().iter().any(|p| p == m))
    }

    /// Where node `id`'s filesystem is mounted.
    pub fn mountpoint(&self, id: &str) -> Option<&Path> {
        self.disks.get(id).map(|m| m.mountpoint.as_path())
    }

    /// Unmount everything (nodes should be stopped first; a busy mount is detached lazily) and
    /// drop the registry record. Idempotent; also run on drop.
    pub fn unmount_all(&mut self) {
        for m in self.disks.values_mut() {
            if let Some(session) = m.session.take() {
                // Plain unmount first; a mount still in use is detached and goes when released.
                if nix::mount::umount(&m.mountpoint).is_err() && !registry::detach(&m.mountpoint) {
                    tracing::warn!(mountpoint = %m.mountpoint.display(), "could not unmount the lazy filesystem");
                }
                drop(session);
            }
        }
        let _ = self.registry.remove(&self.record.run_id);
    }
}

impl Drop for LazyDisks {
    fn drop(&mut self) {
        self.unmount_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_every_mountpoint_and_unmounts_on_drop() {
        if super::super::requirements().is_err() {
            eprintln!("skipping: needs root and /dev/fuse (the lazyfs_* integration tests enforce it under CI)");
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let nodes = vec!["n1".to_string(), "n2".to_string()];
        let disks = LazyDisks::mount(root.path(), &nodes).unwrap();
        let canon = std::fs::canonicalize(root.path()).unwrap();
        let reg = Registry::at(registry::DEFAULT_DIR);
        let mine: Vec<Record> = reg
            .list()
            .0
            .into_iter()
            .filter(|r| r.run_id == disks.record.run_id)
            .collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].mounts, vec![canon.join("n1"), canon.join("n2")]);
        assert!(registry::our_mounts().contains(&canon.join("n1")));
        let run_id = disks.record.run_id.clone();
        drop(disks);
        assert!(!reg.list().0.iter().any(|r| r.run_id == run_id));
        let left = registry::our_mounts();
        assert!(
            !left.contains(&canon.join("n1")) && !left.contains(&canon.join("n2")),
            "{left:?}"
        );
    }
}
