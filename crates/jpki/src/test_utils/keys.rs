//! The RSA key pool (key generation is slow) and public keys made up for negative tests.

use std::sync::OnceLock;

use der::{
    Decode, Encode,
    asn1::{BitString, Null, UintRef},
};
use rsa::{RsaPrivateKey, pkcs8::EncodePublicKey as _};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oids;

const POOL_SIZE: usize = 16;

/// An RSA-2048 (e = 65537) key from a per-process pool: slot `n` is generated once and reused,
/// because RSA key generation is slow. Use distinct slots for keys that must differ.
pub fn rsa_key(slot: usize) -> &'static RsaPrivateKey {
    static POOL: [OnceLock<RsaPrivateKey>; POOL_SIZE] = [const { OnceLock::new() }; POOL_SIZE];
    POOL[slot % POOL_SIZE].get_or_init(|| {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa key generation")
    })
}

/// The SubjectPublicKeyInfo of `key`.
pub(super) fn rsa_spki(key: &RsaPrivateKey) -> SubjectPublicKeyInfoOwned {
    let der = key.to_public_key().to_public_key_der().expect("spki");
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki decode")
}

/// An RSA SubjectPublicKeyInfo with an arbitrary modulus size and exponent: not a usable key,
/// only for certificates the verifier must refuse before any signature is checked.
pub fn fake_rsa_spki(modulus_bits: usize, exponent: u32) -> SubjectPublicKeyInfoOwned {
    #[derive(der::Sequence)]
    struct RsaPub<'a> {
        n: UintRef<'a>,
        e: UintRef<'a>,
    }
    let mut n = vec![0xc5u8; modulus_bits.div_ceil(8)];
    if !modulus_bits.is_multiple_of(8) {
        n[0] = 0xff >> (8 - modulus_bits % 8);
    }
    n[0] |= 0x80 >> ((8 - modulus_bits % 8) % 8);
    let e = exponent.to_be_bytes();
    let e_start = e.iter().position(|&b| b != 0).unwrap_or(3);
    let key =
        RsaPub { n: UintRef::new(&n).expect("n"), e: UintRef::new(&e[e_start..]).expect("e") };
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: oids::RSA_ENCRYPTION,
            parameters: Some(Null.into()),
        },
        subject_public_key: BitString::from_bytes(&key.to_der().expect("rsa key")).expect("bits"),
    }
}
