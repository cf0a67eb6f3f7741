//! JSON objects without `serde_json::json!`, which expands at every call site to a map insert, a
//! `to_value` and a drop per key (the worker's largest functions were mostly that). [`obj!`]
//! fills an array of borrowed [`Field`]s on the stack and makes one call to [`object`], which
//! builds the same `Value`: the map sorts its keys and keeps the last of a repeated key, as
//! `json!` does, so the JSON is byte for byte the same.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// `obj!{"key": value, ...}`: the object `json!({"key": value, ...})` would build. Each value
/// is borrowed through [`ToField`]; a nested object is a nested `obj!`, `null` is `Value::Null`.
/// `obj!(sparse: ...)` leaves the `null` fields out, as a derived `Serialize` with
/// `skip_serializing_if = "Option::is_none"` does.
macro_rules! obj {
    (sparse: $($fields:tt)*) => {
        $crate::fields::sparse(&$crate::fields::fields! {$($fields)*})
    };
    ($($fields:tt)*) => {
        $crate::fields::object(&$crate::fields::fields! {$($fields)*})
    };
}
pub(crate) use obj;

/// `fields!{"key": value, ...}`: the array of `(key, Field)` pairs [`obj!`] makes its object of
/// (and the audit module's `audit` its line of).
macro_rules! fields {
    ($($key:literal : $value:expr),* $(,)?) => {
        [$(($key, $crate::fields::ToField::field(&$value))),*]
    };
}
pub(crate) use fields;

/// One field's value, borrowed.
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number that is not negative.
    U64(u64),
    /// A string.
    Str(&'a str),
    /// An array of strings.
    Strs(&'a [String]),
    /// An array of values.
    Values(&'a [Value]),
    /// An object.
    Map(&'a Map<String, Value>),
    /// Any value (copied).
    Json(&'a Value),
}

impl Field<'_> {
    /// The value `serde_json::to_value` gives for what this field borrows.
    pub fn to_value(self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(b),
            Field::U64(n) => Value::from(n),
            Field::Str(s) => Value::String(s.to_owned()),
            Field::Strs(list) => {
                Value::Array(list.iter().map(|s| Value::String(s.clone())).collect())
            }
            Field::Values(list) => Value::Array(list.to_vec()),
            Field::Map(map) => Value::Object(map.clone()),
            Field::Json(v) => v.clone(),
        }
    }
}

/// The object with `fields`, as `json!` builds it. One copy for every call site.
#[inline(never)]
pub fn object(fields: &[(&str, Field<'_>)]) -> Value {
    let mut map = Map::new();
    for (key, field) in fields {
        map.insert((*key).to_owned(), field.to_value());
    }
    Value::Object(map)
}

/// The object with the `fields` that are not `null`.
#[inline(never)]
pub fn sparse(fields: &[(&str, Field<'_>)]) -> Value {
    let mut value = object(fields);
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.is_null());
    }
    value
}

/// `value` as JSON text, byte for byte what `serde_json::to_string` writes (compact, members in
/// the map's order, the same escapes; the tests compare the two), without serde's serializer:
/// every response, record and audit line the worker writes is a `Value`.
pub fn text(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json's own digits (a `Number` is never NaN or infinite).
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string: `"` and `\` escaped, control characters as `\b \t \n \f \r` or `\u00xx`
/// (lowercase), everything else (DEL and all of Unicode) as it is.
fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are character boundaries.
        out.push_str(&s[run..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)].into());
            out.push(HEX[usize::from(b & 0xf)].into());
        } else {
            out.push_str(short);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// The JSON object in `text`, read as token headers and claims are: a key repeated at any
/// depth refuses the whole text (one reading per text, whoever reads it). Every JSON object the
/// worker reads goes through here or the core directly, so its wasm holds one JSON reader.
pub fn parse(text: &str) -> Result<Value, warden_core::JsonError> {
    warden_core::parse_json_object(text.as_bytes()).map(Value::Object)
}

/// The members of a JSON object, read by type — what [`obj!`] writes, read back: a missing
/// member and `null` are alike (`None` for an optional one, as a derived `Deserialize` reads an
/// `Option`); a member of the wrong type makes the whole object unreadable (`None`).
pub struct Members<'v>(&'v Map<String, Value>);

impl<'v> Members<'v> {
    /// The members of `v`, if it is an object.
    pub fn of(v: &'v Value) -> Option<Self> {
        v.as_object().map(Members)
    }

    /// The member `name`, unless missing or `null`.
    pub fn get(&self, name: &str) -> Option<&'v Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// The string `name`.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name)?.as_str().map(str::to_owned)
    }

    /// The string `name`, or `Some(None)` when it is missing or `null`.
    pub fn opt_string(&self, name: &str) -> Option<Option<String>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => v.as_str().map(|s| Some(s.to_owned())),
        }
    }

    /// The non-negative integer `name`.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.get(name)?.as_u64()
    }

    /// The non-negative integer `name`, or `Some(None)` when it is missing or `null`.
    pub fn opt_number(&self, name: &str) -> Option<Option<u64>> {
        match self.get(name) {
            None => Some(None),
            Some(v) => v.as_u64().map(Some),
        }
    }

    /// The boolean `name`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name)?.as_bool()
    }

    /// A list of `read` items.
    pub fn list<T>(&self, name: &str, read: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
        self.get(name)?.as_array()?.iter().map(read).collect()
    }

    /// A list of `read` items; missing: empty.
    pub fn opt_list<T>(&self, name: &str, read: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
        match self.get(name) {
            None => Some(Vec::new()),
            Some(_) => self.list(name, read),
        }
    }
}

/// What [`obj!`] can take as a value: each serialises as `json!` would serialise it.
pub trait ToField {
    /// The borrowed field.
    fn field(&self) -> Field<'_>;
}

impl<T: ToField + ?Sized> ToField for &T {
    fn field(&self) -> Field<'_> {
        (**self).field()
    }
}

impl<T: ToField> ToField for Option<T> {
    fn field(&self) -> Field<'_> {
        match self {
            Some(v) => v.field(),
            None => Field::Null,
        }
    }
}

impl ToField for Field<'_> {
    fn field(&self) -> Field<'_> {
        *self
    }
}

impl ToField for str {
    fn field(&self) -> Field<'_> {
        Field::Str(self)
    }
}

impl ToField for String {
    fn field(&self) -> Field<'_> {
        Field::Str(self)
    }
}

impl ToField for bool {
    fn field(&self) -> Field<'_> {
        Field::Bool(*self)
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl ToField for $t {
            fn field(&self) -> Field<'_> {
                Field::U64(*self as u64)
            }
        }
    )*};
}
unsigned!(u16, u32, u64, usize);

impl ToField for [String] {
    fn field(&self) -> Field<'_> {
        Field::Strs(self)
    }
}

impl ToField for [Value] {
    fn field(&self) -> Field<'_> {
        Field::Values(self)
    }
}

impl<T> ToField for Vec<T>
where
    [T]: ToField,
{
    fn field(&self) -> Field<'_> {
        self.as_slice().field()
    }
}

impl ToField for Map<String, Value> {
    fn field(&self) -> Field<'_> {
        Field::Map(self)
    }
}

impl ToField for Value {
    fn field(&self) -> Field<'_> {
        Field::Json(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_same_json_as_json_macro() {
        let (s, owned, none): (&str, String, Option<&str>) = ("a\"b", "ü\n".to_owned(), None);
        let list = vec!["x".to_owned(), "y".to_owned()];
        let values = vec![json!({"k": 1}), Value::Null];
        let mut map = Map::new();
        map.insert("m".into(), json!([1, "two"]));
        let some: Option<String> = Some("s".into());
        let built = obj! {
            "str": s, "string": owned, "none": none, "some": some, "some_ref": some.as_deref(),
            "t": true, "f": false, "u16": 7u16, "u32": u32::MAX, "u64": u64::MAX,
            "usize": 3usize, "list": list, "slice": list.as_slice(),
            "values": values, "map": map, "null": Value::Null, "nested": obj! {"z": 1u64, "a": s},
            "dup": 1u64, "dup": 2u64, "opt_num": Some(9u64), "opt_none": None::<u64>,
        };
        let expected = json!({
            "str": s, "string": owned, "none": none, "some": some, "some_ref": some.as_deref(),
            "t": true, "f": false, "u16": 7u16, "u32": u32::MAX, "u64": u64::MAX,
            "usize": 3usize, "list": list, "slice": list.as_slice(),
            "values": values, "map": map, "null": null, "nested": {"z": 1u64, "a": s},
            "dup": 1u64, "dup": 2u64, "opt_num": Some(9u64), "opt_none": None::<u64>,
        });
        assert_eq!(built, expected);
        assert_eq!(built.to_string(), expected.to_string());
        assert_eq!(obj! {}, json!({}));
        let sparse = obj!(sparse: "a": None::<u64>, "b": 1u64, "c": Value::Null, "d": s);
        assert_eq!(sparse, json!({"b": 1, "d": s}));
    }

    /// A value built from `next`'s numbers: every kind, nested up to `depth`, strings drawn
    /// from every ASCII byte and some of Unicode, numbers of every kind serde_json holds.
    fn value(next: &mut impl FnMut() -> u64, depth: u32) -> Value {
        let string = |next: &mut dyn FnMut() -> u64| -> String {
            const OTHER: [char; 6] = ['\u{7f}', '\u{80}', 'é', '\u{2028}', '€', '🦀'];
            (0..next() % 12)
                .map(|_| match next() % 4 {
                    0 => OTHER[(next() % 6) as usize],
                    _ => char::from((next() % 128) as u8),
                })
                .collect()
        };
        match next() % if depth == 0 { 4 } else { 6 } {
            0 => Value::Null,
            1 => Value::Bool(next().is_multiple_of(2)),
            2 => match next() % 3 {
                0 => Value::from(next()),
                1 => Value::from(next() as i64),
                _ => serde_json::Number::from_f64(f64::from_bits(next()))
                    .map_or(Value::Null, Value::Number),
            },
            3 => Value::String(string(next)),
            4 => Value::Array((0..next() % 4).map(|_| value(next, depth - 1)).collect()),
            _ => Value::Object(
                (0..next() % 4)
                    .map(|_| (string(next), value(next, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn text_is_what_serde_json_writes() {
        let cases = [
            json!(null),
            json!({"a": [1, -2, 0.5, 1e300, -0.0, true, false, null], "": {}, "b": []}),
            json!("\"\\/\u{0}\u{1f}\u{7f}\u{8}\u{c}\n\r\t é"),
            json!({"\"k\n": "v"}),
            json!(u64::MAX),
            json!(i64::MIN),
        ];
        for v in &cases {
            assert_eq!(text(v), serde_json::to_string(v).unwrap());
        }
        // xorshift64: the same values on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut escapes, mut floats) = (0, 0);
        for _ in 0..3000 {
            let v = value(&mut next, 3);
            let expected = serde_json::to_string(&v).unwrap();
            escapes += usize::from(expected.contains("\\u00"));
            floats += usize::from(expected.contains('e') || expected.contains('.'));
            assert_eq!(text(&v), expected);
        }
        // The generated values do reach the escapes and the floats.
        assert!(escapes > 100 && floats > 100, "{escapes} {floats}");
    }
}
