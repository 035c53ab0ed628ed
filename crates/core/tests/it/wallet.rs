use alloy_primitives::Signature;
use honnin_core::{Address, EoaCheck, WalletSignature, wallet::eip191_hash};
use k256::ecdsa::SigningKey;

/// Signs like `personal_sign`: ECDSA over the EIP-191 hash, 65 bytes r ‖ s ‖ v (27/28).
#[track_caller]
fn personal_sign(key: &SigningKey, message: &str) -> WalletSignature {
    let (sig, recid) = key.sign_prehash_recoverable(eip191_hash(message).as_slice()).unwrap();
    let sig = Signature::from_signature_and_parity(sig, recid.is_y_odd());
    WalletSignature::from_bytes(sig.as_bytes().to_vec()).unwrap()
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

#[test]
fn eoa_signature_recovers_to_its_wallet() {
    let key = key(7);
    let wallet = Address::from_private_key(&key);
    let sig = personal_sign(&key, "hello honnin");
    assert_eq!(sig.check_eoa("hello honnin", wallet), EoaCheck::Verified);
    // Round trip through the hex form the API receives.
    let parsed: WalletSignature = sig.to_string().parse().unwrap();
    assert_eq!(parsed.check_eoa("hello honnin", wallet), EoaCheck::Verified);
}

#[test]
fn other_message_or_other_key_does_not_verify() {
    let (alice, bob) = (key(7), key(8));
    let alice_wallet = Address::from_private_key(&alice);
    let bob_wallet = Address::from_private_key(&bob);
    let sig = personal_sign(&bob, "m");
    assert_eq!(sig.check_eoa("m", alice_wallet), EoaCheck::Mismatch { recovered: bob_wallet });
    let sig = personal_sign(&alice, "m");
    assert!(matches!(sig.check_eoa("m2", alice_wallet), EoaCheck::Mismatch { .. }));
}

#[test]
fn non_ecdsa_bytes_fall_back_to_erc1271() {
    let wallet = Address::repeat_byte(1);
    // An ERC-1271 multisig signature: any length, not recoverable.
    let sig = WalletSignature::from_bytes(vec![0x55; 130]).unwrap();
    assert_eq!(sig.check_eoa("m", wallet), EoaCheck::NotEoa);
    // 65 bytes with r = 0 cannot recover either.
    let sig = WalletSignature::from_bytes(vec![0; 65]).unwrap();
    assert_eq!(sig.check_eoa("m", wallet), EoaCheck::NotEoa);
}

#[test]
fn signature_parsing_is_bounded() {
    assert!("0x".parse::<WalletSignature>().is_err());
    assert!("0xzz".parse::<WalletSignature>().is_err());
    assert!("abcd".parse::<WalletSignature>().is_ok());
    let too_long = "00".repeat(WalletSignature::MAX_LEN + 1);
    assert!(too_long.parse::<WalletSignature>().is_err());
    assert_eq!(
        format!("{:?}", WalletSignature::from_bytes(vec![1; 65]).unwrap()),
        "WalletSignature(65 bytes)"
    );
}

/// The libsecp256k1 recovery the service uses answers exactly what alloy's k256 recovery (the
/// reference) answers: for honest signatures, their high-`s` twins (which `ecrecover` accepts),
/// signatures with the wrong parity, and random 65-byte strings.
#[test]
fn libsecp256k1_recovery_agrees_with_k256() {
    use rand::RngCore as _;
    let order = alloy_primitives::U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let mut rng = rand::thread_rng();
    let (mut agreed, mut recovered) = (0, 0);
    for i in 0..300u32 {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let Ok(key) = SigningKey::from_bytes(&seed.into()) else { continue };
        let message = format!("message {i}");
        let hash = eip191_hash(&message);
        let honest = Signature::from_raw(personal_sign(&key, &message).as_bytes()).unwrap();
        let high_s = Signature::new(honest.r(), order - honest.s(), !honest.v());
        let flipped = Signature::new(honest.r(), honest.s(), !honest.v());
        let mut noise = [0u8; 65];
        rng.fill_bytes(&mut noise);
        noise[64] = 27 + (noise[64] & 1);
        let random = Signature::from_raw(&noise).unwrap();
        for sig in [honest, high_s, flipped, random] {
            let reference = sig.recover_address_from_prehash(&hash).ok();
            let ours = honnin_core::wallet::recover_prehash(&sig, &hash);
            assert_eq!(ours, reference, "signature {i}");
            agreed += 1;
            recovered += usize::from(ours.is_some());
        }
        assert_eq!(
            honnin_core::wallet::recover_prehash(&high_s, &hash),
            Some(Address::from_private_key(&key))
        );
    }
    assert!(agreed >= 1000 && recovered >= 900, "{agreed} compared, {recovered} recovered");
}
