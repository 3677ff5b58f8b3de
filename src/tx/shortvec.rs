//! compact-u16 ("short vec") lengths: 1 to 3 bytes, 7 bits per byte, little-endian,
//! high bit = more follows. Only minimal encodings of values 0..=65535 are accepted.

/// Why a compact-u16 could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompactU16Error {
    /// The input ended before the last byte of the value.
    Truncated,
    /// The value does not fit in 16 bits, or a continuation follows the third byte.
    Overflow,
    /// A longer encoding than needed (a last byte of zero after the first byte).
    NonMinimal,
}

/// Decodes a compact-u16 at the start of `bytes`; returns the value and the number of
/// bytes it took (1 to 3).
///
/// # Errors
/// [`CompactU16Error`] for truncated, overflowing or non-minimal encodings.
pub fn decode_compact_u16(bytes: &[u8]) -> Result<(u16, usize), CompactU16Error> {
    let mut value: u32 = 0;
    for i in 0..3 {
        let byte = *bytes.get(i).ok_or(CompactU16Error::Truncated)?;
        if i == 2 && byte > 0x03 {
            // bits above 2^16, or a continuation past the third byte
            return Err(CompactU16Error::Overflow);
        }
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(CompactU16Error::NonMinimal);
            }
            let value = u16::try_from(value).map_err(|_| CompactU16Error::Overflow)?;
            return Ok((value, i + 1));
        }
    }
    Err(CompactU16Error::Overflow)
}

/// Appends the minimal compact-u16 encoding of `value` to `out`.
pub fn encode_compact_u16(value: u16, out: &mut Vec<u8>) {
    let mut rest = value;
    loop {
        let low = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_value() {
        for v in 0..=u16::MAX {
            let mut buf = Vec::new();
            encode_compact_u16(v, &mut buf);
            assert_eq!(decode_compact_u16(&buf), Ok((v, buf.len())), "value {v}");
        }
    }

    #[test]
    fn rejects_bad_encodings() {
        use CompactU16Error::*;
        let table: &[(&[u8], CompactU16Error)] = &[
            (&[], Truncated),
            (&[0x80], Truncated),
            (&[0xff, 0xff], Truncated),
            (&[0x80, 0x00], NonMinimal),
            (&[0xff, 0x00], NonMinimal),
            (&[0x80, 0x80, 0x00], NonMinimal),
            (&[0xff, 0xff, 0x04], Overflow),
            (&[0xff, 0xff, 0x83], Overflow),
            (&[0x80, 0x80, 0x80, 0x01], Overflow),
        ];
        for (bytes, err) in table {
            assert_eq!(decode_compact_u16(bytes), Err(*err), "{bytes:02x?}");
        }
        assert_eq!(decode_compact_u16(&[0xff, 0xff, 0x03]), Ok((0xffff, 3)));
        assert_eq!(decode_compact_u16(&[0x7f, 0x99]), Ok((0x7f, 1)));
    }
}
