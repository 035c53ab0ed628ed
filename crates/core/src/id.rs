//! Random 128-bit ids with a readable prefix (`ch_…`, `at_…`).

/// Declares a random 128-bit id newtype whose string form is `{prefix}{32 lowercase hex}`.
macro_rules! random_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// The prefix of the string form.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id: 128 bits from the operating system's random source. Drawn again
            /// (about 1 in 150 draws) when its hex would carry what looks like an individual
            /// number under the short-text rule, so an id honnin issues is never refused
            /// when a client sends it back.
            pub fn random() -> Self {
                let mut bytes = [0u8; 16];
                loop {
                    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
                    if !$crate::individual_number::contains_in_short_text(&hex::encode(bytes)) {
                        return Self(bytes);
                    }
                }
            }

            /// The id from its 16 raw bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The 16 raw bytes.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}{}", Self::PREFIX, hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let invalid = || $crate::Error::InvalidId { kind: $kind };
                let digits = s.strip_prefix(Self::PREFIX).ok_or_else(invalid)?;
                if digits.len() != 32 || !digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(invalid());
                }
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(digits, &mut bytes).map_err(|_| invalid())?;
                Ok(Self(bytes))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use random_id;
