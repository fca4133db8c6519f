//! Each fixture under `fixtures/lint/` plants one kind of error; its file name (before `--`)
//! names the rule that must catch it. `clean.yaml` uses every feature correctly and must pass.
//! The findings of each fixture are snapshotted, so a change in what is reported, or where, shows.

use std::path::Path;

use oas::{Document, Rule};

fn expected_rule(path: &Path) -> Option<Rule> {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let name = stem.split("--").next().unwrap();
    let rules = [
        Rule::UnresolvedRef,
        Rule::ExternalRef,
        Rule::IgnoredRefSibling,
        Rule::NullableWithoutType,
        Rule::NullableIn31,
        Rule::MalformedExtensibleEnum,
        Rule::MissingOperationId,
        Rule::DuplicateOperationId,
        Rule::MissingSuccessResponse,
        Rule::MissingErrorResponse,
        Rule::InvalidSchema,
        Rule::InvalidExample,
    ];
    if name == "clean" {
        return None;
    }
    Some(
        *rules
            .iter()
            .find(|r| r.name() == name)
            .unwrap_or_else(|| panic!("{stem}: no rule named {name}")),
    )
}

#[test]
fn planted_errors_are_caught_by_their_rule() {
    insta::glob!("../fixtures/lint", "*.yaml", |path| {
        // Parsed from its text, not loaded from its path: loading would bundle the files an
        // external `$ref` names, and the `external-ref` fixture is about a document that was not.
        let text = std::fs::read_to_string(path).unwrap();
        let doc = Document::parse(&path.display().to_string(), &text, false)
            .unwrap_or_else(|e| panic!("{e}"));
        let report = oas::lint(&doc);
        match expected_rule(path) {
            None => assert!(
                report.findings.is_empty(),
                "{}: {:#?}",
                path.display(),
                report.findings
            ),
            Some(rule) => {
                assert!(
                    !report.findings.is_empty(),
                    "{}: nothing reported",
                    path.display()
                );
                for f in &report.findings {
                    assert_eq!(f.rule, rule, "{}: unexpected {f}", path.display());
                }
            }
        }
        insta::assert_yaml_snapshot!(report.findings);
    });
}

#[test]
fn every_rule_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let covered: Vec<Rule> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| expected_rule(&e.unwrap().path()))
        .collect();
    for rule in [
        Rule::UnresolvedRef,
        Rule::ExternalRef,
        Rule::IgnoredRefSibling,
        Rule::NullableWithoutType,
        Rule::MissingOperationId,
        Rule::DuplicateOperationId,
        Rule::MissingSuccessResponse,
        Rule::MissingErrorResponse,
        Rule::InvalidSchema,
        Rule::InvalidExample,
    ] {
        assert!(
            covered.contains(&rule),
            "no fixture plants a {} error",
            rule.name()
        );
    }
}
