//! The plan as JSON: the `Plan` itself, versioned by `format_version`.

use super::Render;
use crate::plan::Plan;

pub struct Json;

impl Render for Json {
    fn write(&self, plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        plan.write_json(&mut *out)?;
        out.write_all(b"\n")
    }
}
