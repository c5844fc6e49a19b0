//! Where each part of the manifest stands in its file. serde gives the typed
//! values but forgets positions once parsing succeeds; the planner still needs
//! them to say which line asked for a move or which two lines conflict. This
//! walks the YAML events once and remembers the line and column of every
//! group, resource entry and rule.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A line and column, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Positions by path: `["groups", "prod"]` is the group key `prod`,
/// `["groups", "prod", "resources", "3"]` its fourth resource entry. A path
/// is stored as one string, its segments joined by [`SEPARATOR`]: a manifest
/// of 100,000 entries keeps 100,000 of them.
#[derive(Debug, Default)]
pub struct SourceMap {
    positions: HashMap<String, Position>,
}

/// Joins path segments; a control character no YAML key here contains.
const SEPARATOR: char = '\u{1f}';

fn joined<S: AsRef<str>>(segments: &[S]) -> String {
    let mut key = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            key.push(SEPARATOR);
        }
        key.push_str(segment.as_ref());
    }
    key
}

/// Only this deep is remembered: groups, entries and rules.
const DEPTH: usize = 4;

impl SourceMap {
    /// Reads positions from `text`; a text that does not parse yields an
    /// empty map, since the typed parse reports the syntax error itself.
    pub fn build(text: &str) -> SourceMap {
        let mut walker = Walker::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut walker, false).is_err() {
            return SourceMap::default();
        }
        SourceMap {
            positions: walker.positions,
        }
    }

    pub fn get(&self, path: &[&str]) -> Option<Position> {
        self.positions.get(&joined(path)).copied()
    }
}

enum Frame {
    Mapping { key: Option<String> },
    Sequence { next_index: usize },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    /// The path of the container each frame stands for.
    path: Vec<String>,
    positions: HashMap<String, Position>,
    /// A mapping whose position is taken from its first key: the parser
    /// marks a block mapping's start after that key, not at it.
    pending: Option<String>,
}

impl Walker {
    /// Called for every node; returns the segment under which the node sits
    /// in its parent, or `None` when the node is a mapping key.
    fn place_node(&mut self, scalar: Option<&str>, mark: Marker) -> Option<String> {
        let position = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Sequence { next_index }) => {
                let segment = next_index.to_string();
                *next_index += 1;
                self.remember(&segment, position);
                Some(segment)
            }
            Some(Frame::Mapping { key }) => match key.take() {
                Some(segment) => Some(segment),
                None => {
                    // A key: remember where it stands (that is where a
                    // person looks for a group), then expect its value.
                    let name = scalar.unwrap_or_default().to_owned();
                    self.remember(&name, position);
                    if let Some(Frame::Mapping { key }) = self.stack.last_mut() {
                        *key = Some(name);
                    }
                    None
                }
            },
        }
    }

    fn remember(&mut self, segment: &str, position: Position) {
        // `path[0]` stands for the document's root node, which has no name.
        if self.path.len() <= DEPTH {
            let mut full: Vec<&str> = self.path.iter().skip(1).map(String::as_str).collect();
            full.push(segment);
            self.positions.entry(joined(&full)).or_insert(position);
        }
    }

    fn settle_pending(&mut self, mark: Marker) {
        if let Some(path) = self.pending.take() {
            self.positions.insert(
                path,
                Position {
                    line: mark.line(),
                    column: mark.col() + 1,
                },
            );
        }
    }

    fn open(&mut self, segment: Option<String>, frame: Frame) {
        self.path.push(segment.unwrap_or_default());
        self.stack.push(frame);
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, ..) => {
                self.settle_pending(mark);
                self.place_node(Some(&value), mark);
            }
            Event::Alias(_) => {
                self.place_node(None, mark);
            }
            Event::MappingStart(..) => {
                let in_sequence = matches!(self.stack.last(), Some(Frame::Sequence { .. }));
                let segment = self.place_node(None, mark);
                if let (true, Some(name)) = (in_sequence, &segment) {
                    if self.path.len() <= DEPTH {
                        let full: Vec<&String> = self
                            .path
                            .iter()
                            .skip(1)
                            .chain(std::iter::once(name))
                            .collect();
                        self.pending = Some(joined(&full));
                    }
                }
                self.open(segment, Frame::Mapping { key: None });
            }
            Event::SequenceStart(..) => {
                let segment = self.place_node(None, mark);
                self.open(segment, Frame::Sequence { next_index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.pending = None;
                self.stack.pop();
                self.path.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_groups_entries_and_rules() {
        let text = "version: 1\ngroups:\n  prod:\n    resources:\n      - instance/i-1\n      - {type: disk, id: d-1}\n    select:\n      - tags: {a: b}\n  dev:\n    resources: [instance/i-2]\n";
        let map = SourceMap::build(text);
        assert_eq!(
            map.get(&["groups", "prod"]),
            Some(Position { line: 3, column: 3 })
        );
        assert_eq!(
            map.get(&["groups", "prod", "resources", "0"]),
            Some(Position { line: 5, column: 9 })
        );
        assert_eq!(
            map.get(&["groups", "prod", "resources", "1"]),
            Some(Position {
                line: 6,
                column: 10
            })
        );
        assert_eq!(
            map.get(&["groups", "prod", "select", "0"]),
            Some(Position { line: 8, column: 9 })
        );
        assert_eq!(
            map.get(&["groups", "dev", "resources", "0"]),
            Some(Position {
                line: 10,
                column: 17
            })
        );
    }
}
