//! Base58 (Bitcoin alphabet), the text form of Solana keys and program ids.

/// The Bitcoin base58 alphabet Solana uses.
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// The base58 text of `bytes` (each leading zero byte is a leading `1`).
pub fn encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Base-58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &b in &bytes[zeros..] {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| char::from(ALPHABET[usize::from(d)])),
    );
    out
}

/// The bytes of base58 `text`, or `None` when a character is not in the alphabet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let zeros = text.bytes().take_while(|&c| c == b'1').count();
    // Bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes().skip(zeros) {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

/// The 32-byte key written as base58 `text`, or `None` when it is not one.
pub fn decode_pubkey(text: &str) -> Option<crate::Pubkey> {
    decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_round_trip() {
        for (text, first, last) in [
            ("11111111111111111111111111111111", 0x00, 0x00),
            ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", 0x06, 0xa9),
            ("So11111111111111111111111111111111111111112", 0x06, 0x01),
            ("1nc1nerator11111111111111111111111111111111", 0x00, 0x00),
        ] {
            let k = decode_pubkey(text).expect("a key");
            assert_eq!((k[0], k[31]), (first, last), "{text}");
            assert_eq!(encode(&k), text);
        }
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[0, 0, 1]), "112");
        assert_eq!(decode("112"), Some(vec![0, 0, 1]));
        assert_eq!(decode("0OIl"), None);
        assert_eq!(decode_pubkey("112"), None);
    }
}
