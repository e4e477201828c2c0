//! The checksummed framing of the storage files and how damage to it is judged on recovery.
//!
//! A frame is a `u32` little-endian payload length, the `u32` CRC32 of the payload, then the
//! payload: one JSON object (so it starts with `{"` and never holds a zero byte). A file is a
//! sequence of frames.
//!
//! What a crash can do to a file that is only appended to and fsynced before anything is
//! acknowledged: tear its tail (a short last frame, a last frame whose checksum fails, zeros where
//! the size was extended but the data never landed), or leave *holes*: runs of zeros inside the
//! last unsynced write, with later parts of that same write intact (LazyFS calls these torn
//! writes). Neither loses anything acknowledged. Anything else is corruption. So at the first bad
//! frame, at offset `o`, [`scan`] looks for the next offset `q` where a valid frame starts:
//!
//! - none: the damage runs to the end of the file, a torn tail: cut at `o`;
//! - `[o, q)` holds a run of [`HOLE`] or more zero bytes (no valid frame does: a header has at
//!   most 7 zeros in a row and a JSON payload none): a hole left by a write that never reached the
//!   disk, so everything from `o` on belongs to that unsynced write: cut at `o`;
//! - otherwise a valid frame follows damaged bytes: corruption before the last record. Refuse to
//!   start, naming the byte offset, as etcd's WAL does (`ErrCRCMismatch`; its `isTornEntry`
//!   is the hole rule above).

/// Bytes before the payload: length and checksum.
pub(super) const HEADER: usize = 8;
/// A run of this many zero bytes cannot occur in a valid frame; it marks a hole.
pub(super) const HOLE: usize = 8;

/// Append one frame holding `payload` to `out`.
pub(super) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A frame read back: where it starts and its decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Framed<T> {
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// The decoded payload.
    pub value: T,
}

/// How a file ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum End {
    /// Every byte belongs to a valid frame.
    Clean,
    /// A crash tore the tail at `offset`: the bytes from there on may be cut.
    Torn {
        /// Where the damage starts.
        offset: u64,
        /// What it looks like.
        reason: &'static str,
    },
    /// Damaged bytes at `offset` with a valid frame after them: the file cannot be trusted.
    Corrupt {
        /// Where the damage starts.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The valid frames of `buf`, decoded, in order, and how it ends. `decode` turns a checksummed
/// payload into a value (a frame whose payload does not decode is damaged too).
pub(super) fn scan<T>(buf: &[u8], decode: impl Fn(&[u8]) -> Option<T>) -> (Vec<Framed<T>>, End) {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match frame_at(buf, pos, &decode) {
            Ok((value, len)) => {
                frames.push(Framed {
                    offset: pos as u64,
                    value,
                });
                pos += HEADER + len;
            }
            Err(why) => return (frames, judge(buf, pos, why, &decode)),
        }
    }
    (frames, End::Clean)
}

/// The decoded payload of a valid frame at `pos` and its length, or why there is none.
fn frame_at<T>(
    buf: &[u8],
    pos: usize,
    decode: &impl Fn(&[u8]) -> Option<T>,
) -> Result<(T, usize), &'static str> {
    let header = buf.get(pos..pos + HEADER).ok_or("short record header")?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let payload = buf
        .get(pos + HEADER..pos + HEADER + len)
        .ok_or("record runs past the end of the file")?;
    if !payload.starts_with(b"{\"") {
        return Err("record does not hold a JSON object");
    }
    if crc32fast::hash(payload) != crc {
        return Err("checksum mismatch");
    }
    let value = decode(payload).ok_or("checksum matches but the record does not decode")?;
    Ok((value, len))
}

/// Classify the damage that starts at `pos` (see the module doc).
fn judge<T>(
    buf: &[u8],
    pos: usize,
    why: &'static str,
    decode: &impl Fn(&[u8]) -> Option<T>,
) -> End {
    let offset = pos as u64;
    let next = (pos + 1..buf.len()).find(|&q| frame_at(buf, q, decode).is_ok());
    let Some(next) = next else {
        return End::Torn {
            offset,
            reason: why,
        };
    };
    if has_hole(&buf[pos..next]) {
        return End::Torn {
            offset,
            reason: "zeroed bytes: a write that never reached the disk",
        };
    }
    End::Corrupt {
        offset,
        reason: why,
    }
}

fn has_hole(bytes: &[u8]) -> bool {
    let mut run = 0;
    for &b in bytes {
        run = if b == 0 { run + 1 } else { 0 };
        if run >= HOLE {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload(i: usize) -> Vec<u8> {
        format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 7)).into_bytes()
    }

    fn file(n: usize) -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut offsets = Vec::new();
        for i in 0..n {
            offsets.push(buf.len());
            frame(&payload(i), &mut buf);
        }
        (buf, offsets)
    }

    fn json(p: &[u8]) -> Option<serde_json::Value> {
        serde_json::from_slice(p).ok()
    }

    #[test]
    fn a_clean_file_reads_back_every_frame() {
        let (buf, offsets) = file(4);
        let (frames, end) = scan(&buf, json);
        assert_eq!(end, End::Clean);
        let got: Vec<u64> = frames.iter().map(|f| f.offset).collect();
        let want: Vec<u64> = offsets.iter().map(|&o| o as u64).collect();
        assert_eq!(got, want);
        assert_eq!(frames[2].value, json(&payload(2)).expect("json"));
    }

    #[test]
    fn a_short_or_checksum_bad_last_record_is_a_torn_tail() {
        let (buf, offsets) = file(4);
        let last = offsets[3] as u64;
        let short = &buf[..buf.len() - 3];
        assert!(matches!(scan(short, json).1, End::Torn { offset, .. } if offset == last));
        let mut flipped = buf.clone();
        let n = flipped.len();
        flipped[n - 2] ^= 0x40;
        let (frames, end) = scan(&flipped, json);
        assert_eq!(frames.len(), 3);
        assert!(matches!(end, End::Torn { offset, .. } if offset == last));
        let header_only = &buf[..offsets[3] + 5];
        assert!(matches!(scan(header_only, json).1, End::Torn { offset, .. } if offset == last));
    }

    #[test]
    fn zeros_after_the_last_record_are_a_torn_tail() {
        let (mut buf, _) = file(3);
        let end = buf.len() as u64;
        buf.extend_from_slice(&[0; 4096]);
        let (frames, end_kind) = scan(&buf, json);
        assert_eq!(frames.len(), 3);
        assert!(matches!(end_kind, End::Torn { offset, .. } if offset == end));
    }

    #[test]
    fn a_hole_inside_the_last_write_cuts_there_even_if_later_records_landed() {
        let (mut buf, offsets) = file(6);
        // The write of records 3..6 lost a stretch spanning the end of record 3 and record 4.
        let (from, to) = (offsets[3] + 12, offsets[5] - 2);
        buf[from..to].fill(0);
        let (frames, end) = scan(&buf, json);
        assert_eq!(frames.len(), 3);
        assert!(matches!(end, End::Torn { offset, .. } if offset == offsets[3] as u64));
    }

    #[test]
    fn a_damaged_record_before_the_last_is_corruption_at_its_offset() {
        let (buf, offsets) = file(5);
        for (at, what) in [
            (offsets[1] + HEADER + 3, "payload"),
            (offsets[1] + 1, "length"),
            (offsets[1] + 5, "checksum"),
        ] {
            let mut bad = buf.clone();
            bad[at] ^= 0x21;
            let (frames, end) = scan(&bad, json);
            assert_eq!(frames.len(), 1, "{what}");
            assert_eq!(
                end,
                End::Corrupt {
                    offset: offsets[1] as u64,
                    reason: match what {
                        "length" => "record runs past the end of the file",
                        _ => "checksum mismatch",
                    }
                },
                "{what}"
            );
        }
    }

    #[test]
    fn a_checksummed_record_that_does_not_decode_is_damage() {
        let mut buf = Vec::new();
        frame(b"{\"n\":1}", &mut buf);
        frame(b"{\"not json", &mut buf);
        frame(b"{\"n\":3}", &mut buf);
        let (frames, end) = scan(&buf, json);
        assert_eq!(frames.len(), 1);
        assert!(matches!(end, End::Corrupt { offset: 15, .. }), "{end:?}");
    }

    proptest! {
        /// Any single damaged byte (never turned into zero) in a record before the last one is
        /// reported as corruption at that record; in the last record it is a torn tail there.
        #[test]
        fn one_damaged_byte_is_corruption_unless_in_the_last_record(
            n in 2usize..8,
            pick in any::<prop::sample::Index>(),
            mask in 1u8..=255,
        ) {
            let (buf, offsets) = file(n);
            let at = pick.index(buf.len());
            prop_assume!(buf[at] ^ mask != 0);
            let mut bad = buf.clone();
            bad[at] ^= mask;
            let rec = offsets.iter().rposition(|&o| o <= at).unwrap_or(0);
            let (frames, end) = scan(&bad, json);
            prop_assert_eq!(frames.len(), rec);
            let offset = offsets[rec] as u64;
            if rec + 1 < n {
                prop_assert!(matches!(end, End::Corrupt { offset: o, .. } if o == offset), "{:?}", end);
            } else {
                prop_assert!(matches!(end, End::Torn { offset: o, .. } if o == offset), "{:?}", end);
            }
        }
    }
}
