//! Executes a plan: the stale-plan guard, parallel `JoinResourceGroup` calls
//! under the client's rate limit, progress, interrupts, read-back
//! verification of every started change, a second pass over transient
//! failures, the rails that stop new joins (a RAM denial, `--max-errors`,
//! a `--canary` that did not land), and the report of what happened to
//! every change, which is made on every way a run can end (and from which
//! `--undo-plan` is made). One file per idea:
//!
//! | file | its one job |
//! | --- | --- |
//! | `flow` | `regroup apply` as one call, and the part `reconcile` shares |
//! | `request` | the resolved options of an apply, and how it ended |
//! | `saved` | a saved plan checked against its manifest (or an undo plan against its report), `--region`, re-planned |
//! | `conflicts` | moves an auto-grouping rule would undo |
//! | `records` | `--report` and `--undo-plan`: paths checked first, written last |
//! | `stale` | the stale-plan guard and drift |
//! | `execute` | one pass of calls: joins, and `MoveResources` batches |
//! | `move_resources` | other services' changes: batches of 10 and each resource's answer |
//! | `verify` | reading back, in batches, the joins that landed while the rest run |
//! | `read_back` | settling each started change from where it is |
//! | `run` | the passes of a run (canary, rest, second pass), each executed then read back |
//! | `halt` | the rails that stop new joins |
//! | `interrupts` | Ctrl-C, SIGTERM and SIGHUP |
//! | `progress` | the bar or the lines |
//! | `report` | statuses, outcomes, the report and its summary |
//! | `undo` | the undo plan's guard |
//! | `accounts` | an apply over several accounts: each account's part with its own client, one report |
//! | `merge_files` | `regroup merge`: plans or reports read, told apart and merged |
//! | `merge_reports` | the shards' reports combined into one, and it as a comment |

mod accounts;
mod conflicts;
mod execute;
mod flow;
mod halt;
mod interrupts;
pub mod merge_files;
mod merge_reports;
mod move_resources;
mod progress;
mod read_back;
mod records;
mod report;
mod request;
mod run;
mod saved;
mod stale;
pub mod undo;
mod verify;

pub use flow::{apply, apply_plan, pace_under_quotas, Movers};
pub use interrupts::Interrupts;
pub use progress::ProgressStyle;
pub use report::{Report, Status};
pub use request::{ApplyRequest, Ended, ManifestChoice, Rails};
pub use run::ApplyOptions;

#[cfg(test)]
use {
    execute::execute, halt::Halt, halt::Stop, progress::per_second, read_back::read_back,
    report::Outcome,
};

#[cfg(test)]
mod tests;
