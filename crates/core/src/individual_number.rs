//! Refusing the individual number (My Number).
//!
//! A private service may not collect the 12-digit individual number, so honnin refuses any
//! request that carries something that looks like one: 12 digits whose last digit is the valid
//! check digit (JPKI.md, "The individual number"), anywhere in a JSON body — object keys,
//! string values and numbers, at any depth.
//!
//! ## What counts as a number
//!
//! - 12 consecutive digits (`123456789018`), or three groups of four joined by one separator,
//!   the same both times: a space, a hyphen or a common Unicode dash, or an ideographic space
//!   (`1234 5678 9018`, `1234-5678-9018`).
//! - Full-width digits (`１２３４…`), as typed by Japanese input methods, count as digits.
//! - **Standalone only.** A digit run that is part of a longer token is not a number: the
//!   characters just before and after the match must not continue a token. Token characters are
//!   ASCII letters and digits, full-width letters and digits, and the base64 characters
//!   `+ / = _`; a `-` or `.` continues a token when the character beyond it is an ASCII letter
//!   or digit (base64url, decimals, `0x…-…` ids). That is what keeps hex signatures and
//!   base64 certificates — long runs of token characters — from matching, while `番号は
//!   123456789018です` and `"no": 123456789018` still do. The rate is proved by a test over
//!   many random hex and base64 blobs.
//!
//! ## Two rules, by place
//!
//! - **Binary-carrying text** (a request body as a whole, certificates and signatures in
//!   base64 or hex, wallet addresses): the *standalone* rule above ([`contains_in_text`]).
//!   Long runs of token characters carry random digit runs; refusing every one would refuse
//!   honest certificates.
//! - **Short text** (headers that are logged or echoed, such as a request id; short identifier
//!   fields such as a challenge's audience or a challenge id; object keys and JSON numbers):
//!   the *anywhere* rule ([`contains_in_short_text`]). Twelve digits with a valid check digit
//!   are refused wherever they sit (`user_123456789018`), whatever surrounds them, and
//!   whatever separates them: any run of characters that are neither digits nor letters
//!   (`-`, ` `, `.`, `_`, `/`, `:`, dashes, ideographic spaces, …) may sit between any two
//!   digits (`1234-5678-9018`, `12 3456.7890/18`). ASCII and full-width digits count; letters
//!   (any script) end a run, so hex ids do not pool their scattered digits into one. Decoding
//!   JSON escapes (`\u0031`) is the caller's part: scan the parsed string.
//!
//! The error, [`IndividualNumberForbidden`], carries nothing: not the digits, not where they
//! were, so it can be logged and returned as is.

use serde_json::Value;

/// A request body carried something that looks like an individual number. Deliberately
/// empty: it must never carry the digits, or where they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the request carries what looks like an individual number (My Number); honnin never accepts one"
)]
pub struct IndividualNumberForbidden;

/// Refuses a JSON value carrying an individual number in any key, string or number.
pub fn ensure_absent(value: &Value) -> Result<(), IndividualNumberForbidden> {
    if contains_in_json(value) { Err(IndividualNumberForbidden) } else { Ok(()) }
}

/// Refuses raw request bytes carrying an individual number: for bodies that are not JSON
/// (or not yet parsed). Invalid UTF-8 is scanned lossily.
pub fn ensure_absent_in_bytes(body: &[u8]) -> Result<(), IndividualNumberForbidden> {
    if contains_in_text(&String::from_utf8_lossy(body)) {
        Err(IndividualNumberForbidden)
    } else {
        Ok(())
    }
}

/// Refuses short text carrying an individual number anywhere (the *anywhere* rule of the
/// [module docs](self)): for logged headers and short identifier fields.
pub fn ensure_absent_in_short_text(text: &str) -> Result<(), IndividualNumberForbidden> {
    if contains_in_short_text(text) { Err(IndividualNumberForbidden) } else { Ok(()) }
}

/// Whether `text` carries twelve digits with a valid check digit anywhere, with any
/// separators (characters that are neither digits nor letters) between them (see the
/// [module docs](self)). For short text only: long base64 or hex blobs would match by chance.
pub fn contains_in_short_text(text: &str) -> bool {
    // The last twelve digits of the current run (digits joined by separators), and its length.
    let mut window = [0u8; 12];
    let mut run = 0usize;
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            window.rotate_left(1);
            window[11] = d;
            run += 1;
            if run >= 12 && is_valid(&window) {
                return true;
            }
        } else if c.is_alphabetic() {
            run = 0;
        }
    }
    false
}

/// Whether any key, string or number in `value`, at any depth, carries an individual number.
pub fn contains_in_json(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => false,
        Value::Number(n) => contains_in_text(&n.to_string()),
        Value::String(s) => contains_in_text(s),
        Value::Array(items) => items.iter().any(contains_in_json),
        Value::Object(map) => {
            map.iter().any(|(key, value)| contains_in_text(key) || contains_in_json(value))
        }
    }
}

/// Whether `text` carries a standalone individual number (see the [module docs](self)).
pub fn contains_in_text(text: &str) -> bool {
    // Request bodies are ASCII almost always (base64, hex, JSON): scan their bytes as they are.
    if text.is_ascii() { scan(text.as_bytes()) } else { scan(&text.chars().collect::<Vec<char>>()) }
}

/// [`contains_in_text`] over the text's characters (bytes when it is ASCII).
fn scan<C: Copy + Into<char>>(chars: &[C]) -> bool {
    // Quick exit: fewer than 12 digits in all cannot hold a number.
    if chars.iter().filter(|&&c| digit_value(c.into()).is_some()).nth(11).is_none() {
        return false;
    }
    // A match starts on a digit that does not continue a token (checked first: inside base64
    // and hex, which is most of a request, almost every position fails there at once).
    (0..chars.len()).any(|start| {
        digit_value(chars[start].into()).is_some()
            && !continues_left(chars, start)
            && match_at(chars, start)
                .is_some_and(|(end, digits)| is_valid(&digits) && !continues_right(chars, end))
    })
}

/// Whether 12 digits form a valid individual number: the last digit is the check digit of
/// the first eleven.
pub fn is_valid(digits: &[u8; 12]) -> bool {
    digits.iter().all(|&d| d <= 9) && check_digit(&digits[..11]) == Some(digits[11])
}

/// The check digit of the first eleven digits (JPKI.md): number them P1..P11 from the right,
/// weights Qn = n + 1 for n ≤ 6 and n − 5 for n ≥ 7; r = Σ Pn·Qn mod 11; 0 when r ≤ 1, else
/// 11 − r. `None` unless given exactly eleven digits 0–9.
pub fn check_digit(first_eleven: &[u8]) -> Option<u8> {
    if first_eleven.len() != 11 || first_eleven.iter().any(|&d| d > 9) {
        return None;
    }
    let sum: u32 = first_eleven
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(p) * q
        })
        .sum();
    let r = sum % 11;
    Some(if r <= 1 { 0 } else { (11 - r) as u8 })
}

/// The value of an ASCII or full-width digit.
fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{FF10}'..='\u{FF19}' => Some((c as u32 - 0xFF10) as u8),
        _ => None,
    }
}

/// Separators allowed between the groups of `1234 5678 9012`.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '\u{3000}' | '\u{FF0D}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}'
    )
}

/// Characters that always continue a token.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '+' | '/' | '=' | '_')
        || matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
}

/// Characters that continue a token when an ASCII letter or digit lies beyond them.
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '.')
}

fn continues_left<C: Copy + Into<char>>(chars: &[C], start: usize) -> bool {
    let at = |i: usize| chars.get(i).map(|&c| c.into());
    let Some(before) = start.checked_sub(1).and_then(at) else {
        return false;
    };
    is_token_char(before)
        || (is_joiner(before)
            && start.checked_sub(2).and_then(at).is_some_and(|c| c.is_ascii_alphanumeric()))
}

fn continues_right<C: Copy + Into<char>>(chars: &[C], end: usize) -> bool {
    let at = |i: usize| chars.get(i).map(|&c| c.into());
    let Some(after) = at(end) else {
        return false;
    };
    is_token_char(after)
        || (is_joiner(after) && at(end + 1).is_some_and(|c| c.is_ascii_alphanumeric()))
}

/// Matches 12 digits, plain or as 4-4-4 groups with one repeated separator, at `start`.
/// Returns the end index (exclusive) and the digits.
fn match_at<C: Copy + Into<char>>(chars: &[C], start: usize) -> Option<(usize, [u8; 12])> {
    let at = |i: usize| chars.get(i).map(|&c| c.into());
    let mut digits = [0u8; 12];
    let mut i = start;
    let mut separator: Option<char> = None;
    for (k, slot) in digits.iter_mut().enumerate() {
        if k == 4 || k == 8 {
            let c = at(i)?;
            if digit_value(c).is_none() {
                if !is_separator(c)
                    || separator.is_some_and(|s| s != c)
                    || (k == 8 && separator.is_none())
                {
                    return None;
                }
                separator = Some(c);
                i += 1;
            } else if k == 8 && separator.is_some() {
                return None;
            }
        }
        *slot = digit_value(at(i)?)?;
        i += 1;
    }
    Some((i, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_matches_the_published_rule() {
        // Worked example: 12345678901 → Σ Pn·Qn = 212, r = 212 mod 11 = 3 → check digit 11 − 3 = 8.
        let first: Vec<u8> = "12345678901".bytes().map(|b| b - b'0').collect();
        assert_eq!(check_digit(&first), Some(8));
        assert_eq!(check_digit(&first[..10]), None);
    }

    #[test]
    fn short_text_refuses_a_number_wherever_it_sits() {
        for text in [
            "user_123456789018",
            "app.example/user/123456789018",
            "x123456789018y",
            "1234-5678-9018",
            "12 3456.7890/18",
            "1-2-3-4-5-6-7-8-9-0-1-8",
            "id:\u{FF11}\u{FF12}\u{FF13}\u{FF14}5678\u{3000}9018",
            "991234567890189",
            "123456789018.0",
            "1.23456789018e11",
        ] {
            assert!(contains_in_short_text(text), "{text}");
        }
        for text in [
            "user_123456789019",
            "12345678901",
            "1234a5678-9018",
            "abc-123_X.y",
            "ch_0123456789abcdef0123456789abcdef",
        ] {
            assert!(!contains_in_short_text(text), "{text}");
        }
        assert!(!contains_in_text("user_123456789018"), "the standalone rule differs");
    }

    #[test]
    fn issued_ids_never_look_like_a_number() {
        // About 1 in 150 random 128-bit ids would (ids are drawn again): 3,000 draws would
        // meet some twenty of them.
        for _ in 0..3_000 {
            let id = crate::ChallengeId::random().to_string();
            assert!(!contains_in_short_text(&id), "{id}");
            let id = crate::AttestationId::random().to_string();
            assert!(!contains_in_short_text(&id), "{id}");
        }
    }

    #[test]
    fn groups_must_use_one_separator() {
        assert!(contains_in_text("1234 5678 9018"));
        assert!(!contains_in_text("1234 5678-9018"));
        assert!(!contains_in_text("1234 56789018"));
        assert!(!contains_in_text("12345678 9018"));
    }
}
