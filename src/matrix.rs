//! `regroup matrix`: the shards of a fleet (`--shard I/N`, I from 1 to N)
//! as the JSON a CI engine fans out over, so that the engine a team already
//! runs schedules the per-shard plans instead of regroup. Pure: the caller
//! prints the string.
//!
//! What each engine takes, and how many jobs one matrix may make:
//!
//! | engine | the JSON | read as | jobs |
//! | --- | --- | --- | --- |
//! | GitHub Actions | `{"shard":["1/3","2/3","3/3"]}` | `strategy: matrix: ${{ fromJSON(needs.<job>.outputs.<name>) }}`, then `${{ matrix.shard }}` | 256 |
//! | GitLab | `[{"SHARD":["1/3","2/3","3/3"]}]` | the value of `parallel: matrix:` in a generated child pipeline (`trigger: include: - artifact:`), then `$SHARD` | 200 |
//! | Argo Workflows | `[{"shard":"1/3"},{"shard":"2/3"},{"shard":"3/3"}]` | `withParam` of a step or DAG task, then `{{item.shard}}` | none documented; 256 here |
//!
//! Sources: GitHub's workflow syntax, `jobs.<job_id>.strategy.matrix`
//! ("A matrix will generate a maximum of 256 jobs per workflow run",
//! <https://docs.github.com/en/actions/reference/workflow-syntax-for-github-actions#jobsjob_idstrategymatrix>)
//! and `fromJSON`'s example of a matrix set from a job's output
//! (<https://docs.github.com/en/actions/learn-github-actions/expressions#fromjson>);
//! GitLab's `parallel:matrix` (a list of hashes of variable arrays, at most
//! 200 jobs, <https://docs.gitlab.com/ci/yaml/#parallelmatrix>; GitLab's own
//! CI schema, `definitions.parallel`, as check-jsonschema 0.39.0 vendors it
//! for `vendor.gitlab-ci`: `parallel` from 1 to 200, `matrix` at most 200
//! items), which
//! GitLab reads only from the pipeline's YAML, so a matrix decided at run
//! time goes into a dynamic child pipeline
//! (<https://docs.gitlab.com/ci/pipelines/downstream_pipelines/#dynamic-child-pipelines>;
//! JSON is YAML, so the value is pasted in as printed); Argo's loops
//! ("`withParam` takes a JSON array of items … the items can be objects",
//! each key read as `{{item.key}}`,
//! <https://argo-workflows.readthedocs.io/en/latest/walk-through/loops/>).

use serde_json::json;

/// The most shards `--shards` takes, as `--shard I/N` does: GitHub's limit
/// on one matrix, the largest of the engines'.
pub use crate::accounts::MAX_SHARDS;

/// The CI engine the matrix is printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Github,
    Gitlab,
    Argo,
}

impl Engine {
    /// The most jobs one matrix of this engine may make.
    pub fn max_jobs(self) -> u32 {
        match self {
            Engine::Github | Engine::Argo => MAX_SHARDS,
            Engine::Gitlab => 200,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Engine::Github => "GitHub Actions",
            Engine::Gitlab => "GitLab",
            Engine::Argo => "Argo Workflows",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MatrixError {
    #[error("--shards {shards} is out of range: {engine} takes 1 to {max} shards ({reason})")]
    OutOfRange {
        shards: u32,
        engine: &'static str,
        max: u32,
        reason: &'static str,
    },
}

/// The matrix of `shards` shards for `engine`, as one line of JSON; each
/// shard written as `--shard` reads it (`I/N`).
pub fn matrix_json(shards: u32, engine: Engine) -> Result<String, MatrixError> {
    let max = engine.max_jobs();
    if shards == 0 || shards > max {
        return Err(MatrixError::OutOfRange {
            shards,
            engine: engine.name(),
            max,
            reason: match engine {
                Engine::Github => "a matrix makes at most 256 jobs per workflow run",
                Engine::Gitlab => "parallel:matrix makes at most 200 jobs",
                Engine::Argo => "regroup's limit, GitHub's, for one matrix",
            },
        });
    }
    let names = (1..=shards).map(|i| format!("{i}/{shards}"));
    let value = match engine {
        Engine::Github => json!({ "shard": names.collect::<Vec<_>>() }),
        Engine::Gitlab => json!([{ "SHARD": names.collect::<Vec<_>>() }]),
        Engine::Argo => names.map(|shard| json!({ "shard": shard })).collect(),
    };
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_gets_its_shape() {
        assert_eq!(
            matrix_json(3, Engine::Github).as_deref(),
            Ok(r#"{"shard":["1/3","2/3","3/3"]}"#),
            "GitHub: one matrix variable holding every shard"
        );
        assert_eq!(
            matrix_json(2, Engine::Gitlab).as_deref(),
            Ok(r#"[{"SHARD":["1/2","2/2"]}]"#),
            "GitLab: parallel:matrix is a list of hashes of variable arrays"
        );
        assert_eq!(
            matrix_json(3, Engine::Argo).as_deref(),
            Ok(r#"[{"shard":"1/3"},{"shard":"2/3"},{"shard":"3/3"}]"#),
            "Argo: withParam iterates over a JSON array of objects"
        );
    }

    #[test]
    fn every_shard_printed_is_one_that_shard_reads() {
        let printed: serde_json::Value =
            serde_json::from_str(&matrix_json(5, Engine::Github).expect("5 shards")).expect("JSON");
        let shards: Vec<crate::accounts::Shard> = printed["shard"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                s.as_str()
                    .expect("a string")
                    .parse()
                    .expect("--shard reads it")
            })
            .collect();
        let expected: Vec<crate::accounts::Shard> = (1..=5)
            .map(|i| crate::accounts::Shard::new(i, 5).expect("in range"))
            .collect();
        assert_eq!(shards, expected, "shards 1/5 to 5/5, each once");
    }

    #[test]
    fn one_shard_is_a_matrix_of_one() {
        assert_eq!(
            matrix_json(1, Engine::Github).as_deref(),
            Ok(r#"{"shard":["1/1"]}"#),
            "a single shard is the whole fleet"
        );
    }

    #[test]
    fn the_bounds_are_each_engines() {
        for engine in [Engine::Github, Engine::Gitlab, Engine::Argo] {
            assert!(
                matrix_json(0, engine).is_err(),
                "{engine:?}: zero shards run nothing"
            );
            let max = engine.max_jobs();
            let at_max = matrix_json(max, engine).expect("the limit itself is allowed");
            assert!(
                at_max.contains(&format!("\"{max}/{max}\"")),
                "{engine:?}: the last shard is {max}/{max}"
            );
            assert!(
                matrix_json(max + 1, engine).is_err(),
                "{engine:?}: one shard over the limit is refused"
            );
        }
        assert_eq!(
            matrix_json(201, Engine::Gitlab)
                .expect_err("over GitLab's limit")
                .to_string(),
            "--shards 201 is out of range: GitLab takes 1 to 200 shards (parallel:matrix makes at most 200 jobs)",
            "the error names the engine's limit and why"
        );
    }
}
