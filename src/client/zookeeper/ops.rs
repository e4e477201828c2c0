//! The three requests against one ZooKeeper session. Each step either answers definitely or
//! returns the ZooKeeper error with the step's name; the caller classifies errors
//! (`codec::meaning`). Steps that certainly had no effect (`NoNode`, `NodeExists`) lead to the
//! next step, so the loops below are bounded and never repeat a step that may have happened.

use serde_json::Value;
use zookeeper_client as zk;

use super::codec::{decode, encode, key_path};
use super::{ReadMode, ZkOptions};
use crate::client::Request;

/// A definite or unknown outcome reached without a ZooKeeper error.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// It happened; reads carry the value read.
    Ok(Value),
    /// It certainly did not happen (why).
    Fail(String),
    /// It may or may not have happened (why).
    Unknown(String),
}

/// A ZooKeeper error and the step that got it.
pub type StepError = (zk::Error, &'static str);

/// Most `setData`/`create` rounds of one write (each round ends definitely or returns).
const WRITE_ROUNDS: usize = 3;

/// Perform `req` on `session`.
pub async fn perform(
    session: &zk::Client,
    opts: &ZkOptions,
    req: &Request,
) -> Result<Done, StepError> {
    match req {
        Request::Read { key } => read(session, opts, &key_path(&opts.root, key)).await,
        Request::Write { key, value } => {
            write(session, opts, &key_path(&opts.root, key), value).await
        }
        Request::Cas { key, from, to } => {
            cas(session, opts, &key_path(&opts.root, key), from, to).await
        }
    }
}

async fn read(session: &zk::Client, opts: &ZkOptions, path: &str) -> Result<Done, StepError> {
    if opts.read == ReadMode::Sync {
        session.sync(path).await.map_err(|e| (e, "sync"))?;
    }
    match session.get_data(path).await {
        Ok((data, _)) => Ok(match decode(&data) {
            Ok(v) => Done::Ok(v),
            // The server answered, but with something we cannot read: constrain nothing.
            Err(why) => Done::Unknown(why),
        }),
        Err(zk::Error::NoNode) => Ok(Done::Ok(Value::Null)),
        Err(e) => Err((e, "getData")),
    }
}

async fn write(
    session: &zk::Client,
    opts: &ZkOptions,
    path: &str,
    value: &Value,
) -> Result<Done, StepError> {
    let data = encode(value);
    for _ in 0..WRITE_ROUNDS {
        match session.set_data(path, &data, None).await {
            Ok(_) => return Ok(Done::Ok(value.clone())),
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err((e, "setData")),
        }
        match create(session, opts, path, &data).await {
            Ok(()) => return Ok(Done::Ok(value.clone())),
            // Someone created it since our setData: set it in the next round.
            Err((zk::Error::NodeExists, _)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Done::Fail(format!(
        "{path} kept appearing and disappearing: {WRITE_ROUNDS} rounds of setData/create failed"
    )))
}

async fn cas(
    session: &zk::Client,
    opts: &ZkOptions,
    path: &str,
    from: &Value,
    to: &Value,
) -> Result<Done, StepError> {
    let (current, version) = match session.get_data(path).await {
        Ok((data, stat)) => match decode(&data) {
            Ok(v) => (v, Some(stat.version)),
            Err(why) => return Ok(Done::Fail(why)),
        },
        Err(zk::Error::NoNode) => (Value::Null, None),
        Err(e) => return Err((e, "getData")),
    };
    if &current != from {
        return Ok(Done::Fail(format!("value is {current}, not {from}")));
    }
    let data = encode(to);
    let result = match version {
        Some(v) => session
            .set_data(path, &data, Some(v))
            .await
            .map(drop)
            .map_err(|e| (e, "setData")),
        // From absent: create fails with NodeExists if someone else got there first.
        None => create(session, opts, path, &data).await,
    };
    match result {
        Ok(()) => Ok(Done::Ok(Value::Array(vec![from.clone(), to.clone()]))),
        Err((zk::Error::BadVersion, _)) => Ok(Done::Fail(
            "the znode changed since it was read (BadVersion)".into(),
        )),
        Err((zk::Error::NodeExists, _)) => {
            Ok(Done::Fail("the znode was created since it was read".into()))
        }
        Err(e) => Err(e),
    }
}

/// Create `path` with `data`, creating the test root first if it is missing.
async fn create(
    session: &zk::Client,
    opts: &ZkOptions,
    path: &str,
    data: &[u8],
) -> Result<(), StepError> {
    let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    match session.create(path, data, &options).await {
        Ok(_) => return Ok(()),
        Err(zk::Error::NoNode) => {}
        Err(e) => return Err((e, "create")),
    }
    // The root (and its parents) are empty znodes: creating them changes no key.
    match session.mkdir(&opts.root, &options).await {
        Ok(()) | Err(zk::Error::NodeExists) => {}
        Err(e) => return Err((e, "create root")),
    }
    session
        .create(path, data, &options)
        .await
        .map(drop)
        .map_err(|e| (e, "create"))
}
