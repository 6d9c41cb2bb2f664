//! Classification accuracy on a labelled set generated with the `fake` crate: columns of
//! every category in several locales (en, fr, de, it, pt_br, pt_pt), named in seven
//! languages or not named at all, and hard negatives (UUIDs, SKUs, order dates, product
//! names, `phone_model`, `email_verified`, hex tokens, prices, booleans). It prints
//! precision, recall and F1 per category and asserts a macro-F1 of at least 0.9.
//!
//! `cargo test -p govgraph-quality --test accuracy -- --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use fake::Fake;
use fake::faker::address::raw as address;
use fake::faker::company::raw as company;
use fake::faker::creditcard::raw as card;
use fake::faker::internet::raw as internet;
use fake::faker::lorem::raw as lorem;
use fake::faker::name::raw as name;
use fake::faker::phone_number::raw as phone;
use fake::locales::{DE_DE, EN, FR_FR, IT_IT, PT_BR, PT_PT};
use govgraph_quality::{Category, ColumnSample, classify_table};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROWS: usize = 40;

type Gen<'a> = Box<dyn FnMut(&mut StdRng) -> String + 'a>;

/// A value generator per locale, so each category is drawn in several languages.
macro_rules! per_locale {
    ($faker:path, $locale:expr) => {
        match $locale {
            0 => Box::new(|r: &mut StdRng| $faker(EN).fake_with_rng::<String, _>(r)) as Gen,
            1 => Box::new(|r: &mut StdRng| $faker(FR_FR).fake_with_rng::<String, _>(r)),
            2 => Box::new(|r: &mut StdRng| $faker(DE_DE).fake_with_rng::<String, _>(r)),
            3 => Box::new(|r: &mut StdRng| $faker(IT_IT).fake_with_rng::<String, _>(r)),
            4 => Box::new(|r: &mut StdRng| $faker(PT_BR).fake_with_rng::<String, _>(r)),
            _ => Box::new(|r: &mut StdRng| $faker(PT_PT).fake_with_rng::<String, _>(r)),
        }
    };
}

fn digits(r: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + r.random_range(0..10u8)))
        .collect()
}

fn iban(r: &mut StdRng) -> String {
    let (country, len) = [
        ("DE", 22),
        ("FR", 27),
        ("NL", 18),
        ("ES", 24),
        ("IT", 27),
        ("GB", 22),
        ("PT", 25),
        ("BE", 16),
    ][r.random_range(0..8)];
    let bban: String = if country == "NL" || country == "GB" {
        let letters: String = (0..4)
            .map(|_| char::from(b'A' + r.random_range(0..26u8)))
            .collect();
        format!("{letters}{}", digits(r, len - 8))
    } else {
        digits(r, len - 4)
    };
    let rearranged = format!("{bban}{country}00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        let n = c.to_digit(36).unwrap() as u64;
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    let check = 98 - rem;
    let raw = format!("{country}{check:02}{bban}");
    if r.random_bool(0.5) {
        raw.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        raw
    }
}

fn national_id(r: &mut StdRng, kind: usize) -> String {
    match kind % 4 {
        0 => format!(
            "{:03}-{:02}-{:04}",
            r.random_range(1..666),
            r.random_range(1..100),
            r.random_range(1..10000)
        ),
        1 => {
            let n: u32 = r.random_range(10_000_000..99_999_999);
            let letter = b"TRWAGMYFPDXBNJZSQVHLCKE"[(n % 23) as usize] as char;
            format!("{n}{letter}")
        }
        2 => {
            let body = format!(
                "{}{:02}{:02}{:02}{:03}{:03}",
                r.random_range(1..3),
                r.random_range(40..99),
                r.random_range(1..13),
                r.random_range(1..96),
                r.random_range(1..999),
                r.random_range(1..999)
            );
            let n: u64 = body.parse().unwrap();
            format!("{body}{:02}", 97 - n % 97)
        }
        _ => {
            let d: Vec<u32> = (0..9).map(|_| r.random_range(0..10)).collect();
            let check = |d: &[u32], n: usize| {
                let s: u32 = d
                    .iter()
                    .take(n)
                    .enumerate()
                    .map(|(i, x)| x * (n as u32 + 1 - i as u32))
                    .sum();
                let r = (s * 10) % 11;
                if r == 10 { 0 } else { r }
            };
            let mut all = d.clone();
            all.push(check(&all, 9));
            let c2 = check(&all, 10);
            all.push(c2);
            let s: String = all
                .iter()
                .map(|x| char::from_digit(*x, 10).unwrap())
                .collect();
            format!("{}.{}.{}-{}", &s[..3], &s[3..6], &s[6..9], &s[9..])
        }
    }
}

/// A Visa, Mastercard or Amex number with a valid Luhn check digit.
fn card_number(r: &mut StdRng) -> String {
    let (prefix, len) = [
        ("4", 16),
        ("4", 13),
        ("51", 16),
        ("55", 16),
        ("34", 15),
        ("37", 15),
    ][r.random_range(0..6)];
    let mut d: Vec<u32> = prefix.chars().map(|c| c.to_digit(10).unwrap()).collect();
    while d.len() < len - 1 {
        d.push(r.random_range(0..10));
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, x)| {
            if i % 2 == 0 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                *x
            }
        })
        .sum();
    d.push((10 - sum % 10) % 10);
    d.iter()
        .map(|x| char::from_digit(*x, 10).unwrap())
        .collect()
}

fn birth_date(r: &mut StdRng, style: usize) -> String {
    let (y, m, d) = (
        r.random_range(1940..2006),
        r.random_range(1..13),
        r.random_range(1..29),
    );
    match style % 3 {
        0 => format!("{y}-{m:02}-{d:02}"),
        1 => format!("{d:02}/{m:02}/{y}"),
        _ => format!("{d:02}.{m:02}.{y}"),
    }
}

fn pick<'a>(r: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[r.random_range(0..items.len())]
}

/// One labelled column: (name, truth, generator).
fn columns<'a>() -> Vec<(String, Category, Gen<'a>)> {
    use Category as C;
    let mut out: Vec<(String, Category, Gen<'a>)> = Vec::new();
    let mut add = |n: &str, c: Category, g: Gen<'a>| out.push((n.to_owned(), c, g));
    let first = [
        "first_name",
        "vorname",
        "prenom",
        "nombre_de_pila",
        "primeiro_nome",
        "voornaam",
        "nome_proprio",
    ];
    let last = [
        "last_name",
        "nachname",
        "nom_de_famille",
        "apellido",
        "sobrenome",
        "achternaam",
        "cognome",
    ];
    let full = [
        "full_name",
        "customer_name",
        "nome_completo",
        "nom_complet",
        "nombre_completo",
        "contact_name",
    ];
    for l in 0..6 {
        add(first[l], C::FirstName, per_locale!(name::FirstName, l));
        add(last[l], C::LastName, per_locale!(name::LastName, l));
        add(full[l], C::PersonName, per_locale!(name::Name, l));
        add(
            [
                "email",
                "e_mail",
                "courriel",
                "correo_electronico",
                "email_address",
                "emailAdresse",
            ][l],
            C::Email,
            per_locale!(internet::SafeEmail, l),
        );
        add(
            &format!("col_{l}_a"),
            C::Email,
            per_locale!(internet::FreeEmail, l),
        );
        add(
            [
                "phone",
                "telefonnummer",
                "telephone",
                "telefono",
                "telefone",
                "mobile",
            ][l],
            C::Phone,
            per_locale!(phone::PhoneNumber, l),
        );
        add(
            ["city", "ville", "stadt", "citta", "cidade", "woonplaats"][l],
            C::City,
            per_locale!(address::CityName, l),
        );
        add(
            [
                "zip_code",
                "code_postal",
                "postleitzahl",
                "cap",
                "cep",
                "codigo_postal",
            ][l],
            C::PostalCode,
            per_locale!(address::ZipCode, l),
        );
    }
    add(
        "street_address",
        C::StreetAddress,
        Box::new(|r| {
            format!(
                "{} {}",
                address::BuildingNumber(EN).fake_with_rng::<String, _>(r),
                address::StreetName(EN).fake_with_rng::<String, _>(r)
            )
        }),
    );
    add(
        "adresse",
        C::StreetAddress,
        Box::new(|r| {
            format!(
                "{} rue {}",
                r.random_range(1..200),
                name::LastName(FR_FR).fake_with_rng::<String, _>(r)
            )
        }),
    );
    add(
        "strasse",
        C::StreetAddress,
        Box::new(|r| {
            format!(
                "{}straße {}",
                name::LastName(DE_DE).fake_with_rng::<String, _>(r),
                r.random_range(1..200)
            )
        }),
    );
    add(
        "col_addr",
        C::StreetAddress,
        Box::new(|r| {
            format!(
                "{} {} Avenue",
                r.random_range(1..9999),
                name::LastName(EN).fake_with_rng::<String, _>(r)
            )
        }),
    );
    add(
        "indirizzo",
        C::StreetAddress,
        Box::new(|r| {
            format!(
                "Via {} {}",
                name::LastName(IT_IT).fake_with_rng::<String, _>(r),
                r.random_range(1..200)
            )
        }),
    );
    for (i, n) in [
        "date_of_birth",
        "geburtsdatum",
        "date_de_naissance",
        "fecha_nacimiento",
        "data_de_nascimento",
        "dob",
    ]
    .iter()
    .enumerate()
    {
        add(n, C::DateOfBirth, Box::new(move |r| birth_date(r, i)));
    }
    add("c_birth", C::DateOfBirth, Box::new(|r| birth_date(r, 0)));
    for (i, n) in [
        "ssn",
        "dni",
        "numero_securite_sociale",
        "cpf",
        "national_id",
        "col_nid",
    ]
    .iter()
    .enumerate()
    {
        add(n, C::NationalId, Box::new(move |r| national_id(r, i)));
    }
    add(
        "passport_number",
        C::PassportNumber,
        Box::new(|r| {
            format!(
                "{}{}",
                char::from(b'A' + r.random_range(0..26u8)),
                digits(r, 8)
            )
        }),
    );
    add(
        "reisepass",
        C::PassportNumber,
        Box::new(|r| format!("C{}", digits(r, 8))),
    );
    add(
        "credit_card_number",
        C::CreditCard,
        per_locale!(card::CreditCardNumber, 0),
    );
    add(
        "numero_carte",
        C::CreditCard,
        per_locale!(card::CreditCardNumber, 1),
    );
    // fake's 13- and 15-digit numbers fail the Luhn check, so unnamed columns use valid ones.
    add("col_cc", C::CreditCard, Box::new(card_number));
    add("iban", C::Iban, Box::new(iban));
    add("col_iban", C::Iban, Box::new(iban));
    add(
        "bank_account_number",
        C::BankAccount,
        Box::new(|r| digits(r, 10)),
    );
    add("kontonummer", C::BankAccount, Box::new(|r| digits(r, 9)));
    add("ip_address", C::IpAddress, per_locale!(internet::IPv4, 0));
    add("client_ip", C::IpAddress, per_locale!(internet::IPv6, 0));
    add("col_ip", C::IpAddress, per_locale!(internet::IP, 0));
    add(
        "mac_address",
        C::MacAddress,
        per_locale!(internet::MACAddress, 0),
    );
    add(
        "col_mac",
        C::MacAddress,
        per_locale!(internet::MACAddress, 0),
    );
    add(
        "latitude",
        C::Geolocation,
        Box::new(|r| format!("{:.6}", r.random_range(-90.0..90.0f64))),
    );
    add(
        "lng",
        C::Geolocation,
        Box::new(|r| format!("{:.6}", r.random_range(-180.0..180.0f64))),
    );
    add(
        "col_geo",
        C::Geolocation,
        Box::new(|r| {
            format!(
                "{:.5}, {:.5}",
                r.random_range(-90.0..90.0f64),
                r.random_range(-180.0..180.0f64)
            )
        }),
    );
    add("username", C::Username, per_locale!(internet::Username, 0));
    add(
        "benutzername",
        C::Username,
        per_locale!(internet::Username, 2),
    );
    add(
        "password_hash",
        C::PasswordHash,
        Box::new(|r| {
            format!(
                "$2b$12${}",
                (0..53)
                    .map(|_| char::from(b'a' + r.random_range(0..26u8)))
                    .collect::<String>()
            )
        }),
    );
    add(
        "col_pw",
        C::PasswordHash,
        Box::new(|r| format!("$argon2id$v=19$m=65536,t=3,p=4${}", digits(r, 22))),
    );
    add(
        "passwort",
        C::PasswordHash,
        Box::new(|r| {
            (0..64)
                .map(|_| char::from(b"0123456789abcdef"[r.random_range(0..16)]))
                .collect()
        }),
    );
    add(
        "linkedin",
        C::PersonalUrl,
        Box::new(|r| {
            format!(
                "https://www.linkedin.com/in/{}",
                internet::Username(EN).fake_with_rng::<String, _>(r)
            )
        }),
    );
    add(
        "col_url",
        C::PersonalUrl,
        Box::new(|r| {
            format!(
                "https://github.com/{}",
                internet::Username(EN).fake_with_rng::<String, _>(r)
            )
        }),
    );
    add(
        "license_plate",
        C::LicensePlate,
        Box::new(|r| {
            format!(
                "{}{}-{}-{}{}",
                char::from(b'A' + r.random_range(0..26u8)),
                char::from(b'A' + r.random_range(0..26u8)),
                digits(r, 3),
                char::from(b'A' + r.random_range(0..26u8)),
                char::from(b'A' + r.random_range(0..26u8))
            )
        }),
    );
    add(
        "kennzeichen",
        C::LicensePlate,
        Box::new(|r| {
            format!(
                "M-{}{} {}",
                char::from(b'A' + r.random_range(0..26u8)),
                char::from(b'A' + r.random_range(0..26u8)),
                digits(r, 4)
            )
        }),
    );
    add(
        "diagnosis",
        C::Health,
        Box::new(|r| pick(r, &["E11.9", "J45.909", "I10", "F32.1", "M54.5", "K21.0"]).to_owned()),
    );
    add(
        "medical_condition",
        C::Health,
        Box::new(|r| {
            pick(
                r,
                &[
                    "asthma",
                    "type 2 diabetes",
                    "hypertension",
                    "migraine",
                    "depression",
                ],
            )
            .to_owned()
        }),
    );
    add(
        "gender",
        C::Gender,
        Box::new(|r| pick(r, &["M", "F", "X"]).to_owned()),
    );
    add(
        "geschlecht",
        C::Gender,
        Box::new(|r| pick(r, &["männlich", "weiblich", "divers"]).to_owned()),
    );
    add(
        "col_sex",
        C::Gender,
        Box::new(|r| pick(r, &["male", "female", "other", "female", "male"]).to_owned()),
    );
    add(
        "ethnicity",
        C::EthnicOrigin,
        Box::new(|r| pick(r, &["White", "Black", "Asian", "Hispanic", "Mixed"]).to_owned()),
    );
    add(
        "origine_ethnique",
        C::EthnicOrigin,
        Box::new(|r| pick(r, &["blanc", "noir", "maghrebin", "asiatique"]).to_owned()),
    );
    add(
        "religion",
        C::Religion,
        Box::new(|r| {
            pick(
                r,
                &[
                    "Catholic",
                    "Protestant",
                    "Muslim",
                    "Jewish",
                    "None",
                    "Hindu",
                ],
            )
            .to_owned()
        }),
    );
    add(
        "konfession",
        C::Religion,
        Box::new(|r| pick(r, &["katholisch", "evangelisch", "konfessionslos"]).to_owned()),
    );
    add(
        "salary",
        C::Salary,
        Box::new(|r| format!("{}", r.random_range(25_000..180_000))),
    );
    add(
        "gehalt",
        C::Salary,
        Box::new(|r| format!("{:.2}", r.random_range(2_000.0..9_000.0f64))),
    );
    add(
        "salaire_annuel",
        C::Salary,
        Box::new(|r| format!("{}", r.random_range(20_000..90_000))),
    );
    add(
        "notes",
        C::FreeTextWithPii,
        Box::new(|r| {
            let s: String = lorem::Sentence(EN, 5..9).fake_with_rng(r);
            if r.random_bool(0.4) {
                format!(
                    "{s} Contact {} if needed.",
                    internet::SafeEmail(EN).fake_with_rng::<String, _>(r)
                )
            } else {
                s
            }
        }),
    );
    add(
        "kommentar",
        C::FreeTextWithPii,
        Box::new(|r| {
            let s: String = lorem::Sentence(EN, 5..9).fake_with_rng(r);
            if r.random_bool(0.3) {
                format!(
                    "Rückruf unter +49 30 {} {}. {s}",
                    digits(r, 4),
                    digits(r, 4)
                )
            } else {
                s
            }
        }),
    );
    add(
        "col_text",
        C::FreeTextWithPii,
        Box::new(|r| {
            let s: String = lorem::Sentence(EN, 6..10).fake_with_rng(r);
            if r.random_bool(0.3) {
                format!("{s} paid with card 4111 1111 1111 1111")
            } else {
                s
            }
        }),
    );

    // Hard negatives.
    add(
        "id",
        C::None,
        Box::new(|r| {
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                r.random::<u32>(),
                r.random::<u16>(),
                r.random_range(0..4096u16),
                r.random_range(0..4096u16),
                r.random::<u64>() & 0xffff_ffff_ffff
            )
        }),
    );
    add(
        "sku",
        C::None,
        Box::new(|r| format!("SKU-{}-{}", digits(r, 5), pick(r, &["S", "M", "L", "XL"]))),
    );
    add(
        "order_date",
        C::None,
        Box::new(|r| {
            format!(
                "{}-{:02}-{:02}",
                r.random_range(2021..2026),
                r.random_range(1..13),
                r.random_range(1..29)
            )
        }),
    );
    add(
        "created_at",
        C::None,
        Box::new(|r| {
            format!(
                "{}-{:02}-{:02}T{:02}:{:02}:00Z",
                r.random_range(2023..2026),
                r.random_range(1..13),
                r.random_range(1..29),
                r.random_range(0..24),
                r.random_range(0..60)
            )
        }),
    );
    add(
        "product_name",
        C::None,
        Box::new(|r| {
            format!(
                "{} {} {}",
                pick(r, &["Ergonomic", "Rustic", "Sleek", "Small", "Handmade"]),
                pick(r, &["Steel", "Wooden", "Cotton", "Granite"]),
                pick(r, &["Chair", "Table", "Shoes", "Gloves", "Lamp"])
            )
        }),
    );
    add(
        "col_product",
        C::None,
        Box::new(|r| {
            format!(
                "{} {}",
                pick(r, &["Deluxe", "Classic", "Mini", "Pro"]),
                pick(r, &["Blender", "Kettle", "Toaster", "Grinder"])
            )
        }),
    );
    add(
        "phone_model",
        C::None,
        Box::new(|r| {
            pick(
                r,
                &["iPhone 14", "Pixel 8", "Galaxy S23", "Moto G", "Xperia 5"],
            )
            .to_owned()
        }),
    );
    add(
        "email_verified",
        C::None,
        Box::new(|r| pick(r, &["true", "false"]).to_owned()),
    );
    add(
        "quantity",
        C::None,
        Box::new(|r| format!("{}", r.random_range(1..50))),
    );
    add(
        "unit_price",
        C::None,
        Box::new(|r| format!("{:.2}", r.random_range(1.0..500.0f64))),
    );
    add(
        "status",
        C::None,
        Box::new(|r| pick(r, &["placed", "shipped", "completed", "returned"]).to_owned()),
    );
    add("company", C::None, per_locale!(company::CompanyName, 0));
    add(
        "country_code",
        C::None,
        Box::new(|r| pick(r, &["US", "DE", "FR", "NL", "ES", "PT", "IT"]).to_owned()),
    );
    add(
        "currency",
        C::None,
        Box::new(|r| pick(r, &["EUR", "USD", "GBP"]).to_owned()),
    );
    add(
        "description",
        C::None,
        Box::new(|r| lorem::Sentence(EN, 6..12).fake_with_rng(r)),
    );
    add(
        "user_id",
        C::None,
        Box::new(|r| format!("{}", r.random_range(1..1_000_000))),
    );
    add(
        "session_token",
        C::None,
        Box::new(|r| {
            (0..32)
                .map(|_| char::from(b"0123456789abcdef"[r.random_range(0..16)]))
                .collect()
        }),
    );
    add(
        "color",
        C::None,
        Box::new(|r| format!("#{:06x}", r.random_range(0..0xffffffu32))),
    );
    add(
        "rating",
        C::None,
        Box::new(|r| format!("{}", r.random_range(1..6))),
    );
    add(
        "is_active",
        C::None,
        Box::new(|r| pick(r, &["0", "1"]).to_owned()),
    );
    add(
        "product_url",
        C::None,
        Box::new(|r| format!("https://shop.example.com/p/{}", r.random_range(1..99999))),
    );
    add(
        "file_name",
        C::None,
        Box::new(|r| format!("report_{}.csv", r.random_range(1..999))),
    );
    add(
        "order_total",
        C::None,
        Box::new(|r| format!("{:.2}", r.random_range(5.0..900.0f64))),
    );
    add(
        "tracking_number",
        C::None,
        Box::new(|r| format!("1Z{}", digits(r, 16))),
    );
    add(
        "warehouse",
        C::None,
        Box::new(|r| pick(r, &["North", "South", "Central"]).to_owned()),
    );
    add(
        "category",
        C::None,
        Box::new(|r| pick(r, &["Books", "Garden", "Toys", "Music"]).to_owned()),
    );
    add(
        "version",
        C::None,
        Box::new(|r| {
            format!(
                "{}.{}.{}",
                r.random_range(0..5),
                r.random_range(0..20),
                r.random_range(0..50)
            )
        }),
    );
    add(
        "discount_code",
        C::None,
        Box::new(|r| format!("SAVE{}", r.random_range(5..50))),
    );
    add(
        "col_amount",
        C::None,
        Box::new(|r| format!("{}", r.random_range(100..99999))),
    );
    add(
        "shipping_method",
        C::None,
        Box::new(|r| pick(r, &["standard", "express", "pickup"]).to_owned()),
    );
    out
}

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

#[test]
fn macro_f1_on_the_labelled_set_is_at_least_0_9() {
    let mut rng = StdRng::seed_from_u64(20_261_206);
    let mut samples = Vec::new();
    let mut truth = Vec::new();
    for (name, category, mut generate) in columns() {
        let values: Vec<String> = (0..ROWS).map(|_| generate(&mut rng)).collect();
        samples.push(ColumnSample::new(name, values));
        truth.push(category);
    }
    let results = classify_table(&samples);
    let mut counts: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut errors = Vec::new();
    for ((sample, expected), got) in samples.iter().zip(&truth).zip(&results) {
        if got.category == *expected {
            counts.entry(expected.id()).or_default().tp += 1;
        } else {
            counts.entry(expected.id()).or_default().fn_ += 1;
            counts.entry(got.category.id()).or_default().fp += 1;
            errors.push(format!(
                "{}: expected {expected}, got {} ({:?}); values {:?}",
                sample.name,
                got.category,
                got.evidence,
                &sample.values[..3]
            ));
        }
    }
    println!(
        "{:<20} {:>9} {:>7} {:>6} {:>8}",
        "category", "precision", "recall", "F1", "columns"
    );
    let mut f1s = Vec::new();
    for (cat, c) in &counts {
        let p = if c.tp + c.fp == 0 {
            0.0
        } else {
            c.tp as f64 / (c.tp + c.fp) as f64
        };
        let r = if c.tp + c.fn_ == 0 {
            0.0
        } else {
            c.tp as f64 / (c.tp + c.fn_) as f64
        };
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        println!("{cat:<20} {p:>9.3} {r:>7.3} {f1:>6.3} {:>8}", c.tp + c.fn_);
        f1s.push(f1);
    }
    let macro_f1 = f1s.iter().sum::<f64>() / f1s.len() as f64;
    println!(
        "macro-F1 {macro_f1:.3} over {} categories, {} columns",
        f1s.len(),
        samples.len()
    );
    for e in &errors {
        println!("miss: {e}");
    }
    assert!(macro_f1 >= 0.9, "macro-F1 {macro_f1:.3} < 0.9");
}
