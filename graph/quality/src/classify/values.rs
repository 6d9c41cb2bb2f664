//! Value validators: each says whether one value is an instance of a pattern, checking
//! checksums where the format has one (Luhn, IBAN mod-97, national-id check digits).

use std::net::{Ipv4Addr, Ipv6Addr};

/// `local@domain.tld`, without spaces.
pub(crate) fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() < 4 || v.contains(char::is_whitespace) {
        return false;
    }
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !host.is_empty()
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !local.contains('@')
}

/// Every email address inside free text.
pub(crate) fn contains_email(text: &str) -> bool {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')' | '"' | '\'')
    })
    .map(|w| w.trim_end_matches(['.', ':', '!', '?']))
    .any(is_email)
}

/// The digits of a value that may contain spaces, dashes, dots, slashes and parentheses.
fn digits_only(v: &str) -> Option<String> {
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Looks like a calendar date (so that dates are never phone numbers or ids).
pub(crate) fn looks_like_date(v: &str) -> bool {
    parse_date(v).is_some()
}

/// A telephone number: 7 to 15 digits, written with a leading `+` or `00`, a trunk `0`, or
/// with separators; an extension (`x123`, `ext. 12`) may follow. Plain integers are not
/// phone numbers here, nor are dates.
pub(crate) fn is_phone(v: &str) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    let main = lower
        .split_once('x')
        .or_else(|| lower.split_once("ext"))
        .map_or(lower.as_str(), |(m, ext)| {
            if ext
                .trim_start_matches(['.', ' '])
                .chars()
                .all(|c| c.is_ascii_digit())
            {
                m
            } else {
                ""
            }
        })
        .trim();
    if main.is_empty() || looks_like_date(main) {
        return false;
    }
    let (plus, rest) = match main.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, main),
    };
    let Some(digits) = digits_only(rest) else {
        return false;
    };
    if !(7..=15).contains(&digits.len()) {
        return false;
    }
    let separated = rest
        .chars()
        .any(|c| matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'));
    // Decimal numbers such as 1234.5678 are not phone numbers.
    let decimal = rest.matches('.').count() == 1 && !rest.contains([' ', '-', '(', ')']);
    (plus || separated || digits.starts_with('0')) && !decimal
}

/// Phone numbers inside free text: runs of digits and separators.
pub(crate) fn contains_phone(text: &str) -> bool {
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('!')) {
        if c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+' | '.') {
            run.push(c);
        } else {
            let cand = run.trim().trim_end_matches('.');
            if cand.chars().filter(char::is_ascii_digit).count() >= 9 && is_phone(cand) {
                return true;
            }
            run.clear();
        }
    }
    false
}

/// The Luhn checksum.
pub(crate) fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// A payment card number: 13 to 19 digits (spaces or dashes allowed), an issuer prefix
/// (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro), and the Luhn check.
pub(crate) fn is_credit_card(v: &str) -> bool {
    let mut digits = String::new();
    for c in v.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return false,
        }
    }
    (13..=19).contains(&digits.len())
        && matches!(digits.as_bytes()[0], b'2'..=b'6')
        && !digits.bytes().all(|b| b == digits.as_bytes()[0])
        && luhn(&digits)
}

/// Card numbers inside free text.
pub(crate) fn contains_credit_card(text: &str) -> bool {
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('!')) {
        if c.is_ascii_digit() || c == ' ' || c == '-' {
            run.push(c);
        } else {
            if run.chars().filter(char::is_ascii_digit).count() >= 13 && is_credit_card(run.trim())
            {
                return true;
            }
            run.clear();
        }
    }
    false
}

/// IBAN lengths by country (ISO 13616 registry, the SEPA countries and more).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("BR", 29),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
];

/// An IBAN: a known country, its length, and the mod-97 check.
pub(crate) fn is_iban(v: &str) -> bool {
    let compact: String = v
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.len() < 15 || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (country, _) = compact.split_at(2);
    let Some((_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != *len || !compact[2..4].chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let n = match c.to_digit(36) {
            Some(n) => n,
            None => return false,
        };
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

/// A US social security number written `ddd-dd-dddd` (or with spaces), within the
/// issued ranges: no 000, 666 or 9xx area, no 00 group, no 0000 serial.
pub(crate) fn is_us_ssn(v: &str) -> bool {
    let parts: Vec<&str> = v.trim().split(['-', ' ']).collect();
    if parts.len() != 3 || parts.iter().map(|p| p.len()).collect::<Vec<_>>() != [3, 2, 4] {
        return false;
    }
    if !parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let area = parts[0];
    area != "000"
        && area != "666"
        && !area.starts_with('9')
        && parts[1] != "00"
        && parts[2] != "0000"
}

/// A Spanish DNI (8 digits and a check letter) or NIE (X/Y/Z, 7 digits, letter).
pub(crate) fn is_es_dni(v: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let v = v.trim().to_ascii_uppercase().replace('-', "");
    if v.len() != 9 || !v.is_ascii() {
        return false;
    }
    let (num, letter) = v.split_at(8);
    let num = match num.as_bytes()[0] {
        b'X' => format!("0{}", &num[1..]),
        b'Y' => format!("1{}", &num[1..]),
        b'Z' => format!("2{}", &num[1..]),
        _ => num.to_owned(),
    };
    let Ok(n) = num.parse::<u32>() else {
        return false;
    };
    num.chars().all(|c| c.is_ascii_digit()) && letter.as_bytes()[0] == LETTERS[(n % 23) as usize]
}

/// A Dutch BSN: 9 digits passing the eleven test.
pub(crate) fn is_nl_bsn(v: &str) -> bool {
    let d: Vec<u32> = v.trim().chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 9 || v.trim().len() != 9 || d[0] == 0 && d[1] == 0 {
        return false;
    }
    let sum: i64 = d
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, x)| i64::from(*x) * (9 - i as i64))
        .sum::<i64>()
        - i64::from(d[8]);
    sum % 11 == 0 && sum != 0
}

/// A French NIR (social security number): 13 digits and a 2-digit key, 97 - (n mod 97).
pub(crate) fn is_fr_nir(v: &str) -> bool {
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() != 15 || !compact.is_ascii() || !matches!(compact.as_bytes()[0], b'1' | b'2') {
        return false;
    }
    // Corsica's departments 2A and 2B count as 19 and 18.
    let body = compact[..13].replace("2A", "19").replace("2B", "18");
    let (Ok(n), Ok(key)) = (body.parse::<u64>(), compact[13..].parse::<u64>()) else {
        return false;
    };
    97 - n % 97 == key
}

/// A Portuguese NIF: 9 digits with a mod-11 check digit.
pub(crate) fn is_pt_nif(v: &str) -> bool {
    let d: Vec<u32> = v.trim().chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 9 || v.trim().len() != 9 || !matches!(d[0], 1 | 2 | 3 | 5 | 6 | 8 | 9) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, x)| x * (9 - i as u32))
        .sum();
    let check = 11 - sum % 11;
    d[8] == if check >= 10 { 0 } else { check }
}

/// A Brazilian CPF written `ddd.ddd.ddd-dd`, with both check digits.
pub(crate) fn is_br_cpf(v: &str) -> bool {
    let v = v.trim();
    let b = v.as_bytes();
    if v.len() != 14 || b[3] != b'.' || b[7] != b'.' || b[11] != b'-' {
        return false;
    }
    let d: Vec<u32> = v.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 11 || d.iter().all(|x| *x == d[0]) {
        return false;
    }
    let check = |n: usize| {
        let s: u32 = d
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, x)| x * (n as u32 + 1 - i as u32))
            .sum();
        let r = (s * 10) % 11;
        if r == 10 { 0 } else { r }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// An Italian codice fiscale: 16 characters in its layout, with the check letter.
pub(crate) fn is_it_codice_fiscale(v: &str) -> bool {
    const ODD: [u32; 36] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
        6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
    ];
    let v = v.trim().to_ascii_uppercase();
    let b = v.as_bytes();
    if b.len() != 16 {
        return false;
    }
    let layout = b[..6].iter().all(u8::is_ascii_alphabetic)
        && b[8].is_ascii_alphabetic()
        && b[11].is_ascii_alphabetic()
        && b[15].is_ascii_alphabetic()
        && b.iter().all(u8::is_ascii_alphanumeric);
    if !layout {
        return false;
    }
    let value = |c: u8| -> usize {
        if c.is_ascii_digit() {
            (c - b'0') as usize
        } else {
            (c - b'A') as usize + 10
        }
    };
    let mut sum = 0u32;
    for (i, &c) in b[..15].iter().enumerate() {
        let idx = value(c);
        sum += if i % 2 == 0 {
            ODD[idx]
        } else if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        };
    }
    u32::from(b[15] - b'A') == sum % 26
}

/// A UK National Insurance number: two letters, six digits, A to D.
pub(crate) fn is_uk_nino(v: &str) -> bool {
    let c: String = v
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = c.as_bytes();
    b.len() == 9
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && !matches!(b[0], b'D' | b'F' | b'I' | b'Q' | b'U' | b'V')
        && !matches!(b[1], b'D' | b'F' | b'I' | b'O' | b'Q' | b'U' | b'V')
        && b[2..8].iter().all(u8::is_ascii_digit)
        && matches!(b[8], b'A'..=b'D')
}

/// Which national-id format a value passes, if any.
pub(crate) fn national_id(v: &str) -> Option<&'static str> {
    if is_us_ssn(v) {
        Some("US SSN")
    } else if is_fr_nir(v) {
        Some("FR NIR key")
    } else if is_es_dni(v) {
        Some("ES DNI/NIE check letter")
    } else if is_br_cpf(v) {
        Some("BR CPF check digits")
    } else if is_it_codice_fiscale(v) {
        Some("IT codice fiscale check letter")
    } else if is_uk_nino(v) {
        Some("UK NINO")
    } else {
        None
    }
}

/// Checksummed 9-digit ids (Dutch BSN, Portuguese NIF): too easy to hit by chance for
/// arbitrary numbers, so they count only under a column name that asks for an id.
pub(crate) fn national_id_digits(v: &str) -> Option<&'static str> {
    if is_nl_bsn(v) {
        Some("NL BSN eleven test")
    } else if is_pt_nif(v) {
        Some("PT NIF check digit")
    } else if v.trim().len() == 9
        && v.trim().chars().all(|c| c.is_ascii_digit())
        && is_us_ssn(&format!(
            "{}-{}-{}",
            &v.trim()[..3],
            &v.trim()[3..5],
            &v.trim()[5..]
        ))
    {
        Some("US SSN digits")
    } else {
        None
    }
}

pub(crate) fn is_ipv4(v: &str) -> bool {
    v.trim().parse::<Ipv4Addr>().is_ok()
}

pub(crate) fn is_ipv6(v: &str) -> bool {
    let v = v.trim();
    v.contains(':') && v.parse::<Ipv6Addr>().is_ok()
}

/// `aa:bb:cc:dd:ee:ff`, `aa-bb-...`, or `aabb.ccdd.eeff`.
pub(crate) fn is_mac(v: &str) -> bool {
    let v = v.trim();
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    for sep in [':', '-'] {
        let parts: Vec<&str> = v.split(sep).collect();
        if parts.len() == 6 && parts.iter().all(|p| hex(p, 2)) {
            return true;
        }
    }
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| hex(p, 4))
}

/// Postal-code formats that are distinctive on their own: US ZIP+4, UK, Canadian, Dutch,
/// Brazilian CEP and Portuguese codes.
pub(crate) fn is_distinctive_postal_code(v: &str) -> bool {
    let v = v.trim().to_ascii_uppercase();
    let b = v.as_bytes();
    let d = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    let a = |x: &[u8]| x.iter().all(u8::is_ascii_alphabetic);
    // 12345-6789, 12345-678 (BR), 1234-567 (PT)
    if let Some((l, r)) = v.split_once('-') {
        return d(l.as_bytes())
            && d(r.as_bytes())
            && matches!((l.len(), r.len()), (5, 4) | (5, 3) | (4, 3));
    }
    // 1234 AB (NL)
    if b.len() == 7 && d(&b[..4]) && b[4] == b' ' && a(&b[5..]) {
        return true;
    }
    // A1A 1A1 (CA)
    if b.len() == 7 && b[3] == b' ' {
        let c = [b[0], b[1], b[2], b[4], b[5], b[6]];
        return c.iter().enumerate().all(|(i, x)| {
            if i % 2 == 0 {
                x.is_ascii_alphabetic()
            } else {
                x.is_ascii_digit()
            }
        });
    }
    // UK: outward code (A9, A99, AA9, AA99, A9A, AA9A), a space, inward code (9AA).
    if let Some((out, inward)) = v.split_once(' ') {
        let ob = out.as_bytes();
        let ib = inward.as_bytes();
        let inward_ok = ib.len() == 3 && ib[0].is_ascii_digit() && a(&ib[1..]);
        let outward_ok = (2..=4).contains(&ob.len())
            && ob[0].is_ascii_alphabetic()
            && ob.iter().any(u8::is_ascii_digit)
            && ob.iter().all(u8::is_ascii_alphanumeric);
        return inward_ok && outward_ok;
    }
    false
}

/// Any postal-code format, including bare 4- and 5-digit codes (which need a column name).
pub(crate) fn is_postal_code(v: &str) -> bool {
    let t = v.trim();
    is_distinctive_postal_code(t)
        || ((4..=5).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit()))
}

/// A date as (year, month, day): `YYYY-MM-DD` (with an optional time), `DD/MM/YYYY`,
/// `MM/DD/YYYY`, `DD.MM.YYYY` or `DD-MM-YYYY`.
pub(crate) fn parse_date(v: &str) -> Option<(i32, u32, u32)> {
    let v = v.trim();
    let date = v.split(['T', ' ']).next()?;
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (y, m, d) = if parts[0].len() == 4 {
        (n[0], n[1], n[2])
    } else if parts[2].len() == 4 {
        if n[0] > 12 {
            (n[2], n[1], n[0])
        } else if n[1] > 12 {
            (n[2], n[0], n[1])
        } else {
            (n[2], n[1], n[0])
        }
    } else {
        return None;
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d) && (1000..=9999).contains(&y))
        .then_some((y as i32, m, d))
}

/// Password hashes in their usual encodings: crypt(3) (`$2b$`, `$argon2id$`, `$6$`, ...),
/// LDAP (`{SSHA}`), Django (`pbkdf2_sha256$`).
pub(crate) fn is_password_hash(v: &str) -> bool {
    let v = v.trim();
    (v.starts_with("$2a$") || v.starts_with("$2b$") || v.starts_with("$2y$")) && v.len() == 60
        || v.starts_with("$argon2")
        || v.starts_with("$scrypt$")
        || v.starts_with("$pbkdf2")
        || v.starts_with("pbkdf2_sha256$")
        || v.starts_with("bcrypt$")
        || ((v.starts_with("$1$") || v.starts_with("$5$") || v.starts_with("$6$"))
            && v.matches('$').count() >= 3)
        || v.starts_with("{SSHA}")
        || v.starts_with("{SHA}")
        || v.starts_with("{SSHA512}")
}

/// A bare hex digest (MD5, SHA-1, SHA-256, SHA-512): a hash only under a password name.
pub(crate) fn is_hex_digest(v: &str) -> bool {
    let v = v.trim();
    matches!(v.len(), 32 | 40 | 64 | 128) && v.chars().all(|c| c.is_ascii_hexdigit())
}

/// A UUID, which is an identifier of a record, not of a person.
pub(crate) fn is_uuid(v: &str) -> bool {
    let v = v.trim();
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A URL of a personal profile on a social or code-hosting site.
pub(crate) fn is_profile_url(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    let Some(rest) = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
    else {
        return false;
    };
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    [
        "linkedin.com/in/",
        "twitter.com/",
        "x.com/",
        "facebook.com/",
        "instagram.com/",
        "github.com/",
        "gitlab.com/",
        "tiktok.com/@",
        "youtube.com/@",
        "medium.com/@",
        "mastodon.social/@",
        "xing.com/profile/",
    ]
    .iter()
    .any(|p| rest.starts_with(p) && rest.len() > p.len())
}

/// Any http(s) URL.
pub(crate) fn is_url(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    (v.starts_with("http://") || v.starts_with("https://")) && !v.contains(' ') && v.len() > 10
}

/// A number, possibly with a decimal point or comma, a sign, a currency sign or thousands
/// separators.
pub(crate) fn parse_number(v: &str) -> Option<f64> {
    let t: String = v
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .trim_end_matches(['€', '$', '£'])
        .trim()
        .chars()
        .filter(|c| *c != '_' && *c != '\'')
        .collect();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>()
        .ok()
        .or_else(|| t.replace(',', "").parse::<f64>().ok())
        .filter(|f| f.is_finite())
}

/// Decimal degrees with at least three decimals, within `limit` of zero.
pub(crate) fn is_coordinate(v: &str, limit: f64) -> bool {
    let t = v.trim();
    let decimals = t.split_once('.').map_or(0, |(_, d)| d.len());
    decimals >= 3 && parse_number(t).is_some_and(|f| f.abs() <= limit)
}

/// `lat, lon` pairs and `POINT(lon lat)`.
pub(crate) fn is_coordinate_pair(v: &str) -> bool {
    let t = v.trim();
    if let Some(inner) = t.strip_prefix("POINT(").and_then(|r| r.strip_suffix(')')) {
        let p: Vec<&str> = inner.split_whitespace().collect();
        return p.len() == 2 && is_coordinate(p[0], 180.0) && is_coordinate(p[1], 90.0);
    }
    let p: Vec<&str> = t.split(',').map(str::trim).collect();
    p.len() == 2 && is_coordinate(p[0], 90.0) && is_coordinate(p[1], 180.0)
}

/// Licence-plate layouts (FR `AB-123-CD`, DE `B-AB 1234`, NL `12-ABC-3`, UK `AB12 CDE`, ...):
/// letters and digits in 2 to 4 groups. Only under a plate column name.
pub(crate) fn is_plate_like(v: &str) -> bool {
    let t = v.trim().to_ascii_uppercase();
    let groups: Vec<&str> = t.split([' ', '-']).filter(|g| !g.is_empty()).collect();
    (2..=4).contains(&groups.len())
        && (4..=10).contains(&t.chars().filter(char::is_ascii_alphanumeric).count())
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Passport-number layouts: 6 to 9 letters and digits, at least 5 digits.
pub(crate) fn is_passport_like(v: &str) -> bool {
    let t = v.trim();
    (6..=9).contains(&t.len())
        && t.chars().all(|c| c.is_ascii_alphanumeric())
        && t.chars().filter(char::is_ascii_digit).count() >= 5
}

/// ICD-10 codes such as `E11.9` or `J45`.
pub(crate) fn is_icd10(v: &str) -> bool {
    let t = v.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[0] != b'U'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_alphanumeric()
        && (b.len() == 3
            || (b[3] == b'.'
                && (5..=8).contains(&b.len())
                && b[4..].iter().all(u8::is_ascii_alphanumeric)))
}

/// Whether a value is a street address: a house number and a street word, in any of the
/// supported languages (`12 Main Street`, `Hauptstraße 5`, `5 rue de la Paix`, `Calle Mayor 3`).
pub(crate) fn is_street_address(v: &str) -> bool {
    const WORDS: &[&str] = &[
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "way",
        "court",
        "ct",
        "place",
        "pl",
        "square",
        "terrace",
        "close",
        "crescent",
        "highway",
        "parkway",
        "trail",
        "circle",
        "suite",
        "apt",
        "strasse",
        "str",
        "weg",
        "platz",
        "allee",
        "gasse",
        "ring",
        "damm",
        "rue",
        "avenue",
        "chemin",
        "impasse",
        "allee",
        "quai",
        "calle",
        "avenida",
        "av",
        "plaza",
        "paseo",
        "camino",
        "carrer",
        "rua",
        "travessa",
        "largo",
        "praca",
        "estrada",
        "via",
        "viale",
        "piazza",
        "corso",
        "vicolo",
        "straat",
        "laan",
        "plein",
        "gracht",
        "kade",
        "dreef",
        "singel",
    ];
    let folded = super::names::fold(v);
    let has_number = folded.split(|c: char| !c.is_alphanumeric()).any(|w| {
        !w.is_empty() && w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.len() <= 6
    });
    if !has_number || folded.len() < 6 {
        return false;
    }
    folded.split(|c: char| !c.is_alphanumeric()).any(|w| {
        WORDS.contains(&w)
            || w.ends_with("strasse")
            || w.ends_with("str") && w.len() > 5
            || w.ends_with("straat")
            || w.ends_with("weg") && w.len() > 4
            || w.ends_with("laan") && w.len() > 5
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert!(is_credit_card("4111 1111 1111 1111"));
        assert!(!is_credit_card("4111 1111 1111 1112"));
        assert!(is_credit_card("378282246310005"));
        assert!(is_iban("DE89 3704 0044 0532 0130 00"));
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("GB82WEST12345698765433"));
        assert!(is_us_ssn("123-45-6789"));
        assert!(!is_us_ssn("666-45-6789"));
        assert!(is_es_dni("12345678Z"));
        assert!(!is_es_dni("12345678A"));
        assert!(is_nl_bsn("111222333"));
        assert!(is_fr_nir("185057800608491"));
        assert!(!is_fr_nir("185057800608492"));
        assert!(is_pt_nif("123456789"));
        assert!(is_br_cpf("111.444.777-35"));
        assert!(!is_br_cpf("111.444.777-36"));
        assert!(is_it_codice_fiscale("RSSMRA85T10A562S"));
        assert!(is_uk_nino("AB123456C"));
    }

    #[test]
    fn formats() {
        assert!(is_email("ada@example.com"));
        assert!(!is_email("ada@localhost"));
        assert!(is_phone("+49 30 1234567"));
        assert!(is_phone("(555) 123-4567"));
        assert!(is_phone("1-555-123-4567x123"));
        assert!(is_phone("06 12 34 56 78"));
        assert!(!is_phone("12345678"));
        assert!(!is_phone("2024-05-01"));
        assert!(!is_phone("1234.5678"));
        assert!(is_mac("00:1A:2b:3c:4D:5e"));
        assert!(is_ipv6("2001:db8::1"));
        assert!(!is_ipv6("12:30"));
        assert!(is_distinctive_postal_code("SW1A 1AA"));
        assert!(is_distinctive_postal_code("1012 AB"));
        assert!(is_distinctive_postal_code("94105-1234"));
        assert!(!is_distinctive_postal_code("12345"));
        assert_eq!(parse_date("1985-03-04"), Some((1985, 3, 4)));
        assert_eq!(parse_date("31/12/1990"), Some((1990, 12, 31)));
        assert_eq!(parse_date("12.05.1970 10:00"), Some((1970, 5, 12)));
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_password_hash(
            "$2b$12$abcdefghijklmnopqrstuuJ2qQ6uY4JgK1d7b3l5n8M0sZ2e1x9xW"
        ));
        assert!(is_profile_url("https://www.linkedin.com/in/ada-lovelace"));
        assert!(is_street_address("221B Baker Street"));
        assert!(is_street_address("Hauptstraße 5"));
        assert!(is_street_address("5 rue de la Paix"));
        assert!(!is_street_address("Ergonomic Steel Chair"));
        assert!(is_icd10("E11.9"));
        assert!(is_coordinate_pair("48.8566, 2.3522"));
        assert!(contains_email("please write to ada@example.com."));
        assert!(contains_phone("call me on +44 20 7946 0958 tomorrow"));
        assert!(contains_credit_card(
            "card 4111-1111-1111-1111 was declined"
        ));
    }
}
