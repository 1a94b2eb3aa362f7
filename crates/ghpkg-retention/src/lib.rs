#![doc = include_str!("../README.md")]

mod age;
mod decide;
mod ecosystem_version;
mod facts;
mod graph;
mod image;
mod load;
mod pattern;
mod plan;
mod policy;
mod policy_file;
mod reason;
mod rules;

pub use age::{Age, AgeError, AgeProblem};
pub use facts::{Owner, PackageFacts, Target, VersionFacts};
pub use graph::ManifestStatus;
pub use image::{
    ChildRef, ImageGraph, Manifest, ManifestFacts, ManifestKind, ReadStats, attachment_subject,
};
pub use load::{ExpectError, MAX_PLAN_BYTES, PlanLoadError};
pub use pattern::{PatternError, TagPattern};
pub use plan::{
    Budget, DecidingRule, GraphLinks, GraphRole, MAX_DECISIONS, MissingChild, Note, NoteKind,
    PLAN_FORMAT, PLAN_VERSION, PackageBudget, PackagePlan, Plan, PlanError, PlanInputs,
    PlannedDeletion, Summary, VersionDecision, needs_image_graph, plan, plan_policy,
    policy_needs_image_graph,
};
pub use policy::{
    MAX_RULES, PACKAGE_TYPES, Policy, PolicyError, PolicyRule, RuleAction, RuleProblem,
};
pub use policy_file::{MAX_POLICY_BYTES, PolicyFileError};
pub use reason::{Decision, ReasonCode};
pub use rules::{OrderBy, Rules, RulesError, TagSelection};
