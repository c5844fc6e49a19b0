//! The one pass over YAML text: a pull reader over yaml-rust2's events. The
//! loader (`raw.rs`) asks for the node it expects next and gets it with its
//! line and column, so values and positions come from the same pass, and
//! nothing is held beyond the node at hand: a manifest of 100,000 entries
//! is never a tree or an event buffer in memory.
//!
//! Plain scalars are typed by the YAML 1.2 core schema (`1` is a number,
//! `true` a boolean, `~` nothing), as editors and JSON Schema validators
//! read the same file, so the loader and `regroup schema` agree on what a
//! value is. Every error here is a [`Problem`] of ours with a position;
//! the parser's own text is kept only as the detail of a syntax error.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::Problem;

/// A line and column, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn of(mark: Marker) -> Position {
        Position {
            line: mark.line(),
            column: mark.col() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One step of the way from the document's root to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path such as `groups.prod.resources[2]`, for messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'));
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A problem at a place. The path is filled in on the way out, by each
/// level the error passes, so a manifest that reads cleanly builds none.
#[derive(Debug)]
pub struct Fault {
    pub at: Position,
    pub path: KeyPath,
    /// Boxed: errors are rare, and results that carry one stay small.
    pub problem: Box<Problem>,
}

impl Fault {
    pub fn new(at: Position, problem: Problem) -> Fault {
        Fault {
            at,
            path: KeyPath::default(),
            problem: Box::new(problem),
        }
    }

    /// The same fault, one level further out: under `segment`.
    pub fn under(mut self, segment: Segment) -> Fault {
        self.path.0.insert(0, segment);
        self
    }
}

/// Adds the path segment of the value being read to any fault it returns.
pub trait Under<T> {
    fn key(self, key: &str) -> Result<T, Fault>;
    fn index(self, index: usize) -> Result<T, Fault>;
}

impl<T> Under<T> for Result<T, Fault> {
    fn key(self, key: &str) -> Result<T, Fault> {
        self.map_err(|f| f.under(Segment::Key(key.to_owned())))
    }

    fn index(self, index: usize) -> Result<T, Fault> {
        self.map_err(|f| f.under(Segment::Index(index)))
    }
}

/// What a plain scalar is by the YAML 1.2 core schema. Quoted and block
/// scalars, and those tagged `!!str`, are always text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Null,
    Bool,
    Int,
    Float,
}

impl Kind {
    fn of_plain(text: &str) -> Kind {
        let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        match text {
            "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => Kind::Bool,
            _ if matches!(unsigned, ".inf" | ".Inf" | ".INF") => Kind::Float,
            ".nan" | ".NaN" | ".NAN" => Kind::Float,
            _ if digits(unsigned, 10) => Kind::Int,
            _ if text.strip_prefix("0o").is_some_and(|s| digits(s, 8)) => Kind::Int,
            _ if text.strip_prefix("0x").is_some_and(|s| digits(s, 16)) => Kind::Int,
            _ if is_float(unsigned) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// `( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`, the core
/// schema's float without its sign.
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A scalar as written, with what it is.
#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: String,
    pub kind: Kind,
    pub at: Position,
}

impl Scalar {
    fn new(text: String, style: TScalarStyle, tag: Option<Tag>, at: Position) -> Scalar {
        let tagged_str = tag.is_some_and(|t| t.suffix == "str");
        let kind = if style == TScalarStyle::Plain && !tagged_str {
            Kind::of_plain(&text)
        } else {
            Kind::Text
        };
        Scalar { text, kind, at }
    }

    fn found(&self) -> Found {
        let text = self.text.clone();
        match self.kind {
            Kind::Null => Found::Nothing,
            Kind::Text => Found::Text(text),
            Kind::Bool => Found::Bool(text),
            Kind::Int | Kind::Float => Found::Number(text),
        }
    }
}

/// The start of a node. A list or map is then read with [`Reader::item`]
/// or [`Reader::key`] until they say it has ended.
#[derive(Debug)]
pub enum Node {
    Scalar(Scalar),
    List(Position),
    Map(Position),
}

impl Node {
    pub fn at(&self) -> Position {
        match self {
            Node::Scalar(s) => s.at,
            Node::List(at) | Node::Map(at) => *at,
        }
    }

    /// What this node is, for a message that expected something else.
    pub fn found(&self) -> Found {
        match self {
            Node::List(_) => Found::List,
            Node::Map(_) => Found::Map,
            Node::Scalar(s) => s.found(),
        }
    }

    /// A scalar that YAML reads as text. A number or boolean is
    /// `Unquoted`, since quoting it is the fix; anything else `WrongShape`.
    pub fn text(self, wanted: Wanted) -> Result<Scalar, Fault> {
        match self {
            Node::Scalar(s) if s.kind == Kind::Text => Ok(s),
            Node::Scalar(s) if s.kind != Kind::Null => Err(Fault::new(
                s.at,
                Problem::Unquoted {
                    expected: wanted.0,
                    found: s.found(),
                },
            )),
            other => Err(other.wrong(wanted)),
        }
    }

    pub fn wrong(&self, (expected, example): Wanted) -> Fault {
        Fault::new(
            self.at(),
            Problem::WrongShape {
                expected,
                example,
                found: self.found(),
            },
        )
    }
}

/// What a value should be, and an example of one, for messages.
pub type Wanted = (&'static str, &'static str);

/// What was found where something else was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Map,
    List,
    Nothing,
    Text(String),
    Bool(String),
    Number(String),
}

impl Found {
    /// A number or boolean that was meant as text: quoting it says so.
    pub fn unquoted(&self) -> Option<&str> {
        match self {
            Found::Bool(text) | Found::Number(text) => Some(text),
            _ => None,
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Map => f.write_str("a map"),
            Found::List => f.write_str("a list"),
            Found::Nothing => f.write_str("nothing"),
            Found::Text(text) => write!(f, "the text `{text}`"),
            Found::Bool(text) => write!(f, "`{text}`, which YAML reads as a boolean"),
            Found::Number(text) => write!(f, "`{text}`, which YAML reads as a number"),
        }
    }
}

/// Reads one YAML document node by node.
pub struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    text: &'a str,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader {
            parser: Parser::new_from_str(text),
            text,
        }
    }

    fn syntax(&self, error: &ScanError) -> Fault {
        let at = Position::of(*error.marker());
        let tab = self
            .text
            .lines()
            .nth(at.line.saturating_sub(1))
            .is_some_and(|line| {
                line.chars()
                    .take_while(|c| c.is_whitespace())
                    .any(|c| c == '\t')
            });
        Fault::new(
            at,
            Problem::Syntax {
                detail: error.info().to_owned(),
                tab,
            },
        )
    }

    fn next(&mut self) -> Result<(Event, Marker), Fault> {
        self.parser.next_token().map_err(|e| self.syntax(&e))
    }

    /// The next event's kind and position, without taking it.
    fn peek(&mut self) -> Result<(bool, Marker), Fault> {
        match self.parser.peek() {
            Ok((event, mark)) => Ok((
                matches!(event, Event::SequenceEnd | Event::MappingEnd),
                *mark,
            )),
            Err(error) => {
                let error = error.clone();
                Err(self.syntax(&error))
            }
        }
    }

    /// The document's root node, or `None` for a file with no document.
    pub fn root(&mut self) -> Result<Option<Node>, Fault> {
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart => {}
                Event::StreamEnd => return Ok(None),
                event => return self.node_from(event, mark).map(Some),
            }
        }
    }

    /// After the root node: refuses a second document.
    pub fn end(&mut self) -> Result<(), Fault> {
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(()),
                _ => return Err(Fault::new(Position::of(mark), Problem::Documents)),
            }
        }
    }

    fn node_from(&mut self, event: Event, mark: Marker) -> Result<Node, Fault> {
        let at = Position::of(mark);
        match event {
            Event::Scalar(text, style, _, tag) => {
                Ok(Node::Scalar(Scalar::new(text, style, tag, at)))
            }
            Event::SequenceStart(..) => Ok(Node::List(at)),
            // A map stands where its first key does: a block mapping is
            // marked after that key, and `- {type: …}` reads best at `type`.
            // An empty map stands at its `{`.
            Event::MappingStart(..) => {
                let (end, first) = self.peek()?;
                Ok(Node::Map(if end { at } else { Position::of(first) }))
            }
            Event::Alias(_) => Err(Fault::new(at, Problem::Alias)),
            _ => Err(Fault::new(at, Problem::Documents)),
        }
    }

    /// The next node where a value stands.
    pub fn node(&mut self) -> Result<Node, Fault> {
        let (event, mark) = self.next()?;
        self.node_from(event, mark)
    }

    /// The next item of the list being read, or `None` at its end.
    pub fn item(&mut self) -> Result<Option<Node>, Fault> {
        if self.peek()?.0 {
            self.next()?;
            return Ok(None);
        }
        self.node().map(Some)
    }

    /// The next key of the map being read, or `None` at its end. Keys are
    /// text as written: `2024:` is the key "2024", as in JSON.
    pub fn key(&mut self) -> Result<Option<(String, Position)>, Fault> {
        let (event, mark) = self.next()?;
        let at = Position::of(mark);
        match event {
            Event::MappingEnd => Ok(None),
            Event::Scalar(text, ..) => Ok(Some((text, at))),
            Event::Alias(_) => Err(Fault::new(at, Problem::Alias)),
            _ => Err(Fault::new(at, Problem::ComplexKey)),
        }
    }
}

/// The keys of one map read so far, to refuse a second of any of them.
#[derive(Default)]
pub struct SeenKeys(HashMap<String, Position>);

impl SeenKeys {
    pub fn add(&mut self, key: &str, at: Position) -> Result<(), Fault> {
        match self.0.get(key) {
            Some(first) => Err(duplicate(key, *first, at)),
            None => {
                self.0.insert(key.to_owned(), at);
                Ok(())
            }
        }
    }
}

fn duplicate(key: &str, first: Position, at: Position) -> Fault {
    Fault::new(
        at,
        Problem::DuplicateKey {
            key: key.to_owned(),
            first,
            second: at,
        },
    )
}

/// The keys of a map with a fixed set of them: refuses an unknown key and
/// a second of any, without allocating for each of 100,000 entries.
pub struct Fields {
    allowed: &'static [&'static str],
    seen: [Option<Position>; 8],
}

impl Fields {
    pub fn new(allowed: &'static [&'static str]) -> Fields {
        debug_assert!(allowed.len() <= 8);
        Fields {
            allowed,
            seen: [None; 8],
        }
    }

    /// The allowed name `key` is, once.
    pub fn add(&mut self, key: &str, at: Position) -> Result<&'static str, Fault> {
        let Some(index) = self.allowed.iter().position(|name| *name == key) else {
            return Err(Fault::new(
                at,
                Problem::UnknownKey {
                    key: key.to_owned(),
                    allowed: self.allowed,
                },
            ));
        };
        if let Some(first) = self.seen[index] {
            return Err(duplicate(key, first, at));
        }
        self.seen[index] = Some(at);
        Ok(self.allowed[index])
    }

    pub fn has(&self, key: &str) -> bool {
        self.allowed
            .iter()
            .zip(&self.seen)
            .any(|(name, seen)| *name == key && seen.is_some())
    }
}

/// How deeply [`to_json`] nests before it refuses: far beyond any fleet,
/// and short of the stack's limit.
const MAX_DEPTH: usize = 64;

/// Reads a whole YAML document into JSON, by the same rules as the
/// manifest: core-schema scalars, duplicate keys refused, no aliases. For
/// the emulator's fleet file and for tests.
pub fn to_json(text: &str) -> Result<serde_json::Value, Fault> {
    let mut reader = Reader::new(text);
    let Some(root) = reader.root()? else {
        return Ok(serde_json::Value::Null);
    };
    let value = node_json(&mut reader, root, 0)?;
    reader.end()?;
    Ok(value)
}

fn node_json(reader: &mut Reader, node: Node, depth: usize) -> Result<serde_json::Value, Fault> {
    if depth > MAX_DEPTH && !matches!(node, Node::Scalar(_)) {
        return Err(Fault::new(node.at(), Problem::TooDeep));
    }
    Ok(match node {
        Node::Scalar(scalar) => scalar_json(&scalar),
        Node::List(_) => {
            let mut items = Vec::new();
            while let Some(item) = reader.item()? {
                let index = items.len();
                items.push(node_json(reader, item, depth + 1).index(index)?);
            }
            serde_json::Value::Array(items)
        }
        Node::Map(_) => {
            let mut map = serde_json::Map::new();
            let mut seen = SeenKeys::default();
            while let Some((key, at)) = reader.key()? {
                seen.add(&key, at)?;
                let value = reader.node().and_then(|n| node_json(reader, n, depth + 1));
                map.insert(key.clone(), value.key(&key)?);
            }
            serde_json::Value::Object(map)
        }
    })
}

/// A number's value, for a scalar of kind `Int` or `Float`.
pub fn number(scalar: &Scalar) -> Option<f64> {
    scalar_json(scalar).as_f64()
}

fn scalar_json(scalar: &Scalar) -> serde_json::Value {
    use serde_json::Value;
    let text = scalar.text.as_str();
    match scalar.kind {
        Kind::Text => Value::String(scalar.text.clone()),
        Kind::Null => Value::Null,
        Kind::Bool => Value::Bool(text.eq_ignore_ascii_case("true")),
        Kind::Int => {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, text.strip_prefix('+').unwrap_or(text)),
            };
            let magnitude = if let Some(octal) = digits.strip_prefix("0o") {
                u64::from_str_radix(octal, 8).ok()
            } else if let Some(hex) = digits.strip_prefix("0x") {
                u64::from_str_radix(hex, 16).ok()
            } else {
                digits.parse::<u64>().ok()
            };
            match (magnitude, negative) {
                (Some(m), false) => Value::from(m),
                (Some(m), true) if m <= i64::MAX as u64 + 1 => {
                    Value::from(0i64.wrapping_sub_unsigned(m))
                }
                _ => float_json(text),
            }
        }
        Kind::Float => float_json(text),
    }
}

/// JSON has no infinity or NaN: those become null, which no schema here
/// takes for a number or text either.
fn float_json(text: &str) -> serde_json::Value {
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}
