//! The signing certificate's basic attributes (subjectAltName `otherName`s), simulated values.

use der::{
    Any, Tag,
    asn1::{Ia5String, PrintableString, Utf8StringRef},
};
use time::{Date, Month};
use x509_cert::ext::pkix::{
    SubjectAltName,
    name::{GeneralName, OtherName},
};

use crate::oids;

/// The string type a simulated birth date is encoded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringKind {
    /// UTF8String (as reported for real cards).
    Utf8,
    /// PrintableString (also accepted).
    Printable,
    /// IA5String (refused: a negative test).
    Ia5,
}

/// The four basic attributes (and the two substitution fields) a signing certificate carries,
/// in the order real certificates are reported to list them. Simulated values, no real person.
#[derive(Clone, Debug)]
pub struct BasicAttributes {
    /// 氏名.
    pub name: String,
    /// 生年月日 as written in the certificate (`EYYYYMMDD`); `None` leaves it out.
    pub birth_date: Option<String>,
    /// The birth date's string type.
    pub birth_date_kind: StringKind,
    /// Write the birth date twice (a negative test).
    pub birth_date_twice: bool,
    /// 性別 (1 male, 2 female, 3 unknown: reported).
    pub sex: String,
    /// 住所.
    pub address: String,
}

impl BasicAttributes {
    /// Simulated attributes with `birth_date` (written with its era digit).
    pub fn new(birth_date: Date) -> Self {
        Self {
            name: "試験　花子".into(),
            birth_date: Some(birth_date_text(birth_date)),
            birth_date_kind: StringKind::Utf8,
            birth_date_twice: false,
            sex: "2".into(),
            address: "東京都千代田区霞が関二丁目一番二号".into(),
        }
    }

    /// The subjectAltName extension value.
    pub(super) fn subject_alt_name(&self) -> SubjectAltName {
        let other = |type_id, value: Any| GeneralName::OtherName(OtherName { type_id, value });
        let utf8 = |text: &str| Any::from(Utf8StringRef::new(text).expect("utf8"));
        let mut names = vec![other(oids::JPKI_NAME, utf8(&self.name))];
        if let Some(birth) = &self.birth_date {
            let value = match self.birth_date_kind {
                StringKind::Utf8 => utf8(birth),
                StringKind::Printable => Any::new(
                    Tag::PrintableString,
                    PrintableString::new(birth).expect("printable").as_bytes(),
                )
                .expect("any"),
                StringKind::Ia5 => {
                    Any::new(Tag::Ia5String, Ia5String::new(birth).expect("ia5").as_bytes())
                        .expect("any")
                }
            };
            names.push(other(oids::JPKI_BIRTH_DATE, value.clone()));
            if self.birth_date_twice {
                names.push(other(oids::JPKI_BIRTH_DATE, value));
            }
        }
        names.push(other(oids::JPKI_SEX, utf8(&self.sex)));
        names.push(other(oids::JPKI_ADDRESS, utf8(&self.address)));
        names.push(other(oids::JPKI_NAME_SUBSTITUTION, utf8("00000")));
        names.push(other(oids::JPKI_ADDRESS_SUBSTITUTION, utf8("0000000000000000000000")));
        SubjectAltName(names)
    }
}

/// `EYYYYMMDD` for `date`: the era digit of that day (1 明治 … 5 令和) and the Gregorian date.
pub fn birth_date_text(date: Date) -> String {
    let key = (date.year(), u8::from(date.month()), date.day());
    let era = [(1912, 7, 30), (1926, 12, 25), (1989, 1, 8), (2019, 5, 1)]
        .iter()
        .filter(|start| key >= **start)
        .count()
        + 1;
    format!("{era}{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The date `years` years before `date` (29 February becomes 28 February in a common year):
/// a birth date that makes a person exactly `years` old on `date`.
pub fn years_before(date: Date, years: i32) -> Date {
    let year = date.year() - years;
    Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .expect("a valid date")
}
