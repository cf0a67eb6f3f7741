//! Whole JSON objects as serde_json values, read by the core's reader: the one reader for
//! tokens, key sets, DPoP proofs and Security Event Tokens alike, so a text is accepted, refused
//! and read one way everywhere. Values are those serde_json builds (without its
//! `float_roundtrip` feature): `differential.rs` compares the two, floats to the bit.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use super::{JsonError, Number, Reader, SYNTAX};

/// Reads the JSON object in `bytes` as serde_json values, refusing duplicate keys at every depth.
pub(crate) fn read_map(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut r = Reader::new(bytes);
    // As serde_json: the whole value first, then only whitespace, then the object check.
    let map = if r.skip_whitespace() == Some(b'{') {
        Some(r.map()?)
    } else {
        r.value(false)?;
        None
    };
    if r.skip_whitespace().is_some() {
        return Err(SYNTAX);
    }
    map.ok_or(JsonError::NotAnObject)
}

impl Reader<'_> {
    /// Reads any value, built.
    fn build(&mut self) -> Result<Value, JsonError> {
        Ok(match self.skip_whitespace() {
            Some(b'{') => Value::Object(self.map()?),
            Some(b'[') => {
                self.enter()?;
                let mut items = Vec::new();
                if self.skip_whitespace() != Some(b']') {
                    loop {
                        items.push(self.build()?);
                        if self.skip_whitespace() != Some(b',') {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.expect(b']')?;
                self.depth += 1;
                Value::Array(items)
            }
            Some(b'"') => {
                self.at += 1;
                Value::String(self.string()?.into_owned())
            }
            Some(b't') => self.literal(b"true").map(|_| Value::Bool(true))?,
            Some(b'f') => self.literal(b"false").map(|_| Value::Bool(false))?,
            Some(b'n') => self.literal(b"null").map(|_| Value::Null)?,
            Some(b'-' | b'0'..=b'9') => number(self.number()?),
            _ => return Err(SYNTAX),
        })
    }

    /// Reads an object (at its `{`), built; a key is checked for duplicates as soon as it is read,
    /// as [`Reader::object`] does.
    fn map(&mut self) -> Result<Map<String, Value>, JsonError> {
        self.enter()?;
        let mut map = Map::new();
        if self.skip_whitespace() != Some(b'}') {
            loop {
                self.expect(b'"')?;
                let key = self.string()?;
                if map.contains_key(key.as_ref()) {
                    return Err(JsonError::DuplicateKey);
                }
                self.expect(b':')?;
                let value = self.build()?;
                map.insert(key.into_owned(), value);
                if self.skip_whitespace() != Some(b',') {
                    break;
                }
                self.at += 1;
            }
        }
        self.expect(b'}')?;
        self.depth += 1;
        Ok(map)
    }
}

/// A number's value as serde_json builds it: a `u64`, a negative `i64`, else an `f64` (`-0` and
/// integers below `i64::MIN` included).
fn number(n: Number) -> Value {
    let f = match n {
        Number::Integer {
            negative: false,
            value,
        } => return Value::Number(value.into()),
        Number::Integer {
            negative: true,
            value,
        } => {
            let negated = (value as i64).wrapping_neg();
            if negated < 0 {
                return Value::Number(negated.into());
            }
            -(value as f64)
        }
        Number::Float {
            negative,
            significand,
            exponent,
        } => {
            let f = from_parts(significand, exponent);
            if negative {
                -f
            } else {
                f
            }
        }
    };
    // Never infinite (refused when read): `from_f64` is `None` only for infinities and NaN.
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `significand × 10^exponent` with serde_json's arithmetic: the significand as an `f64`,
/// multiplied or divided by a correctly rounded power of ten, in steps of `1e308` below the
/// table. An exponent that would overflow was refused when read ([`super::overflows`]).
fn from_parts(significand: u64, mut exponent: i32) -> f64 {
    let mut f = significand as f64;
    loop {
        match POW10.get(exponent.unsigned_abs() as usize) {
            Some(&pow) if exponent >= 0 => return f * pow,
            Some(&pow) => return f / pow,
            // Past the table above: only a zero significand is left.
            None if exponent >= 0 || f == 0.0 => return f,
            None => {
                f /= 1e308;
                exponent += 308;
            }
        }
    }
}

/// `1e0` to `1e308`, each literal the correctly rounded `f64`: serde_json's table.
#[rustfmt::skip]
static POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32,
    1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48,
    1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64,
    1e65, 1e66, 1e67, 1e68, 1e69, 1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79, 1e80,
    1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89, 1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96,
    1e97, 1e98, 1e99, 1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110,
    1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123,
    1e124, 1e125, 1e126, 1e127, 1e128, 1e129, 1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136,
    1e137, 1e138, 1e139, 1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162,
    1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175,
    1e176, 1e177, 1e178, 1e179, 1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188,
    1e189, 1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201,
    1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214,
    1e215, 1e216, 1e217, 1e218, 1e219, 1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227,
    1e228, 1e229, 1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240,
    1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253,
    1e254, 1e255, 1e256, 1e257, 1e258, 1e259, 1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266,
    1e267, 1e268, 1e269, 1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292,
    1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305,
    1e306, 1e307, 1e308
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's entries are the powers of ten, in order.
    #[test]
    fn the_table_is_the_powers_of_ten() {
        for (i, pow) in POW10.iter().enumerate() {
            let written: f64 = alloc::format!("1e{i}").parse().unwrap();
            assert_eq!(pow.to_bits(), written.to_bits(), "1e{i}");
        }
    }

    #[test]
    fn parts_below_the_table_step_down() {
        assert_eq!(from_parts(5, -324), 5e-324);
        assert_eq!(from_parts(1, -400), 0.0);
        assert_eq!(from_parts(0, i32::MIN), 0.0);
        assert_eq!(from_parts(0, 400), 0.0);
        assert_eq!(from_parts(15, -1), 1.5);
        assert_eq!(from_parts(17, 2), 1700.0);
    }
}
