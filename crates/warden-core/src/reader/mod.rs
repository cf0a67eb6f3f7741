//! A strict JSON reader for token headers and claims: it reads a few named members of a JSON
//! object straight from the decoded bytes and walks every other value without building it.
//!
//! It accepts exactly the texts serde_json accepts as a `Value` with duplicate keys refused, and
//! refuses the others with the same [`JsonError`]: RFC 8259 syntax as serde_json reads it (its
//! number forms and range, its string escapes with `\u` surrogates in pairs, UTF-8, its
//! whitespace), a non-object top level, duplicate keys at any depth (compared after unescaping),
//! serde_json's nesting limit of 128. Like serde_json it reads the text once, from
//! the start, so the first problem in the text decides the error. [`tree`] builds whole objects
//! as serde_json values with it ([`crate::parse_json_object`]). `differential.rs` holds both
//! against serde_json itself; the fuzz target `json_reader` does the same on arbitrary bytes.
//!
//! Keys and strings borrow from the input where they have no escapes. What allocates: a string
//! with escapes, a captured array of strings, and one key list per object that has members not
//! named (a tree instead of a list for an object of many keys).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

#[cfg(all(any(test, fuzzing), feature = "json"))]
pub(crate) mod differential;
#[cfg(feature = "json")]
pub(crate) mod tree;

/// Why a JSON text was refused: by token parsing, [`crate::parse_json_object`] and the rest of the
/// core alike (one reader reads them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not well-formed JSON (or not UTF-8).
    Syntax,
    /// Well-formed, but the top level is not an object.
    NotAnObject,
    /// An object, at any depth, names the same key twice.
    DuplicateKey,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonError::Syntax => "not valid JSON",
            JsonError::NotAnObject => "not a JSON object",
            JsonError::DuplicateKey => "a JSON object repeats a key",
        })
    }
}

impl core::error::Error for JsonError {}

/// A captured member value: just enough of its shape for the typed checks that follow.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Member<'a> {
    /// A JSON string.
    Str(Cow<'a, str>),
    /// A non-negative JSON integer written without fraction or exponent that fits a `u64` (what
    /// serde_json reads as a `u64`: `1.0`, `1e3` and `-0` are not).
    U64(u64),
    /// An array whose elements are all strings (possibly none).
    Strs(Vec<Cow<'a, str>>),
    /// An object: its text from `{` to `}`, read and checked ([`read_object`] reads it again
    /// for its own members).
    Object(&'a [u8]),
    /// Anything else (walked and checked, not kept).
    Other,
}

/// Reads the JSON object in `bytes`, capturing the members named in `names` (in that order) and
/// walking every other value. Refuses what [`crate::parse_json_object`] refuses, with the same
/// [`JsonError`].
pub(crate) fn read_object<'a, const N: usize>(
    bytes: &'a [u8],
    names: &[&'static str; N],
) -> Result<[Option<Member<'a>>; N], JsonError> {
    let mut r = Reader::new(bytes);
    let mut members: [Option<Member<'a>>; N] = core::array::from_fn(|_| None);
    // As serde_json: the whole value first, then only whitespace, then the object check.
    let object = r.skip_whitespace() == Some(b'{');
    if object {
        r.object(names, &mut members)?;
    } else {
        r.value(false)?;
    }
    if r.skip_whitespace().is_some() {
        return Err(JsonError::Syntax);
    }
    if object {
        Ok(members)
    } else {
        Err(JsonError::NotAnObject)
    }
}

/// serde_json's nesting limit: an array or object nested 128 deep is refused.
const MAX_DEPTH: u8 = 128;

/// Every refusal but a duplicate key and a non-object top level.
const SYNTAX: JsonError = JsonError::Syntax;

struct Reader<'a> {
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    /// How many more arrays and objects may open before the limit.
    depth: u8,
}

// The per-byte helpers are `#[inline(always)]`: at the npm package's opt-level "z" LLVM keeps
// them as calls otherwise, one or more per byte of the token.
impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            at: 0,
            depth: MAX_DEPTH,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The next byte, read (never past the end).
    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_some() {
            self.at += 1;
        }
        b
    }

    /// Reads `byte` if it is next.
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        let here = self.peek() == Some(byte);
        if here {
            self.at += 1;
        }
        here
    }

    /// The value of the next byte if it is a decimal digit, not read.
    #[inline(always)]
    fn peek_digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|b| b - b'0')
    }

    /// The value of the next byte if it is a decimal digit, read.
    #[inline(always)]
    fn digit(&mut self) -> Option<u8> {
        let d = self.peek_digit();
        if d.is_some() {
            self.at += 1;
        }
        d
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return); the next byte, if any.
    #[inline(always)]
    fn skip_whitespace(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
        self.peek()
    }

    /// Reads `byte` after optional whitespace.
    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.skip_whitespace() != Some(byte) {
            return Err(SYNTAX);
        }
        self.at += 1;
        Ok(())
    }

    /// Reads any value; [`Member::Other`] for one not worth capturing, and for every array and
    /// object unless `capture`.
    fn value(&mut self, capture: bool) -> Result<Member<'a>, JsonError> {
        match self.skip_whitespace() {
            Some(b'{') => {
                let start = self.at;
                self.object(&[], &mut [])?;
                let text = &self.bytes[start..self.at];
                Ok(if capture {
                    Member::Object(text)
                } else {
                    Member::Other
                })
            }
            Some(b'[') => self.array(capture),
            Some(b'"') => {
                self.at += 1;
                self.string().map(Member::Str)
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => Ok(match self.number()? {
                Number::Integer {
                    negative: false,
                    value,
                } => Member::U64(value),
                _ => Member::Other,
            }),
            _ => Err(SYNTAX),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<Member<'a>, JsonError> {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        if !rest.starts_with(word) {
            return Err(SYNTAX);
        }
        self.at += word.len();
        Ok(Member::Other)
    }

    /// Counts one more level of nesting, refused at serde_json's limit.
    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(SYNTAX);
        }
        self.at += 1;
        Ok(())
    }

    /// Reads an object (at its `{`), capturing the members named in `names` into `members` (as
    /// many, all `None`). A key is checked for duplicates as soon as it is read, before its
    /// colon, as serde_json's visitor does. Not generic over the count: one copy in the binary.
    fn object(
        &mut self,
        names: &[&'static str],
        members: &mut [Option<Member<'a>>],
    ) -> Result<(), JsonError> {
        self.enter()?;
        // Only the keys of unnamed members: a named member's slot says whether it was seen.
        let mut others = Keys::new();
        if self.skip_whitespace() != Some(b'}') {
            loop {
                self.expect(b'"')?;
                let key = self.string()?;
                let slot = names.iter().position(|n| same(n, &key));
                let repeated = match slot {
                    Some(i) => members[i].is_some(),
                    None => !others.insert(key),
                };
                if repeated {
                    return Err(JsonError::DuplicateKey);
                }
                self.expect(b':')?;
                let value = self.value(slot.is_some())?;
                if let Some(i) = slot {
                    members[i] = Some(value);
                }
                if self.skip_whitespace() != Some(b',') {
                    break;
                }
                self.at += 1;
            }
        }
        self.expect(b'}')?;
        self.depth += 1;
        Ok(())
    }

    /// Reads an array (at its `[`): [`Member::Strs`] when `capture` and every element is a
    /// string. Every element is read to the end either way (a duplicate key further on must still
    /// be refused).
    fn array(&mut self, capture: bool) -> Result<Member<'a>, JsonError> {
        self.enter()?;
        let mut strings = capture.then(Vec::new);
        if self.skip_whitespace() != Some(b']') {
            loop {
                match (self.value(false)?, &mut strings) {
                    (Member::Str(s), Some(list)) => list.push(s),
                    _ => strings = None,
                }
                if self.skip_whitespace() != Some(b',') {
                    break;
                }
                self.at += 1;
            }
        }
        self.expect(b']')?;
        self.depth += 1;
        Ok(strings.map_or(Member::Other, Member::Strs))
    }

    /// Reads a string's contents and its closing quote (the opening one is read). Control
    /// characters are refused, escapes decoded (`\u` surrogates only in pairs), and the result
    /// must be UTF-8.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let start = self.at;
        let mut end = self.plain_run();
        let text = &self.bytes[start..end];
        if self.bytes.get(end) == Some(&b'"') {
            self.at = end + 1;
            return core::str::from_utf8(text)
                .map(Cow::Borrowed)
                .map_err(|_| SYNTAX);
        }
        // Escapes: the text so far, then the rest decoded.
        let mut out = Vec::from(text);
        while self.bytes.get(end) == Some(&b'\\') {
            self.at = end + 1;
            self.escape(&mut out)?;
            end = self.plain_run();
            out.extend_from_slice(&self.bytes[self.at..end]);
        }
        if self.bytes.get(end) != Some(&b'"') {
            return Err(SYNTAX);
        }
        self.at = end + 1;
        String::from_utf8(out).map(Cow::Owned).map_err(|_| SYNTAX)
    }

    /// Where the run of string bytes from here ends: at a quote, a backslash, a control
    /// character or the end of the text (none of them read).
    #[inline(always)]
    fn plain_run(&self) -> usize {
        let mut end = self.at;
        // Every byte but `"` (0x22), `\` (0x5C) and the control characters below 0x20.
        while let Some(b' ' | b'!' | b'#'..=b'[' | b']'..) = self.bytes.get(end) {
            end += 1;
        }
        end
    }

    /// Decodes the escape after a backslash onto `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let c = match self.next().ok_or(SYNTAX)? {
            b @ (b'"' | b'\\' | b'/') => char::from(b),
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let code = match self.hex4()? {
                    0xDC00..=0xDFFF => return Err(SYNTAX),
                    high @ 0xD800..=0xDBFF => {
                        if (self.next(), self.next()) != (Some(b'\\'), Some(b'u')) {
                            return Err(SYNTAX);
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(SYNTAX);
                        }
                        0x1_0000 + (((high - 0xD800) << 10) | (low - 0xDC00))
                    }
                    code => code,
                };
                char::from_u32(code).ok_or(SYNTAX)?
            }
            _ => return Err(SYNTAX),
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    /// Four hex digits, either case.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = char::from(self.next().ok_or(SYNTAX)?)
                .to_digit(16)
                .ok_or(SYNTAX)?;
            n = (n << 4) | digit;
        }
        Ok(n)
    }

    /// Reads a number as serde_json does (without its `float_roundtrip` feature), into the parts
    /// serde_json computes its value from. Refused, as there: a leading zero before a digit; a
    /// `-`, `.` or exponent without a digit after it; a value serde_json's float arithmetic
    /// takes to infinity.
    fn number(&mut self) -> Result<Number, JsonError> {
        let negative = self.eat(b'-');
        // The value is `significand × 10^exponent`. Digits a u64 cannot hold are dropped where
        // serde_json drops them: before the point each still scales the value, after it none.
        let mut significand = 0u64;
        let mut exponent = 0i32;
        match self.digit() {
            Some(0) => {
                if self.peek_digit().is_some() {
                    return Err(SYNTAX);
                }
            }
            Some(d) => {
                significand = u64::from(d);
                let mut full = false;
                while let Some(d) = self.digit() {
                    full = full || !push_digit(&mut significand, d);
                    if full {
                        exponent = exponent.saturating_add(1);
                    }
                }
            }
            None => return Err(SYNTAX),
        }
        // An integer too long for a u64 is a float to serde_json.
        let mut float = exponent != 0;
        if self.eat(b'.') {
            float = true;
            if self.peek_digit().is_none() {
                return Err(SYNTAX);
            }
            let mut full = false;
            while let Some(d) = self.digit() {
                full = full || !push_digit(&mut significand, d);
                if !full {
                    exponent = exponent.saturating_sub(1);
                }
            }
        }
        if self.eat(b'e') || self.eat(b'E') {
            float = true;
            let positive = !self.eat(b'-');
            if positive {
                self.eat(b'+');
            }
            if self.peek_digit().is_none() {
                return Err(SYNTAX);
            }
            let mut e = Some(0i32);
            while let Some(d) = self.digit() {
                e = e.and_then(|e| e.checked_mul(10)?.checked_add(i32::from(d)));
            }
            let Some(e) = e else {
                // An exponent past i32: serde_json refuses infinity and reads zero otherwise.
                return if significand != 0 && positive {
                    Err(SYNTAX)
                } else {
                    Ok(Number::Float {
                        negative,
                        significand: 0,
                        exponent: 0,
                    })
                };
            };
            exponent = if positive {
                exponent.saturating_add(e)
            } else {
                exponent.saturating_sub(e)
            };
        }
        if !float {
            return Ok(Number::Integer {
                negative,
                value: significand,
            });
        }
        if significand != 0 && overflows(significand, exponent) {
            return Err(SYNTAX);
        }
        Ok(Number::Float {
            negative,
            significand,
            exponent,
        })
    }
}

/// A number as serde_json reads it, before its value is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    /// Digits without fraction or exponent whose value fits a `u64` (`-` before them if
    /// `negative`).
    Integer { negative: bool, value: u64 },
    /// `significand × 10^exponent` (`-` before it if `negative`): every other number. Its value
    /// cannot reach infinity (refused when read).
    Float {
        negative: bool,
        significand: u64,
        exponent: i32,
    },
}

/// `a == b`, the first bytes compared inline: most keys differ from most names there, and at the
/// npm package's opt-level a string comparison is two calls.
#[inline(always)]
fn same(a: &str, b: &str) -> bool {
    a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// `n = n × 10 + d` if that fits a u64: serde_json's own test, so the same digit stops (and no
/// 128-bit multiplication, which wasm does in software).
#[inline(always)]
fn push_digit(n: &mut u64, d: u8) -> bool {
    const MAX: u64 = u64::MAX;
    if *n > MAX / 10 || (*n == MAX / 10 && u64::from(d) > MAX % 10) {
        return false;
    }
    *n = *n * 10 + u64::from(d);
    true
}

/// Whether serde_json takes `significand × 10^exponent` (significand not zero) to infinity: it
/// multiplies `significand as f64` by its table's `10^exponent` (`1e0` to `1e308`, correctly
/// rounded literals as here) and refuses any larger exponent. Below `1e289` no u64 reaches
/// `f64::MAX`, so only the table's top entries are needed. Negative exponents never overflow.
fn overflows(significand: u64, exponent: i32) -> bool {
    const FROM: i32 = 289;
    const POW10: [f64; 20] = [
        1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301,
        1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
    ];
    match exponent {
        ..FROM => false,
        FROM..=308 => POW10
            .get((exponent - FROM) as usize)
            .is_some_and(|pow| (significand as f64 * pow).is_infinite()),
        _ => true,
    }
}

/// The keys one object has named so far: a short list, then a tree once the object is large
/// (so a hostile object of many keys costs `n log n` comparisons, not `n²`).
enum Keys<'a> {
    Few(Vec<Cow<'a, str>>),
    Many(Tree),
}

/// The tree of a large object's keys. With `json`, serde_json's own map, its values unused: every
/// build with `json` carries that B-tree anyway (`parse_json_object`), and a second one over
/// another type is about 7 KB of the worker's wasm. Its keys are owned: only objects of more than
/// [`FEW_KEYS`] keys pay for that.
#[cfg(feature = "json")]
type Tree = serde_json::Map<String, serde_json::Value>;
#[cfg(feature = "json")]
const MEMBER: serde_json::Value = serde_json::Value::Null;
#[cfg(not(feature = "json"))]
type Tree = alloc::collections::BTreeMap<String, ()>;
#[cfg(not(feature = "json"))]
const MEMBER: () = ();

/// Above this many keys an object's keys move from a list to a tree. Below it a linear search
/// is at most a few hundred short comparisons; an identity provider's token of 25 claims stays a
/// list.
const FEW_KEYS: usize = 32;

impl<'a> Keys<'a> {
    const fn new() -> Self {
        Keys::Few(Vec::new())
    }

    /// Records `key`; `false` when the object already named it.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        match self {
            Keys::Few(list) => {
                if list.contains(&key) {
                    return false;
                }
                list.push(key);
                if list.len() > FEW_KEYS {
                    // One by one rather than `collect()`, which sorts first: the same set, without
                    // a sort routine in the wasm builds (about 4 KB).
                    let mut tree = Tree::new();
                    for key in list.drain(..) {
                        tree.insert(key.into_owned(), MEMBER);
                    }
                    *self = Keys::Many(tree);
                }
                true
            }
            Keys::Many(tree) => tree.insert(key.into_owned(), MEMBER).is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `>` → `==`, `<`, `>=` in `Keys::insert`: an object's keys stay a list up to `FEW_KEYS`
    /// and move to a tree with the next one (so a hostile object of many keys costs `n log n`),
    /// and duplicates are found either way.
    #[test]
    fn keys_move_to_a_tree_after_few_keys() {
        let mut keys = Keys::new();
        for i in 0..FEW_KEYS {
            assert!(keys.insert(Cow::Owned(alloc::format!("k{i}"))));
            assert!(
                matches!(&keys, Keys::Few(list) if list.len() == i + 1),
                "{i}"
            );
        }
        assert!(!keys.insert(Cow::Borrowed("k0")));
        assert!(matches!(&keys, Keys::Few(_)));
        assert!(keys.insert(Cow::Borrowed("one more")));
        assert!(matches!(&keys, Keys::Many(set) if set.len() == FEW_KEYS + 1));
        assert!(!keys.insert(Cow::Borrowed("k0")));
        assert!(!keys.insert(Cow::Borrowed("one more")));
        assert!(keys.insert(Cow::Borrowed("and another")));
    }

    /// Only the top of serde_json's power table can overflow, and the table's edges hold.
    #[test]
    fn overflow_at_the_top_of_the_table() {
        assert!(!overflows(u64::MAX, 288));
        assert!(!overflows(1, 308));
        assert!(overflows(10, 308));
        assert!(overflows(1, 309));
        assert!(overflows(1, i32::MAX));
        assert!(!overflows(u64::MAX, -1));
        assert!(!overflows(u64::MAX, i32::MIN));
        assert!(overflows(u64::MAX, 289));
        assert!(!overflows(17, 289));
    }
}
