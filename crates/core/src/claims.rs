//! Claims beyond the unique person, proven with extra evidence at verification: the age
//! claims, from the card's signing certificate (its birth date).
//!
//! A claim is one bit of [`Claims`], written on chain as is (`IKycRegistry`'s `CLAIM_*`
//! constants). It holds at the moment of verification: a person under 18 today gains
//! [`AgeClaim::Over18`] only by verifying again after their birthday. The birth date itself
//! never reaches this crate: the API computes the claims and drops it.

use crate::Claims;

impl Claims {
    /// Bit 1: the person was at least 18 (adult in Japan, 成年) when verified.
    pub const AGE_OVER_18: Self = Self(1 << 1);
    /// Bit 2: the person was at least 20 (alcohol, tobacco and public gambling in Japan) when
    /// verified.
    pub const AGE_OVER_20: Self = Self(1 << 2);

    /// These claims and `other`'s.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// An age claim: the person had reached an age at verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgeClaim {
    /// At least 18.
    Over18,
    /// At least 20.
    Over20,
}

impl AgeClaim {
    /// Every age claim, in bit order.
    pub const ALL: [Self; 2] = [Self::Over18, Self::Over20];

    /// The age reached.
    pub const fn years(self) -> u16 {
        match self {
            Self::Over18 => 18,
            Self::Over20 => 20,
        }
    }

    /// Its bit.
    pub const fn bit(self) -> Claims {
        match self {
            Self::Over18 => Claims::AGE_OVER_18,
            Self::Over20 => Claims::AGE_OVER_20,
        }
    }

    /// Its stable name (API answers): `age_over_18`, `age_over_20`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Over18 => "age_over_18",
            Self::Over20 => "age_over_20",
        }
    }

    /// The claims a person has who has reached exactly the ages `reached` says yes to.
    pub fn claims(mut reached: impl FnMut(u16) -> bool) -> Claims {
        Self::ALL
            .iter()
            .filter(|claim| reached(claim.years()))
            .fold(Claims::default(), |claims, claim| claims.union(claim.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_leave_the_unique_person_bit_alone() {
        assert_eq!(Claims::UNIQUE_PERSON.0 & Claims::AGE_OVER_18.0, 0);
        assert_eq!(Claims::AGE_OVER_18.0 & Claims::AGE_OVER_20.0, 0);
        assert_eq!(AgeClaim::claims(|age| age <= 19), Claims::AGE_OVER_18);
        assert_eq!(AgeClaim::claims(|age| age <= 20), Claims(0b110));
        assert_eq!(AgeClaim::claims(|age| age <= 17), Claims(0));
    }
}
