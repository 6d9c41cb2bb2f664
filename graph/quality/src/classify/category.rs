//! The PII categories, with their DPV personal-data concepts.

use std::fmt;
use std::str::FromStr;

/// The DPV 2 personal-data namespace.
pub const DPV_PD: &str = "https://w3id.org/dpv/pd#";

macro_rules! categories {
    ($($variant:ident = $id:literal, $dpv:literal, $special:literal;)+) => {
        /// What kind of personal data a column holds, if any.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Category {
            $(
                #[doc = concat!("`", $id, "`")]
                $variant,
            )+
        }

        impl Category {
            /// Every category, `None` last.
            pub const ALL: &'static [Category] = &[$(Category::$variant),+];

            /// The category id, such as `email`.
            pub fn id(self) -> &'static str {
                match self { $(Category::$variant => $id),+ }
            }

            /// The local name of the DPV personal-data concept, empty for `none`.
            fn dpv_local(self) -> &'static str {
                match self { $(Category::$variant => $dpv),+ }
            }

            /// Whether GDPR Art. 9 makes it a special category of personal data.
            pub fn special_category(self) -> bool {
                match self { $(Category::$variant => $special),+ }
            }
        }

        impl FromStr for Category {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($id => Ok(Category::$variant),)+
                    other => Err(format!("unknown PII category {other:?}")),
                }
            }
        }
    };
}

categories! {
    PersonName = "person_name", "Name", false;
    FirstName = "first_name", "Name", false;
    LastName = "last_name", "Name", false;
    Email = "email", "EmailAddress", false;
    Phone = "phone", "TelephoneNumber", false;
    StreetAddress = "street_address", "PhysicalAddress", false;
    City = "city", "Location", false;
    PostalCode = "postal_code", "PhysicalAddress", false;
    DateOfBirth = "date_of_birth", "BirthDate", false;
    NationalId = "national_id", "OfficialID", false;
    PassportNumber = "passport_number", "Passport", false;
    CreditCard = "credit_card", "PaymentCardNumber", false;
    Iban = "iban", "BankAccount", false;
    BankAccount = "bank_account", "BankAccount", false;
    IpAddress = "ip_address", "IPAddress", false;
    MacAddress = "mac_address", "MACAddress", false;
    Geolocation = "geolocation", "GPSCoordinate", false;
    Username = "username", "Username", false;
    PasswordHash = "password_hash", "Password", false;
    PersonalUrl = "personal_url", "SocialMedia", false;
    LicensePlate = "license_plate", "VehicleLicence", false;
    Health = "health", "Health", true;
    Gender = "gender", "Gender", false;
    EthnicOrigin = "ethnic_origin", "EthnicOrigin", true;
    Religion = "religion", "Religion", true;
    Salary = "salary", "Salary", false;
    FreeTextWithPii = "free_text_with_pii", "Communication", false;
    None = "none", "", false;
}

impl Category {
    /// The DPV personal-data concept's IRI; `None` for the `none` category.
    pub fn dpv(self) -> Option<String> {
        let local = self.dpv_local();
        (!local.is_empty()).then(|| format!("{DPV_PD}{local}"))
    }

    /// Whether the category is personal data at all.
    pub fn is_pii(self) -> bool {
        self != Category::None
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
