//! Loading a plan back, refusing anything that is not exactly a plan this crate wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::plan::{MAX_DECISIONS, PLAN_FORMAT, PLAN_VERSION, Plan};
use crate::reason::Decision;

/// The largest plan text accepted, checked before parsing: 512 MiB.
pub const MAX_PLAN_BYTES: usize = 512 << 20;

const MAKE_A_NEW_PLAN: &str = "make a new plan with `ghpkg prune` and review it";

/// Why a plan could not be loaded. Every variant says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanLoadError {
    /// The text is longer than [`MAX_PLAN_BYTES`].
    #[error("the plan is {bytes} bytes, more than the {limit} a plan may have: {MAKE_A_NEW_PLAN}")]
    TooLarge {
        /// Its length.
        bytes: usize,
        /// [`MAX_PLAN_BYTES`].
        limit: usize,
    },
    /// The text ends before the JSON does.
    #[error(
        "the plan ends early (line {line}, column {column}): it was cut off while being written or copied; copy the whole file again or {MAKE_A_NEW_PLAN}"
    )]
    Truncated {
        /// Where it ends.
        line: usize,
        /// Where it ends.
        column: usize,
    },
    /// The text is not JSON.
    #[error("the plan is not valid JSON ({message}): {MAKE_A_NEW_PLAN}")]
    Malformed {
        /// What the JSON parser said, with the position.
        message: String,
    },
    /// The JSON is not a ghpkg plan.
    #[error(
        "this is not a ghpkg plan (format {found}, expected `{PLAN_FORMAT}`): pass the plan file that `ghpkg prune` wrote"
    )]
    NotAPlan {
        /// What the `format` field holds, or `missing`.
        found: String,
    },
    /// A plan format version newer than this ghpkg reads.
    #[error(
        "the plan has format version {version}, but this ghpkg reads version {PLAN_VERSION}: upgrade ghpkg, or {MAKE_A_NEW_PLAN} with this one"
    )]
    FromTheFuture {
        /// The plan's version.
        version: u64,
    },
    /// A plan written by an earlier ghpkg, whose image-graph rules trusted what a parent said
    /// about its children; such a plan is not applied.
    #[error(
        "the plan has format version {version}, made by an earlier ghpkg whose image-graph rules \
         this one no longer trusts: {MAKE_A_NEW_PLAN} with this one"
    )]
    Outdated {
        /// The plan's version.
        version: u64,
    },
    /// A `version` that no ghpkg writes (missing, zero, negative or not a whole number).
    #[error("the plan's format version is {found}, which no ghpkg writes: {MAKE_A_NEW_PLAN}")]
    BadVersion {
        /// What the `version` field holds, or `missing`.
        found: String,
    },
    /// More decisions than a plan may hold.
    #[error(
        "the plan has {count} decisions, more than the {limit} a plan may hold: {MAKE_A_NEW_PLAN} for fewer packages"
    )]
    TooManyDecisions {
        /// Decisions counted.
        count: usize,
        /// [`MAX_DECISIONS`].
        limit: usize,
    },
    /// The JSON has the plan's format and version but not its shape.
    #[error(
        "the plan does not have the shape of a version-{PLAN_VERSION} plan ({message}): {MAKE_A_NEW_PLAN}"
    )]
    Invalid {
        /// What serde said, with the position.
        message: String,
    },
    /// No `sha256` field.
    #[error(
        "the plan has no sha256, so it cannot be shown to be the plan that was reviewed: {MAKE_A_NEW_PLAN}"
    )]
    MissingHash,
    /// The stored hash is not the hash of the content: the plan was edited.
    #[error(
        "the plan was edited after it was made (its sha256 is {stored}, its content hashes to {computed}): {MAKE_A_NEW_PLAN} instead of editing it"
    )]
    Edited {
        /// The `sha256` field.
        stored: String,
        /// The hash of the content.
        computed: String,
    },
    /// A version id of 0.
    #[error(
        "the plan names version id 0 in package `{package}`, which GitHub never uses: {MAKE_A_NEW_PLAN}"
    )]
    ZeroId {
        /// The package.
        package: String,
    },
    /// A package or version listed twice.
    #[error("the plan lists {what} twice: {MAKE_A_NEW_PLAN}")]
    Duplicate {
        /// `package web/app` or `version 12 of web/app` or `deletion of version 12 of web/app`.
        what: String,
    },
    /// A deletion that is not a delete decision of its package.
    #[error(
        "the plan deletes version {id} of `{package}`, which is not a delete decision of that package: {MAKE_A_NEW_PLAN}"
    )]
    DeletionNotDecided {
        /// The package.
        package: String,
        /// The version id.
        id: u64,
    },
    /// A delete decision missing from the deletions, or a decision whose reason says otherwise.
    #[error("the plan contradicts itself: {problem}; {MAKE_A_NEW_PLAN}")]
    Inconsistent {
        /// What does not agree.
        problem: String,
    },
}

/// `--expect SHA` did not match the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectError {
    /// The expected value is not a SHA-256.
    #[error(
        "`{given}` is not a SHA-256: pass the 64 hex digits that `ghpkg prune` printed as the plan's sha256"
    )]
    NotAHash {
        /// What was given.
        given: String,
    },
    /// The plan is not the expected one.
    #[error(
        "the plan's sha256 is {actual}, not the expected {expected}: the plan changed since it was reviewed; review the new plan and pass its sha256"
    )]
    Mismatch {
        /// What was expected (lowercased).
        expected: String,
        /// The plan's recomputed hash.
        actual: String,
    },
}

/// The two fields read before anything else.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Counts the decisions of each package without building them.
#[derive(Deserialize)]
struct DecisionCount {
    #[serde(default)]
    packages: Option<Counted<PackageDecisionCount>>,
}

#[derive(Deserialize)]
struct PackageDecisionCount {
    #[serde(default)]
    decisions: Option<Counted<IgnoredAny>>,
}

/// A sequence, of which only the length (and the sum of inner counts) is kept.
struct Counted<T> {
    total: usize,
    _items: std::marker::PhantomData<T>,
}

trait Count {
    fn count(&self) -> usize;
}

impl Count for IgnoredAny {
    fn count(&self) -> usize {
        1
    }
}

impl Count for PackageDecisionCount {
    fn count(&self) -> usize {
        self.decisions.as_ref().map_or(0, |d| d.total)
    }
}

impl<'de, T: Deserialize<'de> + Count> Deserialize<'de> for Counted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountingVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Count> Visitor<'de> for CountingVisitor<T> {
            type Value = Counted<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counted<T>, A::Error> {
                let mut total = 0usize;
                while let Some(item) = seq.next_element::<T>()? {
                    total = total.saturating_add(item.count());
                }
                Ok(Counted {
                    total,
                    _items: std::marker::PhantomData,
                })
            }
        }
        deserializer.deserialize_seq(CountingVisitor(std::marker::PhantomData))
    }
}

fn syntax_error(error: serde_json::Error) -> PlanLoadError {
    match error.classify() {
        Category::Eof => PlanLoadError::Truncated {
            line: error.line(),
            column: error.column(),
        },
        _ => PlanLoadError::Malformed {
            message: error.to_string(),
        },
    }
}

fn describe(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "missing".to_owned(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > 40 {
                text.chars().take(40).collect::<String>() + "…"
            } else {
                text
            }
        }
    }
}

impl Plan {
    /// Loads a plan, refusing (never panicking on) anything that is not exactly a plan this
    /// crate wrote and nobody edited: text over [`MAX_PLAN_BYTES`] (checked before parsing),
    /// truncated or malformed JSON, another `format`, a `version` from the future, more than
    /// [`MAX_DECISIONS`] decisions, a missing or mismatched `sha256`, version ids of 0,
    /// duplicates, deletions that are not delete decisions of their package, and delete
    /// decisions missing from the deletions.
    pub fn from_json(text: &str) -> Result<Plan, PlanLoadError> {
        if text.len() > MAX_PLAN_BYTES {
            return Err(PlanLoadError::TooLarge {
                bytes: text.len(),
                limit: MAX_PLAN_BYTES,
            });
        }
        let header: Header =
            serde_json::from_str(text).map_err(|error| match error.classify() {
                Category::Data => PlanLoadError::NotAPlan {
                    found: "missing (the JSON is not an object)".to_owned(),
                },
                _ => syntax_error(error),
            })?;
        if header.format.as_ref().and_then(|f| f.as_str()) != Some(PLAN_FORMAT) {
            return Err(PlanLoadError::NotAPlan {
                found: describe(header.format.as_ref()),
            });
        }
        match header.version.as_ref().and_then(serde_json::Value::as_u64) {
            Some(version) if version > u64::from(PLAN_VERSION) => {
                return Err(PlanLoadError::FromTheFuture { version });
            }
            Some(version) if version == u64::from(PLAN_VERSION) => {}
            Some(version) if version >= 1 => {
                return Err(PlanLoadError::Outdated { version });
            }
            _ => {
                return Err(PlanLoadError::BadVersion {
                    found: describe(header.version.as_ref()),
                });
            }
        }
        let counted: DecisionCount =
            serde_json::from_str(text).map_err(|error| PlanLoadError::Invalid {
                message: error.to_string(),
            })?;
        let count = counted.packages.map_or(0, |p| p.total);
        if count > MAX_DECISIONS {
            return Err(PlanLoadError::TooManyDecisions {
                count,
                limit: MAX_DECISIONS,
            });
        }
        let plan: Plan = serde_json::from_str(text).map_err(|error| PlanLoadError::Invalid {
            message: error.to_string(),
        })?;
        if plan.sha256.is_empty() {
            return Err(PlanLoadError::MissingHash);
        }
        let computed = plan.sha256();
        if plan.sha256 != computed {
            return Err(PlanLoadError::Edited {
                stored: plan.sha256.clone(),
                computed,
            });
        }
        plan.check_consistency()?;
        Ok(plan)
    }

    fn check_consistency(&self) -> Result<(), PlanLoadError> {
        let mut delete_decisions: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
        for package in &self.packages {
            let name = package.name.as_str();
            if delete_decisions.insert(name, BTreeSet::new()).is_some() {
                return Err(PlanLoadError::Duplicate {
                    what: format!("package {name}"),
                });
            }
            let mut ids = BTreeSet::new();
            for decision in &package.decisions {
                if decision.id == 0 {
                    return Err(PlanLoadError::ZeroId {
                        package: name.to_owned(),
                    });
                }
                if !ids.insert(decision.id) {
                    return Err(PlanLoadError::Duplicate {
                        what: format!("version {} of {name}", decision.id),
                    });
                }
                if decision.reason.decision() != decision.decision {
                    return Err(PlanLoadError::Inconsistent {
                        problem: format!(
                            "version {} of {name} is marked {} with reason {}",
                            decision.id, decision.decision, decision.reason
                        ),
                    });
                }
                if decision.decision == Decision::Delete {
                    delete_decisions
                        .entry(name)
                        .or_default()
                        .insert(decision.id);
                }
            }
        }
        let mut seen = BTreeSet::new();
        for deletion in &self.deletions {
            if deletion.id == 0 {
                return Err(PlanLoadError::ZeroId {
                    package: deletion.package.to_string(),
                });
            }
            let decided = delete_decisions
                .get(&*deletion.package)
                .is_some_and(|ids| ids.contains(&deletion.id));
            if !decided {
                return Err(PlanLoadError::DeletionNotDecided {
                    package: deletion.package.to_string(),
                    id: deletion.id,
                });
            }
            if !seen.insert((&*deletion.package, deletion.id)) {
                return Err(PlanLoadError::Duplicate {
                    what: format!(
                        "deletion of version {} of {}",
                        deletion.id, deletion.package
                    ),
                });
            }
        }
        let decided: usize = delete_decisions.values().map(BTreeSet::len).sum();
        if decided != seen.len() {
            return Err(PlanLoadError::Inconsistent {
                problem: format!("{decided} delete decisions but {} deletions", seen.len()),
            });
        }
        Ok(())
    }

    /// Checks that the plan is the one whose SHA-256 is `expected` (`ghpkg apply --expect`);
    /// the hash is recomputed, so a plan changed in memory does not pass. Case and surrounding
    /// spaces are ignored.
    pub fn verify_expected(&self, expected: &str) -> Result<(), ExpectError> {
        let expected = expected.trim().to_ascii_lowercase();
        let is_hash = expected.len() == 64 && expected.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hash {
            return Err(ExpectError::NotAHash { given: expected });
        }
        let actual = self.sha256();
        if actual != expected {
            return Err(ExpectError::Mismatch { expected, actual });
        }
        Ok(())
    }
}
