//! The lazy filesystem itself, mounted for real (part of the `disk_faults` test binary): what was fsynced survives a power loss and the
//! rest is gone; a torn write keeps a prefix; EIO and ENOSPC reach the writer; renames and
//! creates are durable at once while contents stay lazy; nothing stays mounted afterwards.
//! Needs root and /dev/fuse: under `CI=true` a missing requirement fails the test.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::disk_support::{assert_no_mounts_under, lazyfs_available};
use faultline::disk::{DiskControl, DiskMode, LazyDisks};

/// One mounted lazy filesystem in a tempdir: (disks, mountpoint, backing dir, tempdir).
fn mounted() -> (LazyDisks, PathBuf, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let disks = LazyDisks::mount(dir.path(), &["n1".to_string()]).expect("mount");
    let mnt = disks.mountpoint("n1").unwrap().to_path_buf();
    let backing = mnt.with_file_name("n1.disk");
    (disks, mnt, backing, dir)
}

fn control(d: &LazyDisks) -> &DiskControl {
    d.control("n1").unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    File::open(p).unwrap().read_to_end(&mut v).unwrap();
    v
}

fn done(disks: LazyDisks, dir: tempfile::TempDir) {
    drop(disks);
    assert_no_mounts_under(dir.path());
}

#[test]
fn fsynced_writes_survive_a_power_loss_and_the_rest_is_gone() {
    if !lazyfs_available("fsynced_writes_survive_a_power_loss_and_the_rest_is_gone") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    let path = mnt.join("log");
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"synced;").unwrap();
    f.sync_data().unwrap();
    f.write_all(b"lost-1;").unwrap();
    f.write_all(b"lost-2;").unwrap();
    // Readers see everything; the disk holds only what was fsynced.
    assert_eq!(read(&path), b"synced;lost-1;lost-2;");
    assert_eq!(fs::metadata(&path).unwrap().len(), 21);
    assert_eq!(read(&backing.join("log")), b"synced;");
    assert_eq!(control(&disks).unsynced(), (1, 14));
    drop(f);
    let lost = control(&disks).lose_unfsynced();
    assert_eq!((lost.files, lost.bytes), (1, 14));
    assert_eq!(read(&path), b"synced;");
    assert_eq!(fs::metadata(&path).unwrap().len(), 7);
    done(disks, dir);
}

#[test]
fn writes_through_an_o_dsync_descriptor_are_durable_at_once() {
    if !lazyfs_available("writes_through_an_o_dsync_descriptor_are_durable_at_once") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_DSYNC)
        .open(mnt.join("wal"))
        .unwrap();
    f.write_all(b"record-1;").unwrap();
    assert_eq!(read(&backing.join("wal")), b"record-1;");
    drop(f);
    control(&disks).lose_unfsynced();
    assert_eq!(read(&mnt.join("wal")), b"record-1;");
    done(disks, dir);
}

#[test]
fn a_torn_write_keeps_a_prefix_of_the_last_write() {
    if !lazyfs_available("a_torn_write_keeps_a_prefix_of_the_last_write") {
        return;
    }
    let (disks, mnt, _backing, dir) = mounted();
    let path = mnt.join("log");
    let mut f = File::create(&path).unwrap();
    f.write_all(b"AAAA").unwrap();
    f.sync_all().unwrap();
    f.write_all(b"bbbb").unwrap();
    f.write_all(b"CCCCCCCC").unwrap();
    drop(f);
    let lost = control(&disks).tear(|len| len / 2).unwrap();
    assert_eq!(lost.torn, Some((4, 8)));
    // The earlier unsynced write is gone, the last one landed half-way (a hole before it reads
    // as zeros, as on a real disk).
    assert_eq!(read(&path), b"AAAA\0\0\0\0CCCC");
    done(disks, dir);
}

#[test]
fn disk_error_and_disk_full_reach_the_writer() {
    if !lazyfs_available("disk_error_and_disk_full_reach_the_writer") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    let mut f = File::create(mnt.join("data")).unwrap();
    f.write_all(b"ok").unwrap();
    control(&disks).set_mode(DiskMode::Eio);
    let e = f.write_all(b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    let e = f.sync_all().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    control(&disks).set_mode(DiskMode::Full);
    let e = f.write_all(b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
    control(&disks).set_mode(DiskMode::Healthy);
    f.write_all(b"!").unwrap();
    f.sync_all().unwrap();
    assert_eq!(read(&backing.join("data")), b"ok!");
    drop(f);
    done(disks, dir);
}

#[test]
fn renames_and_creates_are_durable_at_once_but_contents_stay_lazy() {
    if !lazyfs_available("renames_and_creates_are_durable_at_once_but_contents_stay_lazy") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    // Write a file, rename it over its final name without fsync: after a power loss the name
    // is there but the contents are not (the classic zero-length file).
    fs::write(mnt.join("state.tmp"), b"v1").unwrap();
    fs::rename(mnt.join("state.tmp"), mnt.join("state")).unwrap();
    assert_eq!(read(&mnt.join("state")), b"v1");
    assert!(backing.join("state").exists() && !backing.join("state.tmp").exists());
    control(&disks).lose_unfsynced();
    assert_eq!(read(&mnt.join("state")), b"");
    // The same with an fsync before the rename keeps the contents.
    let mut f = File::create(mnt.join("state.tmp")).unwrap();
    f.write_all(b"v2").unwrap();
    f.sync_all().unwrap();
    drop(f);
    fs::rename(mnt.join("state.tmp"), mnt.join("state")).unwrap();
    control(&disks).lose_unfsynced();
    assert_eq!(read(&mnt.join("state")), b"v2");
    // Directories and listings pass through.
    fs::create_dir(mnt.join("sub")).unwrap();
    fs::write(mnt.join("sub/x"), b"1").unwrap();
    let mut names: Vec<String> = fs::read_dir(&mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["state", "sub"]);
    fs::remove_file(mnt.join("sub/x")).unwrap();
    fs::remove_dir(mnt.join("sub")).unwrap();
    done(disks, dir);
}

#[test]
fn truncation_is_lazy_until_fsync() {
    if !lazyfs_available("truncation_is_lazy_until_fsync") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    let path = mnt.join("f");
    let mut f = File::create(&path).unwrap();
    f.write_all(b"0123456789").unwrap();
    f.sync_all().unwrap();
    f.set_len(4).unwrap();
    assert_eq!(read(&path), b"0123");
    drop(f);
    control(&disks).lose_unfsynced();
    assert_eq!(read(&path), b"0123456789");
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(4).unwrap();
    f.sync_all().unwrap();
    drop(f);
    control(&disks).lose_unfsynced();
    assert_eq!(read(&backing.join("f")), b"0123");
    done(disks, dir);
}

#[test]
fn an_unlinked_open_file_stays_readable_and_is_forgotten() {
    if !lazyfs_available("an_unlinked_open_file_stays_readable_and_is_forgotten") {
        return;
    }
    let (disks, mnt, backing, dir) = mounted();
    let path = mnt.join("scratch");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    f.write_all(b"temporary").unwrap();
    fs::remove_file(&path).unwrap();
    assert!(!backing.join("scratch").exists());
    assert_eq!(f.metadata().unwrap().len(), 9);
    let mut back = String::new();
    std::io::Seek::rewind(&mut f).unwrap();
    f.read_to_string(&mut back).unwrap();
    assert_eq!(back, "temporary");
    drop(f);
    // Once the kernel releases the last descriptor (asynchronously, after close returns),
    // nothing of the deleted file is left to lose.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while control(&disks).unsynced() != (0, 0) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            control(&disks).unsynced()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    done(disks, dir);
}
