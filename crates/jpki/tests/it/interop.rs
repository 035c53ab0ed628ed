//! Interop: OpenSSL (an independent implementation) builds the chain with the JPKI profile,
//! issues CRLs and signs the message; honnin must accept what is right and refuse SHA-1.

use std::{path::PathBuf, process::Command, sync::Arc};

use honnin_jpki::{
    Crl, CrlSource, KeyAlgorithm, Policy, RevocationReason, RevocationStatus, TrustAnchors,
    Verifier, certificate_der, check_revocation, revocation::crl::crl_der,
};

use crate::support::*;

const CONFIG: &str = r#"
[ req ]
distinguished_name = dn
[ dn ]
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf_ext ]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
certificatePolicies = critical, 1.2.392.200149.8.5.1.3.30
crlDistributionPoints = crldp_section
authorityInfoAccess = OCSP;URI:http://ocspauthnorm.jpki.go.jp
authorityKeyIdentifier = keyid:always, issuer:always
[ crldp_section ]
fullname = dirName:crldp_dn
[ crldp_dn ]
C = JP
O = JPKI
1.OU = JPKI for user authentication
2.OU = CRL Distribution Points
3.OU = Tokyo
CN = Chiyoda-ku CRLDP
[ ca ]
default_ca = jpki
[ jpki ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
"#;

const ROOT_SUBJECT: &str = "/C=JP/O=JPKI/OU=JPKI for user authentication/OU=Japan Agency for Local Authority Information Systems";

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    #[track_caller]
    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl").args(args).current_dir(self.dir.path()).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// Root RSA-2048 and one leaf with key `leaf_key_args` (genpkey arguments), serial 0x1234ab.
    fn build(leaf_key_args: &[&str]) -> Option<Self> {
        if Command::new("openssl").arg("version").output().is_err() {
            println!("SKIPPED: openssl is not installed");
            return None;
        }
        let pki = Self { dir: tempfile::tempdir().unwrap() };
        std::fs::write(pki.path("openssl.cnf"), CONFIG).unwrap();
        std::fs::write(pki.path("message.txt"), MESSAGE).unwrap();
        pki.openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "root.key",
        ]);
        pki.openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-subj",
            ROOT_SUBJECT,
            "-days",
            "3650",
            "-sha256",
            "-config",
            "openssl.cnf",
            "-extensions",
            "root_ext",
            "-set_serial",
            "0x6d18006",
            "-out",
            "root.pem",
        ]);
        let mut genpkey = vec!["genpkey"];
        genpkey.extend_from_slice(leaf_key_args);
        genpkey.extend_from_slice(&["-out", "leaf.key"]);
        pki.openssl(&genpkey);
        pki.openssl(&[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/C=JP/CN=0123A4B5C6D7E8F9G0H1I2J",
            "-config",
            "openssl.cnf",
            "-out",
            "leaf.csr",
        ]);
        pki.openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            "0x1234ab",
            "-days",
            "1825",
            "-sha256",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            "leaf_ext",
            "-out",
            "leaf.pem",
        ]);
        Some(pki)
    }

    /// A CRL from OpenSSL's `ca -gencrl`, listing `serial_hex` with `reason`.
    fn crl(&self, serial_hex: &str, reason: &str) -> Vec<u8> {
        let line = format!(
            "R\t301231235959Z\t240101000000Z,{reason}\t{serial_hex}\tunknown\t/C=JP/CN=X\n"
        );
        std::fs::write(self.path("index.txt"), line).unwrap();
        std::fs::write(self.path("crlnumber"), "01\n").unwrap();
        self.openssl(&[
            "ca",
            "-gencrl",
            "-config",
            "openssl.cnf",
            "-keyfile",
            "root.key",
            "-cert",
            "root.pem",
            "-out",
            "crl.pem",
        ]);
        crl_der(&self.read("crl.pem")).unwrap()
    }

    fn sign(&self, digest: &str) -> Vec<u8> {
        self.openssl(&["dgst", digest, "-sign", "leaf.key", "-out", "sig.bin", "message.txt"]);
        self.read("sig.bin")
    }

    fn verifier(&self) -> Verifier {
        Verifier::new(TrustAnchors::from_path(self.path("root.pem")).unwrap(), Policy::default())
    }

    fn leaf(&self) -> Vec<u8> {
        certificate_der(&self.read("leaf.pem")).unwrap()
    }
}

#[tokio::test]
async fn openssl_rsa_chain_crl_and_signature_are_accepted_and_sha1_refused() {
    let Some(pki) = Pki::build(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]) else {
        return;
    };
    let verifier = pki.verifier();
    let leaf = pki.leaf();
    let card = verifier.verify_card(&leaf, MESSAGE, &pki.sign("-sha256"), now()).expect("accepted");
    assert_eq!(card.key_algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
    assert_eq!(card.serial(), [0x12, 0x34, 0xab]);

    let summary = honnin_jpki::inspect(&leaf).unwrap();
    assert_eq!(summary.ocsp_urls, ["http://ocspauthnorm.jpki.go.jp"]);
    assert_eq!(summary.policies, ["1.2.392.200149.8.5.1.3.30"]);

    assert_refused(verifier.verify_card(&leaf, MESSAGE, &pki.sign("-sha1"), now()), "weak_hash");
    assert_refused(
        verifier.verify_card(&leaf, b"other", &pki.sign("-sha256"), now()),
        "bad_signature",
    );

    let anchors = verifier.anchors().clone();
    let other_revoked =
        Crl::from_der(&pki.crl("99", "keyCompromise"), &anchors).expect("openssl crl verifies");
    let source = CrlSource::from_crls(Arc::clone(&anchors), [other_revoked]);
    assert_eq!(check_revocation(&card, &source, now(), false).await, Ok(RevocationStatus::Good));

    let leaf_revoked = Crl::from_der(&pki.crl("1234AB", "superseded"), &anchors).unwrap();
    assert!(matches!(
        leaf_revoked.lookup(card.serial()),
        RevocationStatus::Revoked { reason: RevocationReason::Superseded, .. }
    ));
    let source = CrlSource::from_crls(anchors, [leaf_revoked]);
    assert_refused(check_revocation(&card, &source, now(), false).await, "revoked");
}

#[test]
fn openssl_p256_and_p384_signatures_are_accepted() {
    for (curve, digest, alg) in [
        ("P-256", "-sha256", KeyAlgorithm::EcdsaP256),
        ("P-384", "-sha384", KeyAlgorithm::EcdsaP384),
    ] {
        let curve_opt = format!("ec_paramgen_curve:{curve}");
        let Some(pki) = Pki::build(&["-algorithm", "EC", "-pkeyopt", &curve_opt]) else { return };
        let card = pki
            .verifier()
            .verify_card(&pki.leaf(), MESSAGE, &pki.sign(digest), now())
            .expect("accepted");
        assert_eq!(card.key_algorithm(), alg);
        if curve == "P-384" {
            assert_refused(
                pki.verifier().verify_card(&pki.leaf(), MESSAGE, &pki.sign("-sha256"), now()),
                "weak_hash",
            );
        }
    }
}
