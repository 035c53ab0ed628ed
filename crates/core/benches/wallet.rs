//! EIP-191 signer recovery, one core: libsecp256k1 (what `check_eoa` uses) against alloy's
//! pure-Rust `k256` recovery, in one run.
//!
//! ```text
//! cargo bench -p honnin-core --bench wallet
//! ```

#![allow(clippy::unwrap_used)]

use alloy_primitives::Signature;
use criterion::{Criterion, criterion_group, criterion_main};
use honnin_core::{Address, EoaCheck, WalletSignature, wallet::eip191_hash};
use k256::ecdsa::SigningKey;

fn recovery(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    let wallet = Address::from_private_key(&key);
    let message = "honnin.example asks you to attest this wallet.\nNonce: 1234";
    let hash = eip191_hash(message);
    let (sig, recid) = key.sign_prehash_recoverable(hash.as_slice()).unwrap();
    let sig = Signature::from_signature_and_parity(sig, recid.is_y_odd());
    let wallet_sig = WalletSignature::from_bytes(sig.as_bytes().to_vec()).unwrap();
    assert_eq!(wallet_sig.check_eoa(message, wallet), EoaCheck::Verified);

    let mut group = c.benchmark_group("eip191_recover");
    group.bench_function("libsecp256k1", |b| {
        b.iter(|| honnin_core::wallet::recover_prehash(&sig, &hash).unwrap());
    });
    group.bench_function("k256", |b| b.iter(|| sig.recover_address_from_prehash(&hash).unwrap()));
    group.bench_function("check_eoa", |b| b.iter(|| wallet_sig.check_eoa(message, wallet)));
    group.finish();
}

criterion_group!(benches, recovery);
criterion_main!(benches);
