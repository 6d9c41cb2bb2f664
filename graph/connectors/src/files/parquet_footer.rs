//! Parquet: the schema and row count come from the footer alone; no data page is read.
//!
//! Physical and logical types map to SQL-ish names (`INT64` → `bigint`, `BYTE_ARRAY (STRING)`
//! → `varchar`, `INT32 (DATE)` → `date`, `DECIMAL(10,2)` → `decimal(10,2)`, any `TIMESTAMP`
//! or legacy `INT96` → `timestamp`...). Plain structs are flattened into dotted columns
//! (`address.city`), as Parquet names its leaf columns; lists are `array<element>` (the
//! standard three-level form and the legacy two-level forms), maps `map<key,value>`, and
//! structs inside them `struct<name:type,...>`. A column is required when it and every group
//! above it are `REQUIRED`.

use std::fs::File;
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as Physical};
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::schema::types::{BasicTypeInfo, Type, TypePtr};

use super::schema::{Field, FileSchema};
use super::types::{BIGINT, Ty};
use super::{invalid, io_error};
use crate::error::Result;

/// Deeper schemas are refused rather than walked.
const MAX_DEPTH: usize = 64;

/// Reads the footer of a Parquet file: its columns and exact row count.
pub(crate) fn read(path: &Path, location: &str) -> Result<FileSchema> {
    let file = File::open(path).map_err(|e| io_error(location, &e))?;
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetMetaDataReader::new().parse_and_finish(&file)
    }));
    let metadata = match parsed {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            return Err(invalid(
                location,
                "footer",
                format!(
                    "is not a readable Parquet footer ({e}); the file may be truncated or not Parquet"
                ),
            ));
        }
        Err(_) => {
            return Err(invalid(
                location,
                "footer",
                "is corrupt: the Parquet reader could not decode it",
            ));
        }
    };
    let rows = u64::try_from(metadata.file_metadata().num_rows())
        .map_err(|_| invalid(location, "footer", "declares a negative number of rows"))?;
    let Type::GroupType { fields: top, .. } = metadata.file_metadata().schema() else {
        return Err(invalid(
            location,
            "schema",
            "the root of the schema is not a group",
        ));
    };
    let reader = Schema { location };
    let mut fields = Vec::new();
    for field in top {
        reader.flatten(field, "", true, 0, &mut fields)?;
    }
    Ok(FileSchema { fields, rows })
}

fn info(t: &Type) -> &BasicTypeInfo {
    t.get_basic_info()
}

/// A missing repetition (only the root may lack one) reads as optional.
fn repetition(t: &Type) -> Repetition {
    let info = info(t);
    if info.has_repetition() {
        info.repetition()
    } else {
        Repetition::OPTIONAL
    }
}

fn is_list(t: &Type) -> bool {
    matches!(info(t).logical_type_ref(), Some(LogicalType::List))
        || info(t).converted_type() == ConvertedType::LIST
}

fn is_map(t: &Type) -> bool {
    matches!(info(t).logical_type_ref(), Some(LogicalType::Map))
        || matches!(
            info(t).converted_type(),
            ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE
        )
}

struct Schema<'a> {
    location: &'a str,
}

impl Schema<'_> {
    fn too_deep(&self, name: &str) -> crate::Error {
        invalid(
            self.location,
            format!("column {name}"),
            format!("is nested more than {MAX_DEPTH} levels deep"),
        )
    }

    /// Adds the columns of one field: a plain struct's fields under `name.`, anything else as
    /// one column.
    fn flatten(
        &self,
        t: &TypePtr,
        prefix: &str,
        parent_required: bool,
        depth: usize,
        out: &mut Vec<Field>,
    ) -> Result<()> {
        let name = format!("{prefix}{}", t.name());
        if depth > MAX_DEPTH {
            return Err(self.too_deep(&name));
        }
        let rep = repetition(t);
        let required = parent_required && rep != Repetition::OPTIONAL;
        if let Type::GroupType { fields, .. } = t.as_ref()
            && rep != Repetition::REPEATED
            && !is_list(t)
            && !is_map(t)
            && !fields.is_empty()
        {
            for f in fields {
                self.flatten(f, &format!("{name}."), required, depth + 1, out)?;
            }
            return Ok(());
        }
        out.push(Field {
            ty: self.field_ty(t, depth)?,
            name,
            nullable: Some(!required),
        });
        Ok(())
    }

    /// The type of a field, an array when it is itself repeated.
    fn field_ty(&self, t: &Type, depth: usize) -> Result<Ty> {
        let ty = self.bare_ty(t, depth)?;
        Ok(if repetition(t) == Repetition::REPEATED {
            Ty::Array(Box::new(ty))
        } else {
            ty
        })
    }

    /// The type of a field, whatever its repetition.
    fn bare_ty(&self, t: &Type, depth: usize) -> Result<Ty> {
        if depth > MAX_DEPTH {
            return Err(self.too_deep(t.name()));
        }
        match t {
            Type::PrimitiveType {
                basic_info,
                physical_type,
                precision,
                scale,
                ..
            } => Ok(primitive_ty(basic_info, *physical_type, *precision, *scale)),
            Type::GroupType { fields, .. } if is_list(t) => self.list_ty(t, fields, depth),
            Type::GroupType { fields, .. } if is_map(t) => self.map_ty(fields, depth),
            Type::GroupType { fields, .. } => self.struct_ty(fields, depth),
        }
    }

    fn struct_ty(&self, fields: &[TypePtr], depth: usize) -> Result<Ty> {
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            out.push((f.name().to_owned(), self.field_ty(f, depth + 1)?));
        }
        Ok(Ty::Struct(out))
    }

    /// `LIST`: `group (LIST) { repeated group list { element } }`, or the legacy forms where
    /// the repeated field is the element itself.
    fn list_ty(&self, list: &Type, fields: &[TypePtr], depth: usize) -> Result<Ty> {
        let [repeated] = fields else {
            return self.struct_ty(fields, depth);
        };
        let element = match repeated.as_ref() {
            Type::GroupType { fields: inner, .. } => match inner.as_slice() {
                [only]
                    if repeated.name() != "array"
                        && repeated.name() != format!("{}_tuple", list.name()) =>
                {
                    self.field_ty(only, depth + 2)?
                }
                _ => self.bare_ty(repeated, depth + 1)?,
            },
            primitive => self.bare_ty(primitive, depth + 1)?,
        };
        Ok(Ty::Array(Box::new(element)))
    }

    /// `MAP`: `group (MAP) { repeated group key_value { key; value } }`.
    fn map_ty(&self, fields: &[TypePtr], depth: usize) -> Result<Ty> {
        if let [kv] = fields
            && let Type::GroupType { fields: pair, .. } = kv.as_ref()
            && let Some(key) = pair.first()
        {
            let key = self.bare_ty(key, depth + 2)?;
            let value = match pair.get(1) {
                Some(v) => self.field_ty(v, depth + 2)?,
                None => Ty::Null,
            };
            return Ok(Ty::Map(Box::new(key), Box::new(value)));
        }
        self.struct_ty(fields, depth)
    }
}

fn int(bits: i8, signed: bool) -> Ty {
    let bits = match bits {
        8 => 8,
        16 => 16,
        32 => 32,
        _ => 64,
    };
    Ty::Int { bits, signed }
}

fn decimal(precision: i32, scale: i32) -> Ty {
    Ty::Decimal(
        u32::try_from(precision).unwrap_or(0),
        u32::try_from(scale).unwrap_or(0),
    )
}

/// A leaf's type: its logical type, else its converted (legacy) type, else its physical type.
fn primitive_ty(info: &BasicTypeInfo, physical: Physical, precision: i32, scale: i32) -> Ty {
    if let Some(logical) = info.logical_type_ref() {
        let ty = match logical {
            LogicalType::String | LogicalType::Enum => Some(Ty::Varchar),
            LogicalType::Json => Some(Ty::Other("json")),
            LogicalType::Bson | LogicalType::File => Some(Ty::Other("blob")),
            LogicalType::Uuid => Some(Ty::Other("uuid")),
            LogicalType::Float16 => Some(Ty::Float),
            LogicalType::Decimal(d) => Some(decimal(d.precision, d.scale)),
            LogicalType::Date => Some(Ty::Date),
            LogicalType::Time(_) => Some(Ty::Time),
            LogicalType::Timestamp(_) => Some(Ty::Timestamp),
            LogicalType::Integer(i) => Some(int(i.bit_width, i.is_signed)),
            LogicalType::Unknown => Some(Ty::Null),
            LogicalType::Variant(_) => Some(Ty::Other("variant")),
            LogicalType::Geometry(_) => Some(Ty::Other("geometry")),
            LogicalType::Geography(_) => Some(Ty::Other("geography")),
            _ => None,
        };
        if let Some(ty) = ty {
            return ty;
        }
    }
    let converted = match info.converted_type() {
        ConvertedType::UTF8 | ConvertedType::ENUM => Some(Ty::Varchar),
        ConvertedType::JSON => Some(Ty::Other("json")),
        ConvertedType::BSON => Some(Ty::Other("blob")),
        ConvertedType::DECIMAL => Some(decimal(precision, scale)),
        ConvertedType::DATE => Some(Ty::Date),
        ConvertedType::TIME_MILLIS | ConvertedType::TIME_MICROS => Some(Ty::Time),
        ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS => Some(Ty::Timestamp),
        ConvertedType::UINT_8 => Some(int(8, false)),
        ConvertedType::UINT_16 => Some(int(16, false)),
        ConvertedType::UINT_32 => Some(int(32, false)),
        ConvertedType::UINT_64 => Some(int(64, false)),
        ConvertedType::INT_8 => Some(int(8, true)),
        ConvertedType::INT_16 => Some(int(16, true)),
        ConvertedType::INT_32 => Some(int(32, true)),
        ConvertedType::INT_64 => Some(BIGINT),
        ConvertedType::INTERVAL => Some(Ty::Other("interval")),
        _ => None,
    };
    if let Some(ty) = converted {
        return ty;
    }
    match physical {
        Physical::BOOLEAN => Ty::Boolean,
        Physical::INT32 => int(32, true),
        Physical::INT64 => BIGINT,
        Physical::INT96 => Ty::Timestamp,
        Physical::FLOAT => Ty::Float,
        Physical::DOUBLE => Ty::Double,
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => Ty::Other("blob"),
    }
}
