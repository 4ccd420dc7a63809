//! IR value types.

use std::fmt;

/// The type of an IR value.
///
/// Integers carry no signedness: operations say how they interpret bits.
/// `V128` is a 128-bit vector whose lane shape is given by each vector
/// operation, not by the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A boolean (compare results, flags).
    I1,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// 64-bit integer (also every guest address).
    I64,
    /// 128-bit integer.
    I128,
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
    /// 128-bit vector.
    V128,
}

impl Type {
    /// Every type, in a fixed order.
    pub const ALL: [Type; 9] = [
        Type::I1,
        Type::I8,
        Type::I16,
        Type::I32,
        Type::I64,
        Type::I128,
        Type::F32,
        Type::F64,
        Type::V128,
    ];

    /// Width in bits.
    pub const fn bits(self) -> u32 {
        match self {
            Type::I1 => 1,
            Type::I8 => 8,
            Type::I16 => 16,
            Type::I32 | Type::F32 => 32,
            Type::I64 | Type::F64 => 64,
            Type::I128 | Type::V128 => 128,
        }
    }

    /// Width in bytes as stored in memory (`I1` occupies a byte).
    pub const fn bytes(self) -> u32 {
        self.bits().div_ceil(8)
    }

    /// True for `I1` through `I128`.
    pub const fn is_int(self) -> bool {
        matches!(
            self,
            Type::I1 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::I128
        )
    }

    /// True for `F32` and `F64`.
    pub const fn is_float(self) -> bool {
        matches!(self, Type::F32 | Type::F64)
    }

    /// True for types that can be a vector lane (`I8`..`I64`, `F32`, `F64`).
    pub const fn is_lane(self) -> bool {
        matches!(
            self,
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::F32 | Type::F64
        )
    }

    /// Number of lanes of this lane type in a `V128`.
    pub const fn lanes(self) -> u32 {
        128 / self.bits()
    }

    /// Mask of the value bits of this type, as a `u128`.
    pub const fn mask(self) -> u128 {
        if self.bits() == 128 {
            u128::MAX
        } else {
            (1u128 << self.bits()) - 1
        }
    }

    /// The integer type of the same width (floats map to I32/I64).
    pub const fn as_int(self) -> Type {
        match self {
            Type::F32 => Type::I32,
            Type::F64 => Type::I64,
            Type::V128 => Type::I128,
            t => t,
        }
    }

    /// Lower-case name as printed in the text format.
    pub const fn name(self) -> &'static str {
        match self {
            Type::I1 => "i1",
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::I128 => "i128",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::V128 => "v128",
        }
    }

    /// Parses a name printed by [`Type::name`].
    pub fn from_name(name: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
