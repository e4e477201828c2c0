//! The parameters of the clock and link faults: a schedule's `[clock]` and `[link]` tables,
//! validated, with the defaults a schedule gets when it leaves them out.
//!
//! ```toml
//! [clock]
//! offset = "5s"            # clock-skew / clock-strobe / skew-isolate-leader jump by this much
//! strobe_every = "200ms"   # clock-strobe flips between true time and the offset this often
//! monotonic = true         # move CLOCK_MONOTONIC too (false: only the wall clock moves)
//!
//! [link]
//! delay = "100ms"          # delay: every chunk waits delay + uniform(0, jitter)
//! jitter = "50ms"
//! bytes_per_sec = 16384    # slow: bandwidth cap per directed link
//! reset_every = "500ms"    # flaky: mean time between resets of one connection
//! loss_percent = 20        # loss: share of packets dropped (netns)
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How clock faults move clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockParams {
    /// How far a clock jumps (the sign is drawn per fault, except skew-isolate-leader: back).
    pub offset: Duration,
    /// How often clock-strobe flips a clock between true time and the offset.
    pub strobe_every: Duration,
    /// Whether CLOCK_MONOTONIC moves too (libfaketime fakes it unless
    /// `FAKETIME_DONT_FAKE_MONOTONIC=1`). Timers and leases built on a monotonic clock only feel
    /// the fault when it does.
    pub monotonic: bool,
}

impl Default for ClockParams {
    fn default() -> Self {
        ClockParams {
            offset: Duration::from_secs(5),
            strobe_every: Duration::from_millis(200),
            monotonic: true,
        }
    }
}

/// How link faults degrade links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkParams {
    /// `delay`: fixed delay of every chunk.
    pub delay: Duration,
    /// `delay`: extra delay drawn uniformly from `[0, jitter]` (order kept per connection).
    pub jitter: Duration,
    /// `slow`: bandwidth cap of one directed link, bytes per second.
    pub bytes_per_sec: u64,
    /// `flaky`: mean time between resets of one connection (exponentially distributed).
    pub reset_every: Duration,
    /// `loss`: percentage of packets dropped (1..=100).
    pub loss_percent: u8,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(50),
            bytes_per_sec: 16 * 1024,
            reset_every: Duration::from_millis(500),
            loss_percent: 20,
        }
    }
}

/// The raw `[clock]` table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    strobe_every: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    monotonic: Option<bool>,
}

/// The raw `[link]` table.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jitter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes_per_sec: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reset_every: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loss_percent: Option<u8>,
}

/// A field error: (field, message).
type FieldError = (String, String);

fn dur(
    field: &str,
    v: &Option<String>,
    default: Duration,
    zero_ok: bool,
) -> Result<Duration, FieldError> {
    let Some(s) = v else { return Ok(default) };
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        (
            field.to_string(),
            format!("{s:?} is not a duration ({e}); write e.g. \"200ms\""),
        )
    })?;
    if d.is_zero() && !zero_ok {
        return Err((field.to_string(), "must be greater than zero".into()));
    }
    if d > Duration::from_secs(24 * 3600) {
        return Err((field.to_string(), format!("{s:?} is more than a day")));
    }
    Ok(d)
}

fn fmt(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl RawClock {
    /// Validate; errors name the field (`clock.offset`, ...).
    pub(super) fn resolve(&self) -> Result<ClockParams, FieldError> {
        let d = ClockParams::default();
        Ok(ClockParams {
            offset: dur("clock.offset", &self.offset, d.offset, false)?,
            strobe_every: dur(
                "clock.strobe_every",
                &self.strobe_every,
                d.strobe_every,
                false,
            )?,
            monotonic: self.monotonic.unwrap_or(d.monotonic),
        })
    }

    /// The table that resolves to `p`, or `None` for the defaults.
    pub(super) fn of(p: &ClockParams) -> Option<RawClock> {
        (*p != ClockParams::default()).then(|| RawClock {
            offset: Some(fmt(p.offset)),
            strobe_every: Some(fmt(p.strobe_every)),
            monotonic: Some(p.monotonic),
        })
    }
}

impl RawLink {
    /// Validate; errors name the field (`link.delay`, ...).
    pub(super) fn resolve(&self) -> Result<LinkParams, FieldError> {
        let d = LinkParams::default();
        let bytes_per_sec = self.bytes_per_sec.unwrap_or(d.bytes_per_sec);
        if bytes_per_sec == 0 {
            return Err(("link.bytes_per_sec".into(), "must be at least 1".into()));
        }
        let loss_percent = self.loss_percent.unwrap_or(d.loss_percent);
        if !(1..=100).contains(&loss_percent) {
            return Err((
                "link.loss_percent".into(),
                format!("must be between 1 and 100, got {loss_percent}"),
            ));
        }
        Ok(LinkParams {
            delay: dur("link.delay", &self.delay, d.delay, true)?,
            jitter: dur("link.jitter", &self.jitter, d.jitter, true)?,
            bytes_per_sec,
            reset_every: dur("link.reset_every", &self.reset_every, d.reset_every, false)?,
            loss_percent,
        })
    }

    /// The table that resolves to `p`, or `None` for the defaults.
    pub(super) fn of(p: &LinkParams) -> Option<RawLink> {
        (*p != LinkParams::default()).then(|| RawLink {
            delay: Some(fmt(p.delay)),
            jitter: Some(fmt(p.jitter)),
            bytes_per_sec: Some(p.bytes_per_sec),
            reset_every: Some(fmt(p.reset_every)),
            loss_percent: Some(p.loss_percent),
        })
    }
}
