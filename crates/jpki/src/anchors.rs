//! Trust anchors: the configured J-LIS roots, indexed by subject key identifier.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use der::{Decode, Encode, asn1::OctetString};
use time::OffsetDateTime;
use x509_cert::{
    Certificate,
    ext::pkix::{
        AuthorityKeyIdentifier, BasicConstraints, SubjectKeyIdentifier, name::GeneralName,
    },
    name::Name,
};

use crate::{
    Error, KeyAlgorithm, Result,
    crypto::PublicKey,
    util::{sha1, to_offset},
};

/// One configured root certificate.
#[derive(Clone)]
pub struct TrustAnchor {
    pub(crate) key_id: Vec<u8>,
    pub(crate) subject: Name,
    /// Shared with every [`crate::CertRef`] under this root (no copy per verification).
    pub(crate) subject_der: Arc<[u8]>,
    /// The subject as RFC 4514 text, formatted once (every verification reports it).
    pub(crate) subject_text: Arc<str>,
    pub(crate) serial: Box<[u8]>,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) key: PublicKey,
    /// The subjectPublicKey BIT STRING contents, as OCSP's issuerKeyHash hashes them.
    pub(crate) key_bits: Arc<[u8]>,
    pub(crate) der: Box<[u8]>,
    /// The DER authorityKeyIdentifier value a JPKI certificate under this root carries (key id,
    /// the root's name, its serial): a certificate whose extension is these exact bytes names
    /// this root without decoding it. Empty if it cannot be encoded.
    pub(crate) profile_aki: Box<[u8]>,
}

impl TrustAnchor {
    /// Parses and checks one root certificate (DER).
    ///
    /// The root must be a CA if it says (basicConstraints), and its key must be one honnin can
    /// verify with (RSA 2048–4096 with e = 65537, P-256 or P-384). Its subject key identifier is
    /// taken from the extension, or computed as the SHA-1 of the key (RFC 5280 method 1).
    pub fn from_der(der: &[u8], origin: &Path) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidAnchor { path: origin.to_owned(), reason };
        let cert =
            Certificate::from_der(der).map_err(|e| invalid(format!("not a certificate: {e}")))?;
        let tbs = &cert.tbs_certificate;
        if let Ok(Some((_, bc))) = tbs.get::<BasicConstraints>()
            && !bc.ca
        {
            return Err(invalid("basicConstraints says it is not a CA".into()));
        }
        // Parsed once here: every certificate, CRL and OCSP check under this root reuses it.
        let key = PublicKey::from_spki(&tbs.subject_public_key_info)
            .map_err(|r| invalid(format!("unusable key: {r}")))?
            .prepared();
        let key_bits: Arc<[u8]> = tbs.subject_public_key_info.subject_public_key.raw_bytes().into();
        let key_id = match tbs.get::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => ski.0.as_bytes().to_vec(),
            Ok(None) => sha1(&key_bits).to_vec(),
            Err(e) => return Err(invalid(format!("bad subjectKeyIdentifier: {e}"))),
        };
        let subject_der = tbs.subject.to_der().map_err(|e| invalid(format!("bad subject: {e}")))?;
        let profile_aki = AuthorityKeyIdentifier {
            key_identifier: OctetString::new(key_id.clone()).ok(),
            authority_cert_issuer: Some(vec![GeneralName::DirectoryName(tbs.subject.clone())]),
            authority_cert_serial_number: Some(tbs.serial_number.clone()),
        }
        .to_der()
        .unwrap_or_default();
        Ok(Self {
            key_id,
            subject: tbs.subject.clone(),
            subject_text: tbs.subject.to_string().into(),
            subject_der: subject_der.into(),
            serial: tbs.serial_number.as_bytes().into(),
            not_before: to_offset(tbs.validity.not_before),
            not_after: to_offset(tbs.validity.not_after),
            key,
            key_bits,
            der: der.into(),
            profile_aki: profile_aki.into(),
        })
    }

    /// The root's subject key identifier: what a card certificate's authority key id names.
    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    /// The root's subject name (RFC 4514 text). Roots are public; this is not personal data.
    pub fn subject(&self) -> String {
        self.subject_text.to_string()
    }

    /// Start of the root's validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the root's validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The root's key algorithm.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key.algorithm
    }

    /// The root certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

impl fmt::Debug for TrustAnchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustAnchor")
            .field("key_id", &hex::encode(&self.key_id))
            .field("subject", &self.subject())
            .field("not_after", &self.not_after)
            .field("key_algorithm", &self.key.algorithm)
            .finish_non_exhaustive()
    }
}

/// The set of configured roots, looked up by subject key identifier.
///
/// The three J-LIS user-authentication root generations share one subject name, so a root is
/// always chosen by the certificate's authority key identifier, never by name.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor>,
    by_key_id: HashMap<Vec<u8>, usize>,
}

impl TrustAnchors {
    /// Loads roots from a folder (every `*.pem`, `*.crt`, `*.cer` and `*.der` file in it, PEM or
    /// DER) or from one file (a PEM bundle or a single DER certificate).
    ///
    /// Fails on an unreadable file, a file that is not a usable root, two different roots with
    /// one key identifier, or when no root is found at all.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |source| Error::Io { path: path.to_owned(), source };
        let mut anchors = Self::default();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            ["pem", "crt", "cer", "der"].contains(&e.to_ascii_lowercase().as_str())
                        })
                })
                .collect();
            files.sort();
            for file in files {
                anchors.add_file(&file)?;
            }
        } else {
            anchors.add_file(path)?;
        }
        if anchors.is_empty() {
            return Err(Error::NoAnchors { path: path.to_owned() });
        }
        tracing::info!(target: "honnin_jpki::anchors", count = anchors.len(), path = %path.display(), "loaded trust anchors");
        Ok(anchors)
    }

    /// Parses a PEM bundle (one or more `CERTIFICATE` blocks) or a single DER certificate.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let mut anchors = Self::default();
        anchors.add_bytes(bytes, origin)?;
        Ok(anchors)
    }

    fn add_file(&mut self, file: &Path) -> Result<()> {
        let bytes =
            std::fs::read(file).map_err(|source| Error::Io { path: file.to_owned(), source })?;
        self.add_bytes(&bytes, file)
    }

    fn add_bytes(&mut self, bytes: &[u8], origin: &Path) -> Result<()> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let certs = Certificate::load_pem_chain(bytes).map_err(|e| Error::InvalidAnchor {
                path: origin.to_owned(),
                reason: format!("bad PEM: {e}"),
            })?;
            for cert in certs {
                let der = cert.to_der()?;
                self.add(TrustAnchor::from_der(&der, origin)?, origin)?;
            }
            Ok(())
        } else {
            self.add(TrustAnchor::from_der(bytes, origin)?, origin)
        }
    }

    /// Adds one root. A second copy of the same certificate is ignored; a different
    /// certificate with the same key identifier is an error.
    pub fn add(&mut self, anchor: TrustAnchor, origin: &Path) -> Result<()> {
        if let Some(&i) = self.by_key_id.get(&anchor.key_id) {
            if self.anchors[i].der == anchor.der {
                return Ok(());
            }
            return Err(Error::InvalidAnchor {
                path: origin.to_owned(),
                reason: "another root has the same subject key identifier".into(),
            });
        }
        self.by_key_id.insert(anchor.key_id.clone(), self.anchors.len());
        self.anchors.push(anchor);
        Ok(())
    }

    /// The root with this subject key identifier.
    pub fn get(&self, key_id: &[u8]) -> Option<&TrustAnchor> {
        self.by_key_id.get(key_id).map(|&i| &self.anchors[i])
    }

    /// All roots, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter()
    }

    /// How many roots are configured.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether no root is configured.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}
