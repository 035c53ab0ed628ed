//! The holder's birth date from a JPKI signing certificate, and the one age rule honnin applies.
//!
//! This is the only place that reads the birth date. The signing certificate (署名用電子証明書)
//! carries the four basic attributes in subjectAltName as `otherName`s; the birth date is
//! `1.2.392.200149.8.5.5.4` with the value `EYYYYMMDD`: an era digit (1 明治, 2 大正, 3 昭和,
//! 4 平成, 5 令和, 0 不明) followed by the **Gregorian** date (`319800217` is 1980-02-17).
//!
//! **The encoding is reported, not checked against a real card** (`../shared/JPKI.md`, secondary
//! sources: openssl dumps of real certificates and other implementations). So it is parsed
//! strictly and anything that does not fit is refused as [`Refusal::MalformedBirthDate`]:
//!
//! - subjectAltName present and a well-formed `GeneralNames`;
//! - exactly one `otherName` with type `1.2.392.200149.8.5.5.4`;
//! - its value `[0] EXPLICIT` a `UTF8String` or `PrintableString` (both are reported), nothing
//!   after it;
//! - exactly nine ASCII digits: an era digit 0–5 and a real Gregorian date from 1868-01-01 on;
//! - a non-zero era must be the era of that date (eras begin 1868-01-01, 1912-07-30,
//!   1926-12-25, 1989-01-08, 2019-05-01);
//! - not after the day it is judged on ([`BirthDate::has_reached`] refuses a future date).
//!
//! [`BirthDate`] holds the date only in memory: its fields are wiped on drop, its `Debug` says
//! `BirthDate(<redacted>)`, it has no `Display`, no `Clone` and no `Serialize`.

use std::fmt;

use der::{
    Decode, Tag, Tagged,
    asn1::{PrintableStringRef, Utf8StringRef},
};
use time::{Date, Month, OffsetDateTime, UtcOffset};
use x509_cert::ext::pkix::{SubjectAltName, name::GeneralName};
use zeroize::Zeroize;

use crate::{Refusal, oids};

/// Japan Standard Time, UTC+9: the calendar day a birthday falls on in Japan.
const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+9 is a valid offset"),
};

/// The first day of each era, by era digit (1 明治 … 5 令和), as (year, month, day).
const ERA_STARTS: [(u16, u8, u8); 5] =
    [(1868, 1, 1), (1912, 7, 30), (1926, 12, 25), (1989, 1, 8), (2019, 5, 1)];

/// The holder's birth date. Personal data: never log, store, serialise or show it.
pub struct BirthDate {
    year: u16,
    month: u8,
    day: u8,
}

impl BirthDate {
    /// Reads the birth date from a certificate's subjectAltName extension value (the DER
    /// `GeneralNames`, `None` when the certificate has no subjectAltName).
    pub(crate) fn from_subject_alt_name(san: Option<&[u8]>) -> Result<Self, Refusal> {
        let bad = |_| Refusal::MalformedBirthDate;
        let san = SubjectAltName::from_der(san.ok_or(Refusal::MalformedBirthDate)?).map_err(bad)?;
        let mut found = san.0.iter().filter_map(|name| match name {
            GeneralName::OtherName(other) if other.type_id == oids::JPKI_BIRTH_DATE => Some(other),
            _ => None,
        });
        let (Some(other), None) = (found.next(), found.next()) else {
            return Err(Refusal::MalformedBirthDate);
        };
        // x509-cert strips the `[0] EXPLICIT` and requires exactly one value inside it.
        let value = &other.value;
        let text = match value.tag() {
            Tag::Utf8String => Utf8StringRef::try_from(value).map_err(bad)?.as_str(),
            Tag::PrintableString => PrintableStringRef::try_from(value).map_err(bad)?.as_str(),
            _ => return Err(Refusal::MalformedBirthDate),
        };
        Self::parse(text.as_bytes())
    }

    /// `EYYYYMMDD`, checked as the module docs say (all but the future-date rule).
    fn parse(text: &[u8]) -> Result<Self, Refusal> {
        let &[era, ref date @ ..] = text else { return Err(Refusal::MalformedBirthDate) };
        if date.len() != 8 || !text.iter().all(u8::is_ascii_digit) || era > b'5' {
            return Err(Refusal::MalformedBirthDate);
        }
        let number = |digits: &[u8]| digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let year = number(&date[..4]);
        let month = u8::try_from(number(&date[4..6])).map_err(|_| Refusal::MalformedBirthDate)?;
        let day = u8::try_from(number(&date[6..8])).map_err(|_| Refusal::MalformedBirthDate)?;
        let birth = Self { year, month, day };
        birth.date().ok_or(Refusal::MalformedBirthDate)?;
        let key = (year, month, day);
        if key < ERA_STARTS[0] {
            return Err(Refusal::MalformedBirthDate);
        }
        if era != b'0' {
            let index = usize::from(era - b'1');
            let starts = ERA_STARTS[index];
            let ends = ERA_STARTS.get(index + 1);
            if key < starts || ends.is_some_and(|next| key >= *next) {
                return Err(Refusal::MalformedBirthDate);
            }
        }
        Ok(birth)
    }

    fn date(&self) -> Option<Date> {
        let month = Month::try_from(self.month).ok()?;
        Date::from_calendar_date(i32::from(self.year), month, self.day).ok()
    }

    /// Whether the holder is at least `years` old at instant `at`, under Japanese law (年齢計算ニ
    /// 関スル法律 and Civil Code art. 143): a year of age is added when the day before the
    /// birthday ends, so a person is `years` old from the start of their birthday, Japan time
    /// (UTC+9); a person born on 29 February is a year older from 1 March in a common year.
    ///
    /// A birth date after `at`'s day in Japan is [`Refusal::MalformedBirthDate`].
    pub fn has_reached(&self, years: u16, at: OffsetDateTime) -> Result<bool, Refusal> {
        let today = at.to_offset(JST).date();
        let born = self.date().ok_or(Refusal::MalformedBirthDate)?;
        if born > today {
            return Err(Refusal::MalformedBirthDate);
        }
        let year = i32::from(self.year) + i32::from(years);
        let month = Month::try_from(self.month).map_err(|_| Refusal::MalformedBirthDate)?;
        let birthday = Date::from_calendar_date(year, month, self.day)
            .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
            .map_err(|_| Refusal::MalformedBirthDate)?;
        Ok(today >= birthday)
    }
}

impl Drop for BirthDate {
    fn drop(&mut self) {
        self.year.zeroize();
        self.month.zeroize();
        self.day.zeroize();
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn birth(text: &str) -> Result<BirthDate, Refusal> {
        BirthDate::parse(text.as_bytes())
    }

    #[test]
    fn parses_era_and_gregorian_date() {
        let b = birth("319800217").unwrap();
        assert_eq!((b.year, b.month, b.day), (1980, 2, 17));
        assert!(birth("019800217").is_ok(), "era 0: unknown");
        assert!(birth("420080229").is_ok(), "a leap day");
        assert!(birth("520190501").is_ok(), "first day of Reiwa");
        assert!(birth("420190430").is_ok(), "last day of Heisei");
        assert_eq!(format!("{b:?}"), "BirthDate(<redacted>)");
    }

    #[test]
    fn refuses_what_does_not_fit() {
        for text in [
            "",
            "3",
            "31980021",
            "3198002170",
            "619800217",
            "919800217",
            "3198a0217",
            " 19800217",
            "319801317",
            "319800230",
            "420070229",
            "319800000",
            "018671231",
            "420190501",
            "520190430",
            "419890107",
            "119120730",
            "２19800217",
        ] {
            assert_eq!(birth(text).err(), Some(Refusal::MalformedBirthDate), "{text:?}");
        }
    }

    #[test]
    fn age_starts_on_the_birthday_in_japan() {
        let b = birth("420080615").unwrap();
        // 2026-06-15 00:00 JST is 2026-06-14 15:00 UTC.
        assert!(!b.has_reached(18, datetime!(2026-06-14 14:59:59 UTC)).unwrap());
        assert!(b.has_reached(18, datetime!(2026-06-14 15:00:00 UTC)).unwrap());
        assert!(!b.has_reached(20, datetime!(2026-06-15 12:00:00 UTC)).unwrap());
        assert!(b.has_reached(20, datetime!(2028-06-14 15:00:00 UTC)).unwrap());
    }

    #[test]
    fn leap_day_birthdays_move_to_march_first_in_common_years() {
        let b = birth("420080229").unwrap();
        // 2026 is a common year: 18 on 1 March (JST), not on 28 February.
        assert!(!b.has_reached(18, datetime!(2026-02-28 14:59:59 UTC)).unwrap());
        assert!(
            !b.has_reached(18, datetime!(2026-02-28 15:00:00 UTC) - time::Duration::SECOND)
                .unwrap()
        );
        assert!(b.has_reached(18, datetime!(2026-02-28 15:00:00 UTC)).unwrap());
        // 2028 is a leap year: 20 on 29 February.
        assert!(!b.has_reached(20, datetime!(2028-02-28 14:59:59 UTC)).unwrap());
        assert!(b.has_reached(20, datetime!(2028-02-28 15:00:00 UTC)).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn any_san_bytes_are_refused_or_parsed_never_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = BirthDate::from_subject_alt_name(Some(&bytes));
        }

        #[test]
        fn nine_characters_parse_exactly_when_they_are_a_date_of_their_era(
            era in 0u8..10, year in 1800u16..2200, month in 0u8..14, day in 0u8..33,
        ) {
            let text = format!("{era}{year:04}{month:02}{day:02}");
            let parsed = birth(&text);
            let date = Month::try_from(month)
                .ok()
                .and_then(|m| Date::from_calendar_date(i32::from(year), m, day).ok());
            let key = (year, month, day);
            let era_fits = match era {
                0 => true,
                1..=5 => {
                    let i = usize::from(era - 1);
                    key >= ERA_STARTS[i] && ERA_STARTS.get(i + 1).is_none_or(|next| key < *next)
                }
                _ => false,
            };
            let valid = date.is_some() && key >= ERA_STARTS[0] && era_fits;
            proptest::prop_assert_eq!(parsed.is_ok(), valid, "{}", text);
        }
    }

    #[test]
    fn a_future_birth_date_is_refused() {
        let b = birth("520260101").unwrap();
        assert_eq!(
            b.has_reached(0, datetime!(2025-12-31 14:59:59 UTC)).err(),
            Some(Refusal::MalformedBirthDate)
        );
        assert!(b.has_reached(0, datetime!(2025-12-31 15:00:00 UTC)).unwrap());
    }
}
