//! The renewal link feed: format, errors that name the line and never echo it.

use honnin_core::{Pepper, ScopeName};
use honnin_lifecycle::{Error, LinkOrigin, parse_links};

fn pepper() -> Pepper {
    Pepper::from_bytes(vec![9; 32]).unwrap()
}

#[test]
fn lines_hash_like_the_api_with_leading_zeros_and_0x_ignored() {
    let pepper = pepper();
    let feed = b"{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"0x00abcd\", \"new_serial\": \"1234\"}\n\
\n\
{\"issuer_key_id\": \"1AC1\", \"old_serial\": \"abc\", \"new_serial\": \"99\", \"new_issuer_key_id\": \"8cd5\"}\n";
    let links = parse_links(feed, "feed", &pepper, &[]).unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].old, pepper.cert_hash(&[0x1a, 0xc1], &[0xab, 0xcd]));
    assert_eq!(links[0].new, pepper.cert_hash(&[0x1a, 0xc1], &[0x12, 0x34]));
    // An odd digit count reads with a leading zero; the new certificate's own root.
    assert_eq!(links[1].old, pepper.cert_hash(&[0x1a, 0xc1], &[0x0a, 0xbc]));
    assert_eq!(links[1].new, pepper.cert_hash(&[0x8c, 0xd5], &[0x99]));
}

#[test]
fn each_line_links_the_certificate_globally_and_in_every_scope() {
    let pepper = pepper();
    let scopes = [ScopeName::new("dapp-a").unwrap().id(), ScopeName::new("dapp-b").unwrap().id()];
    let feed =
        b"{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"0abc\", \"new_serial\": \"1234\"}\n";
    let links = parse_links(feed, "feed", &pepper, &scopes).unwrap();
    assert_eq!(links.len(), 3);
    let (key, old, new) = ([0x1a, 0xc1], [0x0a, 0xbc], [0x12, 0x34]);
    assert_eq!(links[0].old, pepper.cert_hash(&key, &old));
    for (link, scope) in links[1..].iter().zip(&scopes) {
        assert_eq!(link.old, pepper.cert_hash_in(Some(scope), &key, &old));
        assert_eq!(link.new, pepper.cert_hash_in(Some(scope), &key, &new));
        assert_ne!(link.old, links[0].old);
    }
    assert_ne!(links[1].new, links[2].new);
}

#[test]
fn a_malformed_line_is_named_by_number_and_never_echoed() {
    let pepper = pepper();
    let good = "{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"01\", \"new_serial\": \"02\"}";
    for (bad, reason) in [
        (
            "{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"SECRETSERIAL\", \"new_serial\": \"02\"}",
            "old_serial is not hex",
        ),
        ("{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"01\"}", "expected an object"),
        (
            "{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"01\", \"new_serial\": \"02\", \"SECRETSERIAL\": 1}",
            "expected an object",
        ),
        ("SECRETSERIAL,01,02", "not a JSON object"),
        (
            "{\"issuer_key_id\": \"1ac1\", \"old_serial\": 123, \"new_serial\": \"02\"}",
            "expected an object",
        ),
        (
            "{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"01\", \"new_serial\": \"0x\"}",
            "new_serial is not hex",
        ),
        (
            "{\"issuer_key_id\": \"1ac1\", \"old_serial\": \"01\", \"new_serial\": \"0001\"}",
            "the same",
        ),
    ] {
        let feed = format!("{good}\n\n{bad}\n{good}\n");
        let error =
            parse_links(feed.as_bytes(), "/var/lib/honnin/links.jsonl", &pepper, &[]).unwrap_err();
        assert!(matches!(error, Error::MalformedLink { line: 3, .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("line 3") && message.contains("links.jsonl"), "{message}");
        assert!(message.contains(reason), "{message}");
        assert!(!message.contains("SECRET") && !message.contains("123"), "{message}");
    }
}

#[test]
fn feed_urls_must_be_https_except_to_loopback() {
    assert!(matches!(LinkOrigin::parse("https://operator.example/links"), Ok(LinkOrigin::Url(_))));
    assert!(matches!(LinkOrigin::parse("http://127.0.0.1:8000/links"), Ok(LinkOrigin::Url(_))));
    assert!(matches!(LinkOrigin::parse("http://localhost/links"), Ok(LinkOrigin::Url(_))));
    assert!(matches!(LinkOrigin::parse("http://[::1]:9/links"), Ok(LinkOrigin::Url(_))));
    assert!(matches!(LinkOrigin::parse("/var/lib/links.jsonl"), Ok(LinkOrigin::File(_))));
    for insecure in [
        "http://operator.example/links",
        "http://127.0.0.1.evil.example/links",
        "http://localhost@evil.example/",
    ] {
        assert!(
            matches!(LinkOrigin::parse(insecure), Err(Error::InsecureLinkFeed { .. })),
            "{insecure}"
        );
    }
}
