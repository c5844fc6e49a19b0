//! The plan as JSON: the `Plan` itself, versioned by `format_version`.

use super::Render;
use crate::plan::Plan;

pub struct Json;

impl Render for Json {
    fn render(&self, plan: &Plan) -> String {
        let mut out = serde_json::to_string_pretty(plan).expect("a plan always serializes");
        out.push('\n');
        out
    }
}
