//! The deterministic bronze data generator.
//!
//! Every table is drawn from its own SplitMix64 stream derived from one fixed seed, so the
//! output is byte-identical on every run and platform (only integer arithmetic and IEEE
//! `+ - * /` are used).
//!
//! Deliberate data-quality defects, there for the quality rules to find:
//! - customers: 6 rows without email (ids 57, 143, 388, 512, 761, 934);
//!   3 duplicate registrations (ids 1001-1003 re-register customers 42, 314 and 777 with the
//!   email in upper case or padded with spaces); 4 British customers with the legacy country
//!   code `UK` and 3 customers with a lower-case country code.
//! - products: 2 products without a category (ids 5077 and 5161).
//! - orders: order 101235 appears twice (exact duplicate row); order 103211 appears twice
//!   with different statuses (`shipped`, then `completed`); order 102501 has quantity -1
//!   (and negative amounts); order 105000 is dated 2052 (a typo of 2025); order 100778
//!   has the invalid status `complete`; order 104201 references customer 99999, who does
//!   not exist.
//! - support_tickets: ticket 124 was resolved before it was created; ticket 322 has a
//!   satisfaction score of 0 (valid range is 1-5).

use super::dates::{days_from_civil, ms_from_civil};
use super::schema::{self, TableSpec};
use crate::rng::SplitMix64;
use std::collections::HashSet;

/// The fixed seed of the demo data.
pub const SEED: u64 = 0x6776_6772_6170_6801;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// SQL NULL.
    Null,
    /// Integer.
    Int(i64),
    /// Double.
    Float(f64),
    /// Text.
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since the epoch, UTC.
    Ts(i64),
    /// Boolean.
    Bool(bool),
}

fn t(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

/// A generated table.
#[derive(Debug)]
pub struct Table {
    /// Its schema.
    pub spec: &'static TableSpec,
    /// Rows, each with one value per column in spec order.
    pub rows: Vec<Vec<Val>>,
}

/// Money rounded to cents.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------
// Dictionaries
// ---------------------------------------------------------------------------------------

struct Country {
    code: &'static str,
    weight: u32,
    first: &'static [&'static str],
    last: &'static [&'static str],
    /// (city, postal-code prefix)
    cities: &'static [(&'static str, &'static str)],
    streets: &'static [&'static str],
    number_first: bool,
    mail_domains: &'static [&'static str],
}

static COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        weight: 25,
        first: &[
            "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
            "Chris", "Ashley", "Daniel", "Emily", "Tyler", "Madison",
        ],
        last: &[
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
            "Martinez",
            "Wilson",
            "Anderson",
            "Taylor",
            "O'Connor",
        ],
        cities: &[
            ("New York", "100"),
            ("Chicago", "606"),
            ("Austin", "787"),
            ("Seattle", "981"),
            ("Boston", "021"),
            ("San Francisco", "941"),
            ("Denver", "802"),
        ],
        streets: &[
            "Maple Street",
            "Oak Avenue",
            "Cedar Lane",
            "Washington Boulevard",
            "Lincoln Road",
            "Park Avenue",
            "Sunset Drive",
            "Elm Street",
        ],
        number_first: true,
        mail_domains: &[
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "icloud.com",
            "aol.com",
        ],
    },
    Country {
        code: "DE",
        weight: 18,
        first: &[
            "Lukas",
            "Anna",
            "Jürgen",
            "Sabine",
            "Maximilian",
            "Lena",
            "Stefan",
            "Katrin",
            "Jonas",
            "Sophie",
            "Björn",
            "Petra",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Koch",
            "Hoffmann",
            "Groß",
        ],
        cities: &[
            ("Berlin", "10"),
            ("Hamburg", "20"),
            ("München", "80"),
            ("Köln", "50"),
            ("Frankfurt am Main", "60"),
            ("Leipzig", "04"),
        ],
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Gartenweg",
            "Schillerstraße",
            "Goethestraße",
            "Lindenallee",
            "Berliner Straße",
            "Mühlenweg",
        ],
        number_first: false,
        mail_domains: &["web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de"],
    },
    Country {
        code: "FR",
        weight: 14,
        first: &[
            "Camille",
            "Louis",
            "Léa",
            "Hugo",
            "Chloé",
            "Lucas",
            "Manon",
            "François",
            "Hélène",
            "Mathis",
            "Inès",
            "Théo",
        ],
        last: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Lefèvre", "Moreau", "Girard", "Rousseau",
        ],
        cities: &[
            ("Paris", "750"),
            ("Lyon", "690"),
            ("Marseille", "130"),
            ("Toulouse", "310"),
            ("Bordeaux", "330"),
            ("Lille", "590"),
        ],
        streets: &[
            "rue de la Paix",
            "avenue Victor Hugo",
            "boulevard Voltaire",
            "rue des Lilas",
            "place de la République",
            "rue Pasteur",
            "rue du Moulin",
        ],
        number_first: true,
        mail_domains: &["orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr"],
    },
    Country {
        code: "GB",
        weight: 14,
        first: &[
            "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Grace", "Charlie",
            "Freya", "Thomas", "Poppy",
        ],
        last: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
            "Roberts", "Walker", "Wright", "O'Brien",
        ],
        cities: &[
            ("London", "SW1A"),
            ("London", "EC1V"),
            ("Manchester", "M1"),
            ("Birmingham", "B1"),
            ("Leeds", "LS1"),
            ("Edinburgh", "EH1"),
            ("Bristol", "BS1"),
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Green Lane",
            "Manor Road",
            "Queen's Road",
        ],
        number_first: true,
        mail_domains: &[
            "btinternet.com",
            "gmail.com",
            "hotmail.co.uk",
            "outlook.com",
            "sky.com",
        ],
    },
    Country {
        code: "ES",
        weight: 9,
        first: &[
            "María",
            "José",
            "Lucía",
            "Javier",
            "Carmen",
            "Alejandro",
            "Sofía",
            "Pablo",
            "Elena",
            "Sergio",
        ],
        last: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Núñez",
            "Romero",
        ],
        cities: &[
            ("Madrid", "280"),
            ("Barcelona", "080"),
            ("Valencia", "460"),
            ("Sevilla", "410"),
            ("Bilbao", "480"),
        ],
        streets: &[
            "Calle Mayor",
            "Avenida de la Constitución",
            "Calle de Alcalá",
            "Paseo de Gracia",
            "Calle Real",
            "Plaza de España",
        ],
        number_first: false,
        mail_domains: &["gmail.com", "hotmail.es", "telefonica.net", "yahoo.es"],
    },
    Country {
        code: "NL",
        weight: 8,
        first: &[
            "Daan", "Emma", "Sem", "Julia", "Lars", "Sanne", "Bram", "Fleur", "Thijs", "Lotte",
        ],
        last: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
        ],
        cities: &[
            ("Amsterdam", "10"),
            ("Rotterdam", "30"),
            ("Utrecht", "35"),
            ("Den Haag", "25"),
            ("Eindhoven", "56"),
        ],
        streets: &[
            "Kerkstraat",
            "Dorpsstraat",
            "Molenweg",
            "Stationsweg",
            "Prinsengracht",
            "Julianalaan",
        ],
        number_first: false,
        mail_domains: &["ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl"],
    },
    Country {
        code: "IT",
        weight: 8,
        first: &[
            "Giulia",
            "Francesco",
            "Chiara",
            "Alessandro",
            "Martina",
            "Lorenzo",
            "Sara",
            "Matteo",
            "Nicolò",
            "Federica",
        ],
        last: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco",
        ],
        cities: &[
            ("Roma", "001"),
            ("Milano", "201"),
            ("Napoli", "801"),
            ("Torino", "101"),
            ("Firenze", "501"),
            ("Bologna", "401"),
        ],
        streets: &[
            "Via Roma",
            "Via Garibaldi",
            "Corso Vittorio Emanuele II",
            "Via Dante",
            "Piazza Cavour",
            "Via Mazzini",
        ],
        number_first: false,
        mail_domains: &["libero.it", "gmail.com", "virgilio.it", "tiscali.it"],
    },
    Country {
        code: "PT",
        weight: 4,
        first: &[
            "João", "Maria", "Tiago", "Beatriz", "Rui", "Inês", "Pedro", "Ana", "Gonçalo",
            "Mariana",
        ],
        last: &[
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Martins",
            "Conceição",
            "Sousa",
        ],
        cities: &[
            ("Lisboa", "1"),
            ("Porto", "4"),
            ("Braga", "47"),
            ("Coimbra", "30"),
            ("Faro", "80"),
        ],
        streets: &[
            "Rua Augusta",
            "Avenida da Liberdade",
            "Rua de Santa Catarina",
            "Rua do Carmo",
            "Rua Direita",
            "Travessa do Fala-Só",
        ],
        number_first: false,
        mail_domains: &["sapo.pt", "gmail.com", "hotmail.com", "netcabo.pt"],
    },
];

/// Countries that appear only as shipping destinations (gift orders, forwarding).
static EXTRA_DESTINATIONS: &[&str] = &["CA", "MX", "BR", "JP", "AU", "SG"];

fn region_of(country: &str) -> &'static str {
    match country {
        "US" | "CA" => "NA",
        "MX" | "BR" => "LATAM",
        "JP" | "AU" | "SG" => "APAC",
        _ => "EMEA",
    }
}

fn currency_of(country: &str) -> &'static str {
    match country {
        "GB" => "GBP",
        "DE" | "FR" | "ES" | "NL" | "IT" | "PT" => "EUR",
        _ => "USD",
    }
}

/// Tax rate in percent (VAT in Europe, an average sales tax elsewhere).
fn tax_pct(country: &str) -> f64 {
    match country {
        "DE" => 19.0,
        "FR" | "GB" => 20.0,
        "ES" | "NL" => 21.0,
        "IT" => 22.0,
        "PT" => 23.0,
        "US" => 7.25,
        "CA" => 5.0,
        "JP" | "SG" => 10.0,
        "AU" => 10.0,
        "MX" => 16.0,
        "BR" => 17.0,
        _ => 0.0,
    }
}

/// EUR to the order currency.
fn fx_from_eur(currency: &str) -> f64 {
    match currency {
        "USD" => 1.09,
        "GBP" => 0.85,
        _ => 1.0,
    }
}

struct Subcategory {
    name: &'static str,
    code: &'static str,
    min_price: i64,
    max_price: i64,
    nouns: &'static [&'static str],
}

struct Category {
    name: &'static str,
    code: &'static str,
    brands: &'static [&'static str],
    subs: &'static [Subcategory],
}

static CATEGORIES: &[Category] = &[
    Category {
        name: "Electronics",
        code: "ELE",
        brands: &["Voltara", "Nordlicht", "Pixelwave", "Sonique"],
        subs: &[
            Subcategory {
                name: "Headphones",
                code: "HEA",
                min_price: 29,
                max_price: 349,
                nouns: &[
                    "Wireless Headphones",
                    "Noise-Cancelling Earbuds",
                    "Studio Headphones",
                    "Sport Earphones",
                ],
            },
            Subcategory {
                name: "Smartphones",
                code: "SMA",
                min_price: 149,
                max_price: 1199,
                nouns: &["Smartphone", "Phone", "Foldable Phone"],
            },
            Subcategory {
                name: "Laptops",
                code: "LAP",
                min_price: 399,
                max_price: 2499,
                nouns: &["Laptop", "Ultrabook", "Notebook 14\"", "Gaming Laptop"],
            },
            Subcategory {
                name: "Cameras",
                code: "CAM",
                min_price: 199,
                max_price: 1899,
                nouns: &["Mirrorless Camera", "Action Cam", "Compact Camera"],
            },
            Subcategory {
                name: "Smart Home",
                code: "SMH",
                min_price: 19,
                max_price: 249,
                nouns: &[
                    "Smart Speaker",
                    "Smart Plug",
                    "Video Doorbell",
                    "Thermostat",
                ],
            },
        ],
    },
    Category {
        name: "Home & Kitchen",
        code: "HOM",
        brands: &["Casa Verde", "Ferro & Co", "Hygge Home", "Kitchenly"],
        subs: &[
            Subcategory {
                name: "Cookware",
                code: "COO",
                min_price: 15,
                max_price: 220,
                nouns: &["Cast Iron Pan", "Saucepan Set", "Dutch Oven", "Wok"],
            },
            Subcategory {
                name: "Small Appliances",
                code: "APP",
                min_price: 25,
                max_price: 450,
                nouns: &[
                    "Coffee Grinder",
                    "Espresso Machine",
                    "Blender",
                    "Air Fryer",
                    "Kettle",
                ],
            },
            Subcategory {
                name: "Furniture",
                code: "FUR",
                min_price: 49,
                max_price: 1299,
                nouns: &["Oak Desk", "Lounge Chair", "Bookshelf", "Side Table"],
            },
            Subcategory {
                name: "Bedding",
                code: "BED",
                min_price: 19,
                max_price: 189,
                nouns: &["Duvet Cover", "Linen Sheets", "Pillow", "Weighted Blanket"],
            },
        ],
    },
    Category {
        name: "Fashion",
        code: "FAS",
        brands: &["Atelier Nord", "Urban Thread", "Marée", "Sierra Row"],
        subs: &[
            Subcategory {
                name: "Shoes",
                code: "SHO",
                min_price: 39,
                max_price: 219,
                nouns: &[
                    "Running Shoes",
                    "Leather Sneakers",
                    "Chelsea Boots",
                    "Sandals",
                ],
            },
            Subcategory {
                name: "Jackets",
                code: "JAC",
                min_price: 59,
                max_price: 399,
                nouns: &["Rain Jacket", "Down Parka", "Denim Jacket", "Wool Coat"],
            },
            Subcategory {
                name: "T-Shirts",
                code: "TSH",
                min_price: 9,
                max_price: 49,
                nouns: &["Organic T-Shirt", "Crew Neck Tee", "Polo Shirt"],
            },
            Subcategory {
                name: "Accessories",
                code: "ACC",
                min_price: 9,
                max_price: 149,
                nouns: &["Leather Belt", "Beanie", "Sunglasses", "Tote Bag"],
            },
        ],
    },
    Category {
        name: "Sports & Outdoors",
        code: "SPO",
        brands: &["Trailhawk", "Velocita", "Peak Form"],
        subs: &[
            Subcategory {
                name: "Cycling",
                code: "CYC",
                min_price: 15,
                max_price: 2200,
                nouns: &[
                    "Gravel Bike",
                    "Bike Helmet",
                    "Bike Light Set",
                    "Cycling Jersey",
                ],
            },
            Subcategory {
                name: "Camping",
                code: "CMP",
                min_price: 12,
                max_price: 499,
                nouns: &[
                    "Two-Person Tent",
                    "Sleeping Bag",
                    "Camping Stove",
                    "Headlamp",
                ],
            },
            Subcategory {
                name: "Fitness",
                code: "FIT",
                min_price: 9,
                max_price: 899,
                nouns: &[
                    "Yoga Mat",
                    "Kettlebell",
                    "Rowing Machine",
                    "Resistance Bands",
                ],
            },
        ],
    },
    Category {
        name: "Beauty",
        code: "BEA",
        brands: &["Lumière", "Botanica", "Aqua Vera"],
        subs: &[
            Subcategory {
                name: "Skincare",
                code: "SKI",
                min_price: 6,
                max_price: 89,
                nouns: &["Face Serum", "Sunscreen SPF 50", "Night Cream", "Cleanser"],
            },
            Subcategory {
                name: "Fragrance",
                code: "FRA",
                min_price: 25,
                max_price: 160,
                nouns: &["Eau de Parfum", "Eau de Toilette", "Body Mist"],
            },
            Subcategory {
                name: "Haircare",
                code: "HAI",
                min_price: 5,
                max_price: 59,
                nouns: &["Shampoo", "Conditioner", "Hair Oil"],
            },
        ],
    },
    Category {
        name: "Books & Media",
        code: "BOO",
        brands: &["Penwright Press", "Blue Harbour Books", "Vinyl Yard"],
        subs: &[
            Subcategory {
                name: "Fiction",
                code: "FIC",
                min_price: 8,
                max_price: 29,
                nouns: &["Crime Novel", "Fantasy Trilogy", "Short Stories"],
            },
            Subcategory {
                name: "Non-Fiction",
                code: "NON",
                min_price: 10,
                max_price: 45,
                nouns: &["Cookbook", "Travel Guide", "Biography"],
            },
            Subcategory {
                name: "Music",
                code: "MUS",
                min_price: 9,
                max_price: 39,
                nouns: &["Vinyl LP", "Jazz Collection", "Soundtrack CD"],
            },
        ],
    },
    Category {
        name: "Toys & Games",
        code: "TOY",
        brands: &["Playforge", "Brickhaven", "Meeple & Co"],
        subs: &[
            Subcategory {
                name: "Board Games",
                code: "BRD",
                min_price: 15,
                max_price: 79,
                nouns: &["Strategy Game", "Party Game", "Cooperative Game"],
            },
            Subcategory {
                name: "Puzzles",
                code: "PUZ",
                min_price: 8,
                max_price: 45,
                nouns: &["1000-Piece Puzzle", "3D Puzzle", "Puzzle Box"],
            },
            Subcategory {
                name: "Building Sets",
                code: "BLD",
                min_price: 12,
                max_price: 249,
                nouns: &["Castle Set", "Space Station Set", "City Bus Set"],
            },
        ],
    },
];

static MODEL_SUFFIXES: &[&str] = &[
    "Pro", "Air", "Lite", "Max", "X2", "Classic", "Plus", "Mini", "Ultra", "Go", "S", "One",
];

static USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0 Mobile Safari/537.36",
];

static SEARCH_QUERIES: &[&str] = &[
    "wireless headphones",
    "running shoes",
    "gift for dad",
    "laptop 16gb",
    "yoga mat",
    "coffee grinder",
    "lego castle",
    "winter jacket",
    "sunscreen spf 50",
    "bluetooth speaker",
    "board games for kids",
    "cast iron pan",
    "headphnoes",
    "rain jacket women",
    "espresso machine",
    "puzzle 1000",
    "bike helmet",
    "linen sheets",
    "air fryer",
    "tent 2 person",
    "smart plug",
    "vinyl",
    "parfum",
    "duvet cover",
];

const SHOP_URL: &str = "https://www.lumenretail.example";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn pick<'a>(rng: &mut SplitMix64, items: &'a [&'a str]) -> &'a str {
    rng.pick(items).copied().unwrap_or("")
}

/// Lower-case ASCII folding of a name for email local parts.
fn fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let r = match c {
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'é' | 'è' | 'ê' | 'ë' | 'É' => "e",
            'à' | 'á' | 'â' | 'ã' => "a",
            'í' | 'ì' | 'î' => "i",
            'ó' | 'ò' | 'ô' | 'õ' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ñ' => "n",
            'ç' => "c",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => continue,
        };
        out.push_str(r);
    }
    out
}

fn digits(rng: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn letters(rng: &mut SplitMix64, n: usize) -> String {
    const L: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    (0..n).map(|_| char::from(L[rng.index(L.len())])).collect()
}

fn hex(rng: &mut SplitMix64, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| char::from(H[rng.index(16)])).collect()
}

fn phone(rng: &mut SplitMix64, country: &str) -> String {
    let mut d = |n| digits(rng, n);
    match country {
        "US" => {
            let area = ["212", "312", "512", "206", "617", "415", "303"];
            let a = area[(d(1).as_bytes()[0] - b'0') as usize % area.len()];
            let ex = 200 + (d(3).parse::<u32>().unwrap_or(0) % 800);
            format!("+1 ({a}) {ex}-{}", d(4))
        }
        "DE" => {
            let pre = ["151", "160", "170", "176", "30", "40", "89"];
            let p = pre[(d(1).as_bytes()[0] - b'0') as usize % pre.len()];
            format!("+49 {p} {}", d(if p.len() == 3 { 8 } else { 7 }))
        }
        "FR" => format!(
            "+33 {} {} {} {} {}",
            ["6", "7", "1"][(d(1).as_bytes()[0] - b'0') as usize % 3],
            d(2),
            d(2),
            d(2),
            d(2)
        ),
        "ES" => format!("+34 6{} {} {}", d(2), d(3), d(3)),
        "NL" => format!("+31 6 {}", d(8)),
        "IT" => format!("+39 3{} {} {}", d(2), d(3), d(4)),
        "PT" => format!(
            "+351 9{} {} {}",
            ["1", "2", "3", "6"][(d(1).as_bytes()[0] - b'0') as usize % 4],
            d(3),
            d(3)
        ),
        _ => {
            if d(1).as_bytes()[0] < b'5' {
                format!("+44 20 {} {}", d(4), d(4))
            } else {
                format!("+44 7{} {}", d(3), d(6))
            }
        }
    }
}

fn postal_code(rng: &mut SplitMix64, country: &str, prefix: &str) -> String {
    match country {
        "NL" => format!("{prefix}{} {}", digits(rng, 2), letters(rng, 2)),
        "PT" => format!(
            "{prefix}{}-{}",
            digits(rng, 4 - prefix.len()),
            digits(rng, 3)
        ),
        "GB" => format!("{prefix} {}{}", digits(rng, 1), letters(rng, 2)),
        _ => format!(
            "{prefix}{}",
            digits(rng, 5usize.saturating_sub(prefix.len()))
        ),
    }
}

fn ipv4(rng: &mut SplitMix64) -> String {
    const FIRST: &[u8] = &[
        24, 31, 37, 46, 62, 77, 79, 81, 84, 86, 88, 90, 93, 95, 98, 104, 108, 109, 151, 176, 178,
        185, 188, 195, 212, 213, 217,
    ];
    let a = FIRST[rng.index(FIRST.len())];
    format!(
        "{a}.{}.{}.{}",
        rng.range(0, 255),
        rng.range(0, 255),
        rng.range(1, 254)
    )
}

fn ipv6(rng: &mut SplitMix64) -> String {
    let net = rng.range(1, 9);
    let (a, b, c) = (hex(rng, 4), hex(rng, 4), hex(rng, 4));
    format!("2a0{net}:{a}:{b}:{c}::{:x}", rng.range(1, 0xfff))
}

/// A seconds-resolution timestamp uniformly between two instants (ms).
fn ts_between(rng: &mut SplitMix64, from_ms: i64, to_ms: i64) -> i64 {
    rng.range(from_ms / 1000, to_ms / 1000) * 1000
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

/// What later tables need to know about a customer.
#[derive(Debug, Clone)]
struct Cust {
    id: i64,
    first: String,
    last: String,
    email: String,
    phone: String,
    country: &'static str,
    signup: i32,
    opt_in: bool,
}

#[derive(Debug, Clone)]
struct Prod {
    id: i64,
    name: String,
    price_eur: f64,
}

/// The generated demo data.
#[derive(Debug)]
pub struct DemoData {
    /// The seven bronze tables in `schema::BRONZE` order.
    pub tables: Vec<Table>,
}

/// Generates all bronze tables.
pub fn generate() -> DemoData {
    let (customers, custs) = gen_customers(SplitMix64::derive(SEED, 1));
    let (products, prods) = gen_products(SplitMix64::derive(SEED, 2));
    let orders = gen_orders(SplitMix64::derive(SEED, 3), &custs, &prods);
    let (campaigns, camps) = gen_campaigns(SplitMix64::derive(SEED, 4));
    let purchases = purchases(&orders);
    let events = gen_events(SplitMix64::derive(SEED, 5), &custs, &camps, &purchases);
    let interactions = gen_interactions(SplitMix64::derive(SEED, 6), &custs, &prods);
    let tickets = gen_tickets(SplitMix64::derive(SEED, 7), &custs, &prods);
    DemoData {
        tables: vec![
            Table {
                spec: &schema::ORDERS,
                rows: orders,
            },
            Table {
                spec: &schema::CUSTOMERS,
                rows: customers,
            },
            Table {
                spec: &schema::PRODUCTS,
                rows: products,
            },
            Table {
                spec: &schema::CAMPAIGNS,
                rows: campaigns,
            },
            Table {
                spec: &schema::EVENTS,
                rows: events,
            },
            Table {
                spec: &schema::INTERACTIONS,
                rows: interactions,
            },
            Table {
                spec: &schema::TICKETS,
                rows: tickets,
            },
        ],
    }
}

const N_CUSTOMERS: i64 = 1000;
const NULL_EMAIL_IDS: &[i64] = &[57, 143, 388, 512, 761, 934];
const DUPLICATE_OF: &[i64] = &[42, 314, 777];

fn gen_customers(mut rng: SplitMix64) -> (Vec<Vec<Val>>, Vec<Cust>) {
    let weights: Vec<u32> = COUNTRIES.iter().map(|c| c.weight).collect();
    let mut used_emails = HashSet::new();
    let mut rows = Vec::new();
    let mut custs = Vec::new();
    let (mut uk_left, mut lower_left) = (4, 3);
    for id in 1..=N_CUSTOMERS {
        let c = &COUNTRIES[rng.weighted(&weights)];
        let first = pick(&mut rng, c.first).to_string();
        let last = pick(&mut rng, c.last).to_string();
        let (f, l) = (fold(&first), fold(&last));
        let local = match rng.below(5) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}{}", rng.range(1, 99)),
            2 => format!("{}{l}", &f[..1.min(f.len())]),
            3 => format!("{f}_{l}"),
            _ => format!("{l}.{f}{}", rng.range(60, 99)),
        };
        let domain = pick(&mut rng, c.mail_domains);
        let mut email = format!("{local}@{domain}");
        let mut n = 2;
        while !used_emails.insert(email.clone()) {
            email = format!("{local}{n}@{domain}");
            n += 1;
        }
        let phone_no = phone(&mut rng, c.code);
        let phone_val = if rng.chance(0.04) {
            Val::Null
        } else if rng.chance(0.05) {
            t(phone_no.replace([' ', '(', ')', '-'], ""))
        } else {
            t(phone_no.clone())
        };
        let (city, prefix) = c.cities[rng.index(c.cities.len())];
        let street = pick(&mut rng, c.streets);
        let number = rng.range(1, 240);
        let street_address = if c.number_first {
            format!("{number} {street}")
        } else {
            format!("{street} {number}")
        };
        let postal = postal_code(&mut rng, c.code, prefix);
        let dob = rng.range(
            i64::from(days_from_civil(1940, 1, 1)),
            i64::from(days_from_civil(2006, 12, 31)),
        ) as i32;
        let signup = rng.range(
            i64::from(days_from_civil(2019, 1, 1)),
            i64::from(days_from_civil(2025, 5, 31)),
        ) as i32;
        let tier = ["bronze", "silver", "gold", "platinum"][rng.weighted(&[55, 28, 13, 4])];
        let opt_in = rng.chance(0.55);
        let mut country = c.code.to_string();
        if c.code == "GB" && uk_left > 0 && rng.chance(0.1) {
            country = "UK".into();
            uk_left -= 1;
        } else if (c.code == "DE" || c.code == "FR") && lower_left > 0 && rng.chance(0.05) {
            country = c.code.to_ascii_lowercase();
            lower_left -= 1;
        }
        let email_val = if NULL_EMAIL_IDS.contains(&id) {
            Val::Null
        } else {
            t(email.clone())
        };
        rows.push(vec![
            Val::Int(id),
            t(first.clone()),
            t(last.clone()),
            email_val,
            phone_val,
            t(street_address),
            t(city),
            t(postal),
            t(country),
            Val::Date(dob),
            Val::Date(signup),
            t(tier),
            Val::Bool(opt_in),
        ]);
        custs.push(Cust {
            id,
            first,
            last,
            email,
            phone: phone_no,
            country: c.code,
            signup,
            opt_in,
        });
    }
    // Duplicate registrations: same person, email in another spelling, later signup.
    for (k, orig) in DUPLICATE_OF.iter().enumerate() {
        let src = rows[(*orig - 1) as usize].clone();
        let mut dup = src;
        dup[0] = Val::Int(N_CUSTOMERS + 1 + k as i64);
        if let Val::Text(e) = &dup[3] {
            dup[3] = t(if k % 2 == 0 {
                e.to_uppercase()
            } else {
                format!(" {e} ")
            });
        }
        if let Val::Date(s) = dup[10] {
            dup[10] = Val::Date(s + 200 + 31 * k as i32);
        }
        rows.push(dup);
    }
    (rows, custs)
}

fn gen_products(mut rng: SplitMix64) -> (Vec<Vec<Val>>, Vec<Prod>) {
    let mut rows = Vec::new();
    let mut prods = Vec::new();
    let subs: Vec<(&Category, &Subcategory)> = CATEGORIES
        .iter()
        .flat_map(|c| c.subs.iter().map(move |s| (c, s)))
        .collect();
    let mut names = HashSet::new();
    for i in 0..200i64 {
        let id = 5001 + i;
        let (cat, sub) = subs[(i as usize * 7 + rng.index(3)) % subs.len()];
        let brand = pick(&mut rng, cat.brands);
        let mut name = format!(
            "{brand} {} {}",
            pick(&mut rng, sub.nouns),
            pick(&mut rng, MODEL_SUFFIXES)
        );
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!(
                "{brand} {} {} {n}",
                pick(&mut rng, sub.nouns),
                pick(&mut rng, MODEL_SUFFIXES)
            );
            n += 1;
        }
        let price = rng.range(sub.min_price, sub.max_price) as f64 + 0.99;
        let margin_pct = rng.range(35, 70) as f64;
        let cost = cents(price * margin_pct / 100.0);
        let active = rng.chance(0.92);
        let missing_category = id == 5077 || id == 5161;
        rows.push(vec![
            Val::Int(id),
            t(format!("{}-{}-{id:05}", cat.code, sub.code)),
            t(name.clone()),
            if missing_category {
                Val::Null
            } else {
                t(cat.name)
            },
            t(sub.name),
            t(brand),
            Val::Float(price),
            Val::Float(cost),
            Val::Bool(active),
        ]);
        prods.push(Prod {
            id,
            name,
            price_eur: price,
        });
    }
    (rows, prods)
}

fn order_window() -> (i64, i64) {
    (ms_from_civil(2023, 1, 1), ms_from_civil(2025, 7, 1) - 1000)
}

fn gen_orders(mut rng: SplitMix64, custs: &[Cust], prods: &[Prod]) -> Vec<Vec<Val>> {
    let (from, to) = order_window();
    let span = (to - from) / 1000;
    // Growing business: more orders later (sqrt of a uniform draw skews towards the end).
    let mut times: Vec<i64> = (0..5000)
        .map(|_| {
            let u = rng.unit();
            let x = u.sqrt();
            from + ((x * span as f64) as i64) * 1000
        })
        .collect();
    times.sort_unstable();
    // Popularity orders: a shuffled permutation, drawn with a skew.
    let mut cust_order: Vec<usize> = (0..custs.len()).collect();
    let mut prod_order: Vec<usize> = (0..prods.len()).collect();
    for v in [&mut cust_order, &mut prod_order] {
        for i in (1..v.len()).rev() {
            let j = rng.index(i + 1);
            v.swap(i, j);
        }
    }
    let mut rows = Vec::new();
    for (i, ts) in times.iter().enumerate() {
        let order_id = 100_001 + i as i64;
        let day = (ts / 86_400_000) as i32;
        let mut cust = &custs[cust_order[rng.skewed(custs.len())]];
        for _ in 0..4 {
            if cust.signup <= day {
                break;
            }
            cust = &custs[cust_order[rng.skewed(custs.len())]];
        }
        let prod = &prods[prod_order[rng.skewed(prods.len())]];
        let dest = if rng.chance(0.08) {
            EXTRA_DESTINATIONS[rng.index(EXTRA_DESTINATIONS.len())]
        } else {
            cust.country
        };
        let currency = currency_of(dest);
        let qty = [1i64, 2, 3, 4, 5][rng.weighted(&[60, 22, 10, 5, 3])];
        let unit_price = cents(prod.price_eur * fx_from_eur(currency));
        let gross = qty as f64 * unit_price;
        let discount = if rng.chance(0.25) {
            cents(gross * [5.0, 10.0, 15.0, 20.0][rng.index(4)] / 100.0)
        } else {
            0.0
        };
        let tax = cents((gross - discount) * tax_pct(dest) / 100.0);
        let total = cents(gross - discount + tax);
        let days_ago = (to - ts) / 86_400_000;
        let status = if days_ago <= 3 {
            ["pending", "shipped", "cancelled"][rng.weighted(&[50, 40, 10])]
        } else if days_ago <= 14 {
            ["shipped", "completed", "cancelled", "pending"][rng.weighted(&[55, 35, 6, 4])]
        } else {
            ["completed", "cancelled", "returned"][rng.weighted(&[82, 9, 9])]
        };
        let payment = [
            "credit_card",
            "paypal",
            "debit_card",
            "apple_pay",
            "klarna",
            "bank_transfer",
        ][rng.weighted(&[40, 25, 12, 8, 8, 7])];
        rows.push(vec![
            Val::Int(order_id),
            Val::Int(cust.id),
            Val::Ts(*ts),
            t(status),
            t(region_of(dest)),
            Val::Int(prod.id),
            Val::Int(qty),
            Val::Float(unit_price),
            Val::Float(discount),
            Val::Float(tax),
            Val::Float(total),
            t(currency),
            t(payment),
            t(dest),
        ]);
    }
    // --- deliberate defects (see the module comment) ---
    let idx = |id: i64| (id - 100_001) as usize;
    rows[idx(100_778)][3] = t("complete");
    {
        // A return booked as an order with quantity -1 and negative amounts.
        let r = &mut rows[idx(102_501)];
        let q = if let Val::Int(q) = r[6] { q.max(1) } else { 1 };
        let price = if let Val::Float(p) = r[7] { p } else { 0.0 };
        let tax = if let Val::Float(x) = r[9] {
            cents(-x / q as f64)
        } else {
            0.0
        };
        r[6] = Val::Int(-1);
        r[8] = Val::Float(0.0);
        r[9] = Val::Float(tax);
        r[10] = Val::Float(cents(-price + tax));
    }
    rows[idx(104_201)][1] = Val::Int(99_999);
    if let Val::Ts(ts) = rows[idx(105_000)][2] {
        // 2025 mistyped as 2052: same day-of-year offset, 27 years later.
        rows[idx(105_000)][2] = Val::Ts(
            ts + (i64::from(days_from_civil(2052, 6, 1)) - i64::from(days_from_civil(2025, 6, 1)))
                * 86_400_000,
        );
    }
    // Duplicates last, so the indexes above stay valid: order 103211 re-exported with its
    // earlier status (placed before the completed record), order 101235 duplicated verbatim.
    let mut earlier = rows[idx(103_211)].clone();
    earlier[3] = t("shipped");
    rows[idx(103_211)][3] = t("completed");
    rows.insert(idx(103_211), earlier);
    let dup = rows[idx(101_235)].clone();
    rows.insert(idx(101_235) + 1, dup);
    rows
}

#[derive(Debug)]
struct Camp {
    id: i64,
    channel: &'static str,
    start: i32,
    end: i32,
}

fn gen_campaigns(mut rng: SplitMix64) -> (Vec<Vec<Val>>, Vec<Camp>) {
    let themes = [
        "Sale",
        "New Arrivals",
        "Loyalty Rewards",
        "Clearance",
        "Brand Awareness",
        "Win-back",
        "Free Shipping Week",
    ];
    let segments = [
        "all_customers",
        "new_customers",
        "lapsed_customers",
        "loyalty_gold_plus",
        "high_value",
        "cart_abandoners",
    ];
    let mut rows = Vec::new();
    let mut camps = Vec::new();
    let base = days_from_civil(2023, 1, 16);
    for i in 0..25i64 {
        let start = base + i as i32 * 36 + rng.range(0, 9) as i32;
        let end = start + rng.range(14, 45) as i32;
        let (y, m, _) = super::dates::civil_from_days(start);
        let season = match m {
            12 | 1 | 2 => "Winter",
            3..=5 => "Spring",
            6..=8 => "Summer",
            _ => "Autumn",
        };
        let theme = match m {
            11 => "Black Friday",
            12 => "Holiday Gifts",
            8 | 9 => "Back to School",
            6 | 7 => ["Outdoor Season", "Sale"][rng.index(2)],
            _ => themes[rng.index(themes.len())],
        };
        let channel = ["email", "social", "search", "display", "affiliate"]
            [rng.weighted(&[35, 25, 20, 12, 8])];
        let budget = if channel == "email" {
            rng.range(50, 200) * 100
        } else {
            rng.range(100, 1200) * 100
        } as f64;
        let title_channel = match channel {
            "email" => "Email",
            "social" => "Social",
            "search" => "Search",
            "display" => "Display",
            _ => "Affiliate",
        };
        rows.push(vec![
            Val::Int(i + 1),
            t(format!("{season} {y} {theme} - {title_channel}")),
            t(channel),
            Val::Date(start),
            Val::Date(end),
            Val::Float(budget),
            t(segments[rng.index(segments.len())]),
        ]);
        camps.push(Camp {
            id: i + 1,
            channel,
            start,
            end,
        });
    }
    (rows, camps)
}

/// (order time, customer id) of the completed and shipped orders, sorted by time.
fn purchases(orders: &[Vec<Val>]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = orders
        .iter()
        .filter_map(|r| match (&r[2], &r[1], &r[3]) {
            (Val::Ts(ts), Val::Int(c), Val::Text(s)) if s == "completed" || s == "shipped" => {
                Some((*ts, *c))
            }
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out
}

fn gen_events(
    mut rng: SplitMix64,
    custs: &[Cust],
    camps: &[Camp],
    purchases: &[(i64, i64)],
) -> Vec<Vec<Val>> {
    let opted: Vec<&Cust> = custs.iter().filter(|c| c.opt_in).collect();
    let mut events = Vec::new();
    for _ in 0..5000 {
        let camp = &camps[rng.index(camps.len())];
        let mut cust_id = if camp.channel == "email" {
            opted[rng.index(opted.len())].id
        } else {
            custs[rng.index(custs.len())].id
        };
        let mut kind =
            ["impression", "click", "conversion", "unsubscribe"][rng.weighted(&[72, 17, 6, 5])];
        if kind == "unsubscribe" && camp.channel != "email" {
            kind = "impression";
        }
        let (from, to) = (
            i64::from(camp.start) * 86_400_000,
            i64::from(camp.end + 1) * 86_400_000 - 1000,
        );
        let mut ts = ts_between(&mut rng, from, to);
        if kind == "conversion" {
            // A conversion is a purchase shortly after a campaign touch: tie it to an order
            // placed during the campaign.
            let lo = purchases.partition_point(|p| p.0 < from + 3_600_000);
            let hi = purchases.partition_point(|p| p.0 <= to);
            if hi > lo {
                let (order_ts, c) = purchases[lo + rng.index(hi - lo)];
                cust_id = c;
                ts = order_ts - rng.range(60, 3_600) * 1000;
            }
        }
        let device = ["mobile", "desktop", "tablet"][rng.weighted(&[55, 35, 10])];
        let ip = if rng.chance(0.12) {
            ipv6(&mut rng)
        } else {
            ipv4(&mut rng)
        };
        events.push((ts, camp.id, cust_id, kind, device, ip));
    }
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    events
        .into_iter()
        .enumerate()
        .map(|(i, (ts, camp, cust, kind, device, ip))| {
            vec![
                Val::Int(i as i64 + 1),
                Val::Int(camp),
                Val::Int(cust),
                t(kind),
                Val::Ts(ts),
                t(device),
                t(ip),
            ]
        })
        .collect()
}

fn slug_path(s: &str) -> String {
    s.to_ascii_lowercase()
        .replace(" & ", "-")
        .replace([' ', '/'], "-")
}

fn gen_interactions(mut rng: SplitMix64, custs: &[Cust], prods: &[Prod]) -> Vec<Vec<Val>> {
    let from = ms_from_civil(2024, 1, 1);
    let to = ms_from_civil(2025, 7, 1) - 3_600_000;
    let mut starts: Vec<i64> = (0..2600).map(|_| ts_between(&mut rng, from, to)).collect();
    starts.sort_unstable();
    let categories: Vec<&str> = CATEGORIES.iter().map(|c| c.name).collect();
    let mut rows = Vec::new();
    for start in starts {
        if rows.len() >= 8000 {
            break;
        }
        let cust = if rng.chance(0.78) {
            Some(&custs[rng.index(custs.len())])
        } else {
            None
        };
        let session = format!("s_{}", hex(&mut rng, 16));
        let ua = pick(&mut rng, USER_AGENTS);
        let steps = 1 + rng.skewed(10);
        let mut ts = start;
        let mut logged_in = false;
        for step in 0..steps {
            if rows.len() >= 8000 {
                break;
            }
            let action = if step == 0 {
                "view"
            } else {
                [
                    "view",
                    "search",
                    "add_to_cart",
                    "remove_from_cart",
                    "wishlist",
                    "login",
                    "checkout",
                ][rng.weighted(&[45, 15, 12, 3, 5, 5, 5])]
            };
            let action = if action == "login" && (cust.is_none() || logged_in) {
                "view"
            } else {
                action
            };
            if action == "login" {
                logged_in = true;
            }
            let prod = &prods[rng.index(prods.len())];
            let sku_path = format!("{}", prod.id);
            let (url, query) = match action {
                "view" => match rng.below(3) {
                    0 => (format!("{SHOP_URL}/"), None),
                    1 => (
                        format!(
                            "{SHOP_URL}/c/{}",
                            slug_path(categories[rng.index(categories.len())])
                        ),
                        None,
                    ),
                    _ => (format!("{SHOP_URL}/p/{sku_path}"), None),
                },
                "search" => {
                    let q = pick(&mut rng, SEARCH_QUERIES);
                    (
                        format!("{SHOP_URL}/search?q={}", q.replace(' ', "+")),
                        Some(q),
                    )
                }
                "add_to_cart" => (format!("{SHOP_URL}/cart/add?product={sku_path}"), None),
                "remove_from_cart" => (format!("{SHOP_URL}/cart/remove?product={sku_path}"), None),
                "wishlist" => (format!("{SHOP_URL}/wishlist/add?product={sku_path}"), None),
                "login" => (format!("{SHOP_URL}/account/login"), None),
                _ => (format!("{SHOP_URL}/checkout"), None),
            };
            rows.push(vec![
                Val::Int(rows.len() as i64 + 1),
                cust.map_or(Val::Null, |c| Val::Int(c.id)),
                t(session.clone()),
                t(url),
                t(action),
                query.map_or(Val::Null, t),
                Val::Ts(ts),
                t(ua),
            ]);
            ts += rng.range(5, 240) * 1000;
        }
    }
    rows
}

fn gen_tickets(mut rng: SplitMix64, custs: &[Cust], prods: &[Prod]) -> Vec<Vec<Val>> {
    let from = ms_from_civil(2023, 3, 1);
    let to = ms_from_civil(2025, 7, 1) - 1000;
    let mut times: Vec<i64> = (0..500).map(|_| ts_between(&mut rng, from, to)).collect();
    times.sort_unstable();
    let mut rows = Vec::new();
    for (i, created) in times.into_iter().enumerate() {
        let id = i as i64 + 1;
        let c = &custs[rng.index(custs.len())];
        let prod = &prods[rng.index(prods.len())];
        let order_no = rng.range(100_001, 105_000);
        let channel = ["email", "chat", "web_form", "phone"][rng.weighted(&[40, 30, 20, 10])];
        let priority = ["low", "medium", "high", "urgent"][rng.weighted(&[30, 45, 20, 5])];
        let recent = (to - created) < 5 * 86_400_000;
        let status = if recent {
            ["open", "pending"][rng.index(2)]
        } else {
            ["resolved", "closed", "pending", "open"][rng.weighted(&[55, 40, 3, 2])]
        };
        let topic = rng.index(10);
        let (subject, text) = match topic {
            0 => (format!("Where is my order #{order_no}?"), format!("I ordered the {} two weeks ago (order {order_no}) and the tracking page has not changed since. Can you tell me when it will arrive?", prod.name)),
            1 => ("Refund not received".to_string(), format!("I returned order {order_no} a month ago but the refund is still not on my card. Please check.")),
            2 => ("Wrong item delivered".to_string(), format!("Instead of the {} I received something completely different. How do I exchange it?", prod.name)),
            3 => ("Cannot log in to my account".to_string(), "The password reset link says it has expired every time I click it. I would like to access my order history.".to_string()),
            4 => ("Change delivery address".to_string(), format!("Please deliver order {order_no} to my office instead of my home address. Is that still possible?")),
            5 => ("Product arrived damaged".to_string(), format!("The box was crushed and the {} is broken. I attached photos to the web form.", prod.name)),
            6 => ("Question about invoice".to_string(), format!("The VAT on the invoice for order {order_no} looks wrong to me. Can you send a corrected invoice?")),
            7 => ("Cancel my order".to_string(), format!("Please cancel order {order_no}, I ordered the wrong size.")),
            8 => ("Discount code not working".to_string(), "The code from your newsletter is rejected at checkout although it should still be valid.".to_string()),
            _ => ("Unsubscribe from newsletter".to_string(), "I keep getting marketing emails although I unsubscribed. Please remove me from all mailing lists.".to_string()),
        };
        let mut body = String::new();
        let multiline = rng.chance(0.35);
        if multiline {
            body.push_str("Hello,\n\n");
        }
        body.push_str(&text);
        if rng.chance(0.15) {
            let email = if rng.chance(0.5) {
                c.email.clone()
            } else {
                format!("{}.{}@protonmail.com", fold(&c.first), fold(&c.last))
            };
            body.push_str(&format!(
                " You can reach me at {email} instead of the address on my account."
            ));
        }
        if rng.chance(0.10) {
            body.push_str(&format!(
                " Please call me back on {}, I am available after 5pm.",
                c.phone
            ));
        }
        if multiline {
            body.push_str(&format!("\n\nThanks,\n{} {}", c.first, c.last));
        }
        let resolved = if status == "resolved" || status == "closed" {
            Val::Ts(created + rng.range(1_800, 96 * 3_600) * 1000)
        } else {
            Val::Null
        };
        let score = if matches!(resolved, Val::Ts(_)) && rng.chance(0.6) {
            Val::Int([1, 2, 3, 4, 5][rng.weighted(&[8, 7, 15, 35, 35])])
        } else {
            Val::Null
        };
        rows.push(vec![
            Val::Int(id),
            Val::Int(c.id),
            Val::Ts(created),
            t(channel),
            t(priority),
            t(status),
            t(subject),
            t(body),
            resolved,
            score,
        ]);
    }
    // --- deliberate defects ---
    if let Some(r) = rows.get_mut(123)
        && let Val::Ts(created) = r[2]
    {
        r[5] = t("resolved");
        r[8] = Val::Ts(created - 3 * 3_600_000);
    }
    if let Some(r) = rows.get_mut(321) {
        r[5] = t("closed");
        if !matches!(r[8], Val::Ts(_))
            && let Val::Ts(created) = r[2]
        {
            r[8] = Val::Ts(created + 20 * 3_600_000);
        }
        r[9] = Val::Int(0);
    }
    rows
}
