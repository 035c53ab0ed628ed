//! One full card verification (chain + card signature + revocation lookup), single-threaded,
//! with honnin (aws-lc-rs backend) against the same work done with the plain `rsa` crate, plus
//! one bare signature verification per backend (aws-lc-rs, ring, rsa / p256 / p384 crates) that
//! chose the backend.
//!
//! Every group runs twice: with criterion's wall-clock time (`wall/…`) and with the benchmark
//! thread's CPU time (`cpu/…`). On a shared machine other processes stretch wall time but not
//! the CPU time a verification consumes, so `cpu/…` is the figure for "verifications per second
//! on one core".
//!
//! Run: `cargo bench -p honnin-jpki --all-features --bench verify`.

use std::{hint::black_box, sync::Arc};

use criterion::{
    Criterion, Throughput, criterion_group, criterion_main,
    measurement::{Measurement, ValueFormatter, WallTime},
};
use der::{Decode, Encode};
use honnin_jpki::{
    Crl, CrlSource, Policy, RevocationReason, Verifier, check_revocation,
    test_utils::{CardKeyKind, CardSpec, CrlEntry, CrlSpec, SimRoot},
};
use rsa::{
    RsaPublicKey,
    pkcs1v15::{Signature, VerifyingKey},
    pkcs8::DecodePublicKey,
    signature::Verifier as _,
};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;

const MESSAGE: &[u8] = b"honnin.example wants you to prove you hold your card. Nonce: 5c1f0a...";

/// Criterion measurement: CPU time of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = cpu_time::ThreadTime;
    type Value = std::time::Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }

    fn end(&self, started: Self::Intermediate) -> Self::Value {
        started.elapsed()
    }

    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }

    fn zero(&self) -> Self::Value {
        std::time::Duration::ZERO
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like wall time: reuse its formatting.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn bench_wall(c: &mut Criterion) {
    bench(c, "wall");
}

fn bench_cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench(c, "cpu");
}

fn bench<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let root = SimRoot::new(0);
    let card = root.issue(&CardSpec::default());
    let signature = card.sign(MESSAGE);
    let anchors = Arc::new(root.anchors());
    let verifier = Verifier::new(anchors.clone(), Policy::default());
    let now = OffsetDateTime::now_utc();

    // A CRL with 10 000 revoked certificates (not ours): the lookup is a hash probe.
    let entries = (0u32..10_000)
        .map(|i| CrlEntry {
            serial: [&[0x7f][..], &i.to_be_bytes()].concat(),
            reason: Some(RevocationReason::Superseded),
            time: now - Duration::days(1),
        })
        .collect();
    let crl = Crl::from_der(&root.crl(&CrlSpec { entries, ..CrlSpec::default() }), &anchors)
        .expect("crl");
    let source = CrlSource::from_crls(anchors.clone(), [crl]);
    let runtime =
        tokio::runtime::Builder::new_current_thread().build().expect("current-thread runtime");

    // The same full check with the rsa crate: decode, verify chain and card signatures, look up.
    let root_cert = Certificate::from_der(root.der()).expect("root");
    let root_key = RsaPublicKey::from_public_key_der(
        &root_cert.tbs_certificate.subject_public_key_info.to_der().expect("spki"),
    )
    .expect("root key");
    let root_verifier = VerifyingKey::<Sha256>::new(root_key);

    let mut group = c.benchmark_group(format!("{clock}/full_verification"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("honnin_rsa2048", |b| {
        b.iter(|| {
            let card = verifier
                .verify_card(black_box(card.der()), MESSAGE, black_box(&signature), now)
                .expect("accepted");
            runtime.block_on(check_revocation(&card, &source, now, false)).expect("good")
        })
    });
    group.bench_function("rsa_crate_rsa2048", |b| {
        b.iter(|| {
            let der = black_box(card.der());
            let cert = Certificate::from_der(der).expect("cert");
            let tbs = cert.tbs_certificate.to_der().expect("tbs");
            let chain_sig = Signature::try_from(cert.signature.raw_bytes()).expect("sig");
            root_verifier.verify(&tbs, &chain_sig).expect("chain");
            let leaf_key = RsaPublicKey::from_public_key_der(
                &cert.tbs_certificate.subject_public_key_info.to_der().expect("spki"),
            )
            .expect("leaf key");
            let card_sig = Signature::try_from(black_box(&signature[..])).expect("sig");
            VerifyingKey::<Sha256>::new(leaf_key).verify(MESSAGE, &card_sig).expect("card");
            let crl = runtime.block_on(honnin_jpki::RevocationSource::status(
                &source,
                &root.cert_ref(cert.tbs_certificate.serial_number.as_bytes()),
                now,
            ));
            crl.expect("good")
        })
    });
    for (name, key) in [("honnin_p256", CardKeyKind::P256), ("honnin_p384", CardKeyKind::P384)] {
        let card = root.issue(&CardSpec { key, ..CardSpec::default() });
        let signature = card.sign(MESSAGE);
        group.bench_function(name, |b| {
            b.iter(|| {
                let card = verifier
                    .verify_card(black_box(card.der()), MESSAGE, black_box(&signature), now)
                    .expect("accepted");
                runtime.block_on(check_revocation(&card, &source, now, false)).expect("good")
            })
        });
    }
    group.finish();

    // Where the time of a full verification goes, apart from the two signatures.
    let mut group = c.benchmark_group(format!("{clock}/parts"));
    group.bench_function("decode_certificate", |b| {
        b.iter(|| Certificate::from_der(black_box(card.der())).expect("cert"))
    });
    group.bench_function("verify_card_without_revocation", |b| {
        b.iter(|| {
            verifier
                .verify_card(black_box(card.der()), MESSAGE, black_box(&signature), now)
                .expect("accepted")
        })
    });
    let verified = verifier.verify_card(card.der(), MESSAGE, &signature, now).expect("accepted");
    group.bench_function("crl_revocation_check", |b| {
        b.iter(|| runtime.block_on(check_revocation(black_box(&verified), &source, now, false)))
    });
    group.finish();

    // One RSA-2048 PKCS#1 v1.5 SHA-256 verification, each backend. `aws_lc_rs` parses the key
    // on every call (as honnin does for the card key); `aws_lc_rs_parsed` reuses a parsed key
    // (as honnin does for a root key).
    let leaf_cert = Certificate::from_der(card.der()).expect("cert");
    let spki = &leaf_cert.tbs_certificate.subject_public_key_info;
    let key_bytes = spki.subject_public_key.raw_bytes().to_vec();
    let ring_key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &key_bytes,
    );
    let lc_key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &key_bytes,
    );
    let lc_parsed = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &key_bytes,
    )
    .expect("parsed key");
    let rsa_key = VerifyingKey::<Sha256>::new(
        RsaPublicKey::from_public_key_der(&spki.to_der().expect("spki")).expect("key"),
    );
    let rsa_sig = Signature::try_from(&signature[..]).expect("sig");
    let mut group = c.benchmark_group(format!("{clock}/one_rsa2048_verify"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("aws_lc_rs", |b| {
        b.iter(|| lc_key.verify(black_box(MESSAGE), black_box(&signature)).expect("ok"))
    });
    group.bench_function("aws_lc_rs_parsed", |b| {
        b.iter(|| lc_parsed.verify_sig(black_box(MESSAGE), black_box(&signature)).expect("ok"))
    });
    group.bench_function("ring", |b| {
        b.iter(|| ring_key.verify(black_box(MESSAGE), black_box(&signature)).expect("ok"))
    });
    group.bench_function("rsa_crate", |b| {
        b.iter(|| rsa_key.verify(black_box(MESSAGE), black_box(&rsa_sig)).expect("ok"))
    });
    group.finish();

    // One ECDSA verification (card key parsed on every call, as honnin does), each backend.
    for (curve, key, lc_alg, ring_alg) in [
        (
            "p256",
            CardKeyKind::P256,
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            &ring::signature::ECDSA_P256_SHA256_ASN1,
        ),
        (
            "p384",
            CardKeyKind::P384,
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1,
            &ring::signature::ECDSA_P384_SHA384_ASN1,
        ),
    ] {
        let card = root.issue(&CardSpec { key, ..CardSpec::default() });
        let signature = card.sign(MESSAGE);
        let cert = Certificate::from_der(card.der()).expect("cert");
        let point = cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
        let mut group = c.benchmark_group(format!("{clock}/one_{curve}_verify"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("aws_lc_rs", |b| {
            b.iter(|| {
                aws_lc_rs::signature::UnparsedPublicKey::new(lc_alg, black_box(point))
                    .verify(black_box(MESSAGE), black_box(&signature))
                    .expect("ok")
            })
        });
        group.bench_function("ring", |b| {
            b.iter(|| {
                ring::signature::UnparsedPublicKey::new(ring_alg, black_box(point))
                    .verify(black_box(MESSAGE), black_box(&signature))
                    .expect("ok")
            })
        });
        group.finish();
    }
}

criterion_group!(wall, bench_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_cpu
}
criterion_main!(wall, cpu);
