//! Hand-written SVG and HTML helpers: escaping, number formatting, linear scales, axes and nemesis
//! bands. Everything that puts text from a history into markup goes through [`esc`].

use std::fmt::Write;

use super::calls::{band_color, Axis, Band};
pub(crate) use crate::report::escape::{esc, esc_short};

/// A number rendered compactly for coordinates (at most 1 decimal).
pub(crate) fn n(x: f64) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Linear map from a data range onto a pixel range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    /// Data minimum.
    pub d0: f64,
    /// Data maximum (> d0).
    pub d1: f64,
    /// Pixel at `d0`.
    pub p0: f64,
    /// Pixel at `d1`.
    pub p1: f64,
}

impl Scale {
    /// Map a data value to a pixel.
    pub(crate) fn at(&self, d: f64) -> f64 {
        let span = if self.d1 > self.d0 {
            self.d1 - self.d0
        } else {
            1.0
        };
        self.p0 + (d - self.d0) / span * (self.p1 - self.p0)
    }
}

/// "Nice" tick values covering `[lo, hi]`, about `count` of them.
pub(crate) fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 50 {
        out.push(t);
        t += step;
    }
    out
}

/// Tick label: integers without decimals, others with up to 3 significant decimals.
pub(crate) fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draw the x axis (ticks, grid lines from `top` to `bottom`, label) for a shared time axis.
pub(crate) fn x_axis(out: &mut String, axis: &Axis, sx: &Scale, top: f64, bottom: f64) {
    let _ = write!(out, r#"<g class="axis">"#);
    for t in ticks(axis.min, axis.max, 10) {
        let x = n(sx.at(t));
        let _ = write!(
            out,
            r#"<line x1="{x}" x2="{x}" y1="{}" y2="{}" class="grid"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            n(top),
            n(bottom),
            n(bottom + 14.0),
            tick_label(t)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="axis-label">{}</text></g>"#,
        n((sx.p0 + sx.p1) / 2.0),
        n(bottom + 30.0),
        axis.label()
    );
}

/// Draw nemesis bands as translucent rectangles spanning `top..bottom`, with tooltips.
pub(crate) fn bands(out: &mut String, bands: &[Band], sx: &Scale, top: f64, bottom: f64) {
    bands_as(out, bands, sx, top, bottom, "band");
}

/// The same bands at full strength in a thin lane of their own (`top`..`bottom`), labelled
/// "nemesis" at the left edge, so faults stay visible above dense plots that cover the backdrop.
pub(crate) fn band_lane(out: &mut String, bands: &[Band], sx: &Scale, top: f64, bottom: f64) {
    if bands.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end" class="row-label">nemesis</text>"#,
        n(sx.p0 - 6.0),
        n(bottom - 2.0)
    );
    bands_as(out, bands, sx, top, bottom, "band-lane");
}

fn bands_as(out: &mut String, bands: &[Band], sx: &Scale, top: f64, bottom: f64, class: &str) {
    if bands.is_empty() {
        return;
    }
    let _ = write!(out, r#"<g class="{class}s">"#);
    for b in bands {
        let x0 = sx.at(b.start);
        let w = (sx.at(b.end) - x0).max(1.5);
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="{class}"><title>nemesis {}: {}</title></rect>"#,
            n(x0),
            n(top),
            n(w),
            n(bottom - top),
            band_color(&b.kind),
            esc(&b.kind),
            esc_short(&b.label, 200)
        );
    }
    out.push_str("</g>");
}

/// A legend entry: coloured square and label.
pub(crate) fn legend_item(
    out: &mut String,
    x: f64,
    y: f64,
    color: &str,
    label: &str,
    opacity: f64,
) {
    let _ = write!(
        out,
        r##"<rect x="{}" y="{}" width="12" height="12" fill="{color}" fill-opacity="{opacity}" stroke="#555" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
        n(x),
        n(y),
        n(x + 16.0),
        n(y + 10.0),
        esc(label)
    );
}

/// Legend entries for the fault kinds present in `bands`; returns the x after the last entry.
pub(crate) fn band_legend(out: &mut String, bands: &[Band], mut x: f64, y: f64) -> f64 {
    let mut kinds: Vec<&str> = bands.iter().map(|b| b.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for k in kinds.into_iter().take(8) {
        legend_item(out, x, y, band_color(k), &format!("nemesis {k}"), 0.25);
        x += 30.0 + 7.0 * (k.len() as f64 + 8.0);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(n(12.34), "12.3");
    }
}
