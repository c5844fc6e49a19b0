//! Saved plans (`plan -o`, then `apply PLAN`): applied exactly, refused when
//! stale, hand-edited, forged or from another manifest or format, and
//! checked against the manifest when it is at hand. A saved plan is data,
//! not authority.

use crate::harness::{
    apply_recorded, assert_has_line, ok, read_json, stdout_of, Setup, ALL_INTO_PROD, EXAMPLE,
    TWO_INTO_PROD,
};
use crate::text::indoc;
use regroup::resource::ResourceType;

#[test]
fn a_saved_plan_is_applied_exactly() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    // An instance that the rule would match appears after planning: the
    // saved plan still moves only what it lists.
    env.edit(|account| {
        let mut late = account.resources.values().next().cloned().unwrap();
        late.id = "i-bp1late".into();
        account.resources.insert(
            (
                ResourceType::Instance,
                "cn-hangzhou".into(),
                "i-bp1late".into(),
            ),
            late,
        );
    });
    let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert_has_line(&out, "Apply complete! 2 moved, 0 failed.");
    assert_eq!(env.writes(), 2, "exactly 2 joins expected");
    assert_eq!(
        env.group_of("i-bp1late"),
        "rg-default",
        "i-bp1late should end in rg-default"
    );
}

#[test]
fn a_stale_plan_is_refused_before_any_write() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    env.edit(|account| {
        let key = (
            ResourceType::Instance,
            "cn-hangzhou".to_owned(),
            "i-bp1test00001".to_owned(),
        );
        if let Some(resource) = account.resources.get_mut(&key) {
            resource.group = Some("rg-dev".into());
        }
    });
    let before = env.runtime.block_on(env.emulator.snapshot());
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(&err, "Error: the saved plan is stale: 1 resource(s) are no longer where the plan found them, so nothing was changed:");
    assert_has_line(
        &err,
        "  instance/i-bp1test00001 (cn-hangzhou): planned from rg-default, now in rg-dev",
    );
    assert!(
        !err.contains("i-bp1test00000"),
        "only what drifted is listed: {err}"
    );
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
    assert_eq!(
        env.runtime.block_on(env.emulator.snapshot()),
        before,
        "the account is unchanged"
    );
}

#[test]
fn plans_from_another_manifest_or_format_are_refused() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));

    let mut newer = read_json(&plan);
    newer["format_version"] = serde_json::json!(2);
    let newer_path = env.path("newer.json");
    std::fs::write(&newer_path, newer.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", newer_path.to_str().unwrap()]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert_has_line(&err, "  caused by: plan format version 2 is not supported; this regroup reads version 1 (plan again with this version)");

    let mut edited = read_json(&plan);
    edited["changes"][0]["resource"]["type"] = serde_json::json!("vm");
    let edited_path = env.path("edited.json");
    std::fs::write(&edited_path, edited.to_string()).unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", edited_path.to_str().unwrap()]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert!(
        err.contains("not a valid regroup plan") && err.contains("unknown resource type `vm`"),
        "{err}"
    );

    std::fs::write(
        &env.manifest,
        format!("{TWO_INTO_PROD}      - instance/i-bp1test00002\n"),
    )
    .unwrap();
    let (code, _, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1, "exit code 1 expected:\n{err}");
    assert!(err.contains("was planned from another version of"), "{err}");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn hand_edited_plans_are_refused_before_any_call() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    let calls_after_planning = env.requests().len();
    let original = read_json(&plan);
    let edit = |name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let mut edited = original.clone();
        change(&mut edited);
        let path = env.path(name);
        std::fs::write(&path, edited.to_string()).unwrap();
        path
    };
    let cases = [
        (
            edit("group.json", &|p| {
                p["changes"][0]["to"]["id"] = serde_json::json!("rg-dev")
            }),
            "the plan was changed after it was made",
        ),
        (
            edit("type.json", &|p| {
                p["changes"][0]["resource"]["type"] = serde_json::json!("vm")
            }),
            "not a valid regroup plan: unknown resource type `vm`",
        ),
        (
            edit("version.json", &|p| {
                p["format_version"] = serde_json::json!(7)
            }),
            "plan format version 7 is not supported",
        ),
        (
            edit("array.json", &|p| *p = serde_json::json!([1, 2])),
            "not a valid regroup plan",
        ),
    ];
    for (path, expected) in cases {
        let (code, _, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(expected), "{path:?}: {err}");
    }
    assert_eq!(
        env.requests().len(),
        calls_after_planning,
        "a refused plan makes no call"
    );
}

#[test]
fn a_saved_plan_applied_where_the_manifest_is_not_says_the_check_was_skipped() {
    let env = Setup::new().example_fleet().start();
    std::fs::copy(env.path(EXAMPLE), env.path("gone.yaml")).expect("copied");
    ok(&env, &["plan", "-f", "gone.yaml", "-o", "plan.json"]);
    // No -f, and the manifest the plan was made from is gone.
    std::fs::remove_file(env.path("gone.yaml")).expect("removed");
    let (applied, _) = ok(&env, &["apply", "plan.json"]);
    let notes: Vec<&str> = applied
        .lines()
        .filter(|l| l.contains("as saved: there is no gone.yaml"))
        .collect();
    assert_eq!(notes.len(), 1, "{applied}");
    assert_has_line(&applied, "Apply complete! 10 moved, 0 failed.");
    // With the manifest there, the check runs and says nothing.
    std::fs::copy(env.path(EXAMPLE), env.path("regroup.yaml")).expect("copied");
    let (planned, _) = ok(&env, &["plan", "-o", "again.json"]);
    let (_, again) = ok(&env, &["apply", "again.json"]);
    assert!(!again.contains("not found"), "{again}");
    assert_has_line(
        &planned,
        "No changes. All 6 resources the manifest manages are in their groups.",
    );
}

/// Re-seals an edited plan the way regroup does: the sha256 of its compact
/// JSON, fields in the plan's order, with the checksum empty. Anyone who can
/// edit the file can do this.
fn reseal(pretty: &str) -> String {
    use sha2::Digest;
    let value: serde_json::Value = serde_json::from_str(pretty).unwrap();
    let old = value["checksum"].as_str().unwrap();
    let sum = format!(
        "{:x}",
        sha2::Sha256::digest(compact(&pretty.replace(old, "")).as_bytes())
    );
    pretty.replace(old, &sum)
}

/// JSON text without the whitespace between its tokens, fields in the
/// order they are written (strings kept as they are).
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_forged_saved_plan_is_refused_when_the_manifest_is_at_hand() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(&plan).unwrap();
    // The re-sealed original is accepted, so the forgeries below fail only
    // for what they change.
    assert_eq!(
        reseal(&saved),
        saved,
        "the checksum is recomputed as regroup does"
    );

    let forgeries = [
        // A resource the manifest does not mention.
        (
            saved.replacen("i-bp1test00001", "i-bp1test00002", 1),
            "instance/i-bp1test00002 (cn-hangzhou): the plan moves it to `prod` (rg-prod); the manifest asks for no move of it",
        ),
        // Into a group the manifest does not name.
        (
            saved.replacen("\"id\": \"rg-prod\"", "\"id\": \"rg-legacy\"", 1),
            "instance/i-bp1test00000 (cn-hangzhou): the plan moves it to `prod` (rg-legacy); the manifest puts it in `prod` (rg-prod)",
        ),
    ];
    for (forged, expected) in forgeries {
        assert_ne!(forged, saved, "the forgery changes the plan");
        let path = env.path("forged.json");
        std::fs::write(&path, reseal(&forged)).unwrap();
        let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
        assert_eq!(code, 1, "{out}{err}");
        assert_has_line(&err, "Error: the saved plan has 1 change(s) that the manifest does not ask for, so nothing was changed:");
        assert!(err.contains(expected), "{err}");
        assert_eq!(env.writes(), 0, "no join may reach the cloud");
    }

    // A manifest named with -f that is missing is an error, not a reason
    // to skip the check.
    std::fs::remove_file(&env.manifest).unwrap();
    let (code, out, err) =
        stdout_of(env.regroup(&["apply", plan.to_str().unwrap(), "-f", "regroup.yaml"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("regroup.yaml"),
        "the error names the manifest: {err}"
    );
    assert_eq!(env.writes(), 0, "a plan was applied without its manifest");
}

#[test]
fn a_plan_resealed_as_undo_is_refused_with_nothing_written() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(&plan).unwrap();
    // An undo plan skips the manifest check: mark the plan undo, and
    // add a move the manifest never asked for.
    let forged = saved
        .replacen("\"checksum\"", "\"undo\": true,\n  \"checksum\"", 1)
        .replacen("i-bp1test00001", "i-bp1test00002", 1);
    std::fs::write(&plan, reseal(&forged)).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(
        &err,
        "Error: the undo plan names no report of the apply it undoes, so nothing was changed",
    );
    assert_eq!(env.writes(), 0, "a forged undo plan moved resources");
}

#[test]
fn an_undo_plan_moves_back_only_what_its_report_records() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let (undo, report, _) = apply_recorded(&env);
    let writes = env.writes();
    let saved = std::fs::read_to_string(&undo).unwrap();
    assert!(
        saved.contains("\"undoes\""),
        "the undo plan names its report: {saved}"
    );

    // A move the report does not record, resealed.
    let forged = saved.replacen("i-bp1test00001", "i-bp1test00002", 1);
    let path = env.path("forged-undo.json");
    std::fs::write(&path, reseal(&forged)).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("the undo plan has 1 change(s) that its report does not record")
            && err.contains("instance/i-bp1test00002 (cn-hangzhou): the undo plan moves it from `rg-prod` to `rg-default`"),
        "{err}"
    );
    // Back to a group other than the one the report records.
    let forged = saved.replacen("\"id\": \"rg-default\"", "\"id\": \"rg-legacy\"", 1);
    std::fs::write(&path, reseal(&forged)).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", path.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: the undo plan has 1 change(s) that its report does not record, so nothing was changed:");

    // The report edited to record what the forger wants.
    let mut edited = std::fs::read_to_string(&report).unwrap();
    edited.push('\n');
    std::fs::write(&report, edited).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("has changed since"), "{err}");
    assert_eq!(env.writes(), writes, "an unbound undo plan moved resources");
    assert_eq!(
        env.group_of("i-bp1test00002"),
        "rg-default",
        "i-bp1test00002 should end in rg-default"
    );
}

#[test]
fn an_undo_plan_applied_twice_writes_its_report_and_says_what_happened() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (undo, _, _) = apply_recorded(&env);
    let (code, out, err) = stdout_of(env.regroup(&["apply", undo.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    let again = env.path("again.json");
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        undo.to_str().unwrap(),
        "--report",
        again.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "an undo already done is no failure: {out}{err}");
    assert!(
        out.contains(
            "instance/i-bp1test00000 (cn-hangzhou): already back in rg-default, nothing to undo"
        ),
        "{out}"
    );
    let report = read_json(&again);
    let statuses: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["not_started", "not_started"], "{report}");
}

#[test]
fn a_forged_eviction_of_a_type_the_manifest_does_not_cover_is_refused() {
    let manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou]
        groups:
          prod:
            exclusive: true
            resources:
              - instance/i-bp1test00000
        ",
    );
    let env = Setup::new()
        .instances(1)
        .resource(ResourceType::Disk, "d-bp1forged0000", Some("rg-prod"))
        .manifest(&manifest)
        .start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(&plan).unwrap();
    let eviction = r#"{"resource": {"type": "disk", "region": "cn-hangzhou", "id": "d-bp1forged0000"}, "name": "d", "from": {"id": "rg-prod", "name": "prod"}, "to": {"id": "rg-default", "name": "default"}, "source": {"file": "regroup.yaml", "line": 4, "column": 5}, "evict": true},"#;
    let forged = saved.replacen("\"changes\": [", &format!("\"changes\": [{eviction}"), 1);
    std::fs::write(&plan, reseal(&forged)).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", plan.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "  disk/d-bp1forged0000 (cn-hangzhou): the plan moves it to `default` (rg-default); the manifest asks for no move of it");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
    assert_eq!(
        env.group_of("d-bp1forged0000"),
        "rg-prod",
        "d-bp1forged0000 should end in rg-prod"
    );
}

#[test]
fn an_inflated_unchanged_count_does_not_pass_max_changes() {
    let mut setup = Setup::new().instances(5);
    for n in 0..5 {
        setup = setup.resource(
            ResourceType::Instance,
            &format!("i-bp1prod{n:05}"),
            Some("rg-prod"),
        );
    }
    let env = setup.manifest(ALL_INTO_PROD).start();
    let plan = env.path("plan.json");
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", plan.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(&plan).unwrap();
    let forged = saved.replacen("\"unchanged\": 5,", "\"unchanged\": 1000,", 1);
    assert_ne!(forged, saved, "the plan counts 5 unchanged");
    std::fs::write(&plan, reseal(&forged)).unwrap();
    let (code, out, err) =
        stdout_of(env.regroup(&["apply", plan.to_str().unwrap(), "--max-changes", "40%"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: the plan moves 5 resource(s), more than the 4 allowed by --max-changes 40% (of 10 managed resources), so nothing was changed");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn region_limits_a_saved_plan_applied_without_its_manifest() {
    let manifest = indoc(
        "
        version: 1
        regions: [cn-hangzhou, cn-shanghai]
        groups:
          prod:
            select:
              - type: instance
        ",
    );
    let env = Setup::new()
        .instances(1)
        .resource_in(
            "cn-shanghai",
            ResourceType::Instance,
            "i-uf6test00000",
            None,
        )
        .examples()
        .start();
    env.write("m.yaml", &manifest);
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-f", "m.yaml", "-o", "plan.json"]));
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(env.path("m.yaml")).unwrap();
    let (code, out, err) =
        stdout_of(env.regroup(&["apply", "plan.json", "--region", "cn-hangzhou"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: the saved plan moves 1 resource(s) outside --region cn-hangzhou (the first: instance/i-uf6test00000 (cn-shanghai)), so nothing was changed");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn a_saved_plan_without_f_is_checked_against_the_manifest_it_names() {
    // `examples()`: no manifest of the test's own, so no -f is added.
    let env = Setup::new().instances(3).examples().start();
    std::fs::create_dir(env.path("config")).unwrap();
    env.write("config/groups.yaml", TWO_INTO_PROD);
    let (code, _, err) =
        stdout_of(env.regroup(&["plan", "-f", "config/groups.yaml", "-o", "plan.json"]));
    assert_eq!(code, 0, "{err}");
    let saved = std::fs::read_to_string(env.path("plan.json")).unwrap();
    let forged = saved.replacen("i-bp1test00001", "i-bp1test00002", 1);
    std::fs::write(env.path("plan.json"), reseal(&forged)).unwrap();
    // No -f, and no ./regroup.yaml: the plan names its manifest.
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(&err, "Error: the saved plan has 1 change(s) that the manifest does not ask for, so nothing was changed:");
    assert_eq!(env.writes(), 0, "no join may reach the cloud");
}

#[test]
fn the_report_and_the_undo_plan_are_compared_as_files_not_strings() {
    let env = Setup::new().instances(2).manifest(TWO_INTO_PROD).start();
    let (code, out, err) = stdout_of(env.regroup(&[
        "apply",
        "--auto-approve",
        "--report",
        "r.json",
        "--undo-plan",
        "./r.json",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert_has_line(
        &err,
        "Error: --report and --undo-plan name the same file, r.json and ./r.json",
    );
    assert!(
        env.requests().is_empty(),
        "a call was made before the check"
    );
}

/// A saved plan names its manifest by what it means, so an edit
/// of comments or layout keeps the plan valid (the plan JSON's field is
/// still `manifest.sha256`), and any change of meaning refuses it with
/// nothing written.
#[test]
fn a_saved_plan_outlives_comment_edits_but_not_changes_of_meaning() {
    let env = Setup::new().instances(3).manifest(TWO_INTO_PROD).start();
    let (code, _, err) = stdout_of(env.regroup(&["plan", "-o", "plan.json"]));
    assert_eq!(code, 0, "{err}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("plan.json")).unwrap()).unwrap();
    let planned_from = saved["manifest"]["sha256"].as_str().unwrap_or_default();
    assert_eq!(
        planned_from.len(),
        64,
        "the plan's manifest.sha256: {saved}"
    );

    let meaning_changed = TWO_INTO_PROD.replace("  prod:\n", "  staging:\n");
    std::fs::write(&env.manifest, meaning_changed).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("was planned from another version of"), "{err}");
    assert_eq!(env.writes(), 0, "a plan of another manifest was applied");

    let commented = format!(
        "# Who owns what, reviewed by the platform team.\n\n{}",
        TWO_INTO_PROD.replace("  prod:\n", "  prod:   # payments\n")
    );
    std::fs::write(&env.manifest, commented).unwrap();
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 0, "a comment edit invalidated the plan: {out}{err}");
    assert_eq!(env.group_of("i-bp1test00001"), "rg-prod", "{out}");
}

#[test]
fn a_plan_shown_as_json_and_saved_is_the_same_bytes_and_applies() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    let (shown, _) = ok(&env, &["plan", "--format", "json", "-o", "plan.json"]);
    let saved = std::fs::read_to_string(env.path("plan.json")).expect("the plan was saved");
    assert_eq!(shown, saved, "stdout and the file hold the same JSON");
    let (code, out, err) = stdout_of(env.regroup(&["apply", "plan.json"]));
    assert_eq!(code, 0, "the saved plan's checksum holds: {err}");
    assert_has_line(&out, "Apply complete! 2 moved, 0 failed.");
}

#[test]
fn a_json_plan_over_its_limit_is_shown_but_not_saved() {
    let env = Setup::new().instances(2).manifest(ALL_INTO_PROD).start();
    let (code, shown, err) = stdout_of(env.regroup(&[
        "plan",
        "--format",
        "json",
        "--max-changes",
        "1",
        "-o",
        "plan.json",
    ]));
    assert_ne!(code, 0, "two moves are over a limit of one: {err}");
    assert!(
        shown.contains("\"format_version\": 1"),
        "the plan is shown: {shown}"
    );
    assert!(!env.path("plan.json").exists(), "the plan is not saved");
}
