use base64::Engine as _;
use honnin_core::individual_number::{
    check_digit, contains_in_json, contains_in_text, ensure_absent, ensure_absent_in_bytes,
    is_valid,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

/// A random valid individual number.
fn valid_number(rng: &mut StdRng) -> String {
    let first: Vec<u8> = (0..11).map(|_| rng.gen_range(0..10)).collect();
    let check = check_digit(&first).unwrap();
    first.iter().chain([&check]).map(|d| char::from(b'0' + d)).collect()
}

/// The same digits with the check digit changed: never valid.
fn invalid_number(valid: &str) -> String {
    let mut digits: Vec<u8> = valid.bytes().map(|b| b - b'0').collect();
    digits[11] = (digits[11] + 1) % 10;
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn grouped(n: &str, sep: &str) -> String {
    let c: Vec<char> = n.chars().collect();
    let part = |r: std::ops::Range<usize>| c[r].iter().collect::<String>();
    format!("{}{sep}{}{sep}{}", part(0..4), part(4..8), part(8..12))
}

fn full_width(n: &str) -> String {
    n.chars().map(|c| char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap()).collect()
}

#[test]
fn known_numbers_are_valid() {
    // Computed by hand from JPKI.md's rule (see the unit test for the worked sum).
    assert!(is_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 8]));
    assert!(!is_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]));
    // All zeros: r = 0 → check digit 0.
    assert!(is_valid(&[0; 12]));
}

#[test]
fn finds_numbers_in_every_common_form() {
    let mut rng = StdRng::seed_from_u64(4);
    for _ in 0..2_000 {
        let n = valid_number(&mut rng);
        let forms = [
            n.clone(),
            grouped(&n, " "),
            grouped(&n, "-"),
            grouped(&n, "\u{3000}"),
            grouped(&n, "\u{2212}"),
            full_width(&n),
            grouped(&full_width(&n), "\u{FF0D}"),
            format!("マイナンバーは{n}です"),
            format!("my number: {}.", grouped(&n, "-")),
            format!("({n})"),
            format!("\"{n}\""),
        ];
        for form in &forms {
            assert!(contains_in_text(form), "missed {form:?}");
        }
        let invalid = invalid_number(&n);
        assert!(!contains_in_text(&invalid), "check digit ignored: {invalid}");
        assert!(!contains_in_text(&grouped(&invalid, " ")));
    }
}

#[test]
fn finds_numbers_anywhere_in_json() {
    let n = "123456789018";
    let number: u64 = n.parse().unwrap();
    let bodies = [
        json!({ "challenge_id": "ch_x", "note": n }),
        json!({ "a": { "b": [1, 2, { "c": grouped(n, " ") }] } }),
        json!({ n: "value in the key" }),
        json!({ "numeric": number }),
        json!([[[[format!("text {n} text")]]]]),
    ];
    for body in &bodies {
        assert!(contains_in_json(body), "missed in {body}");
        let err = ensure_absent(body).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(n) && !shown.contains("1234"), "error leaks digits: {shown}");
        assert!(ensure_absent_in_bytes(body.to_string().as_bytes()).is_err());
    }
    assert!(
        ensure_absent(
            &json!({ "wallet": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "n": 12345678901u64 })
        )
        .is_ok()
    );
}

#[test]
fn digit_runs_inside_tokens_are_not_numbers() {
    let n = "123456789018";
    for s in [
        format!("0x{n}"),
        format!("ab{n}cd"),
        format!("{n}0"),
        format!("0{n}"),
        format!("+{n}/"),
        format!("{n}=="),
        format!("AbC-{n}"),
        format!("{n}-xYz"),
        format!("3.{n}"),
        format!("{n}.5"),
        format!("_{n}"),
        format!("ｘ{n}"),
    ] {
        assert!(!contains_in_text(&s), "false positive in {s:?}");
    }
}

/// The false-positive proof: many random hex signatures and base64 certificates, none of which
/// is taken for a number — while the same blob with a number appended after a space is caught.
#[test]
fn random_hex_and_base64_blobs_are_not_numbers() {
    let mut rng = StdRng::seed_from_u64(2026);
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut blobs = 0usize;
    let mut long_digit_runs = 0usize;
    for i in 0..20_000 {
        let len = rng.gen_range(20..700);
        let mut bytes = vec![0u8; len];
        rng.fill(bytes.as_mut_slice());
        let blob = match i % 5 {
            0 => hex::encode(&bytes),
            1 => format!("0x{}", hex::encode(&bytes)),
            2 => {
                // PEM-style: base64 wrapped at 64 columns.
                let b64 = engines[0].encode(&bytes);
                b64.as_bytes()
                    .chunks(64)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            k => engines[k - 2].encode(&bytes),
        };
        if blob.as_bytes().windows(12).any(|w| w.iter().all(u8::is_ascii_digit)) {
            long_digit_runs += 1;
        }
        assert!(!contains_in_text(&blob), "false positive in blob {i}");
        assert!(!contains_in_json(&json!({ "certificate": blob, "wallet_signature": blob })));
        let n = valid_number(&mut rng);
        assert!(contains_in_text(&format!("{blob} {n}")), "missed a number after blob {i}");
        blobs += 1;
    }
    assert_eq!(blobs, 20_000);
    // The test means something only if the blobs do contain 12-digit runs.
    assert!(long_digit_runs > 100, "only {long_digit_runs} blobs had a 12-digit run");
}
