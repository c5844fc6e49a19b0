//! The plan as JSON: the `Plan` itself, versioned by `format_version`.

use super::Render;
use crate::plan::Plan;

pub struct Json;

impl Render for Json {
    fn write(&self, plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, plan)?;
        out.write_all(b"\n")
    }
}
