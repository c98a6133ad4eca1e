//! Stage 4: turn findings into an ordered plan per server: the scripted steps in the order of
//! their kinds ([`crate::steps::KINDS`]), the one service restart they need, and the manual
//! actions a person must take. Nothing here names a kind of step.

use crate::diagnose::{Diagnosis, Fix, Remedy};
use crate::model::{Certificate, InputFile, ServerKind};
use crate::steps::{Bucket, ManualCommand, ServerContext, SharedStep, Step, KINDS};

/// A scripted step of a server's plan and the rules of the findings it resolves.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    pub step: SharedStep,
    pub resolves: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualAction {
    pub object: String,
    pub instruction: String,
    /// The command that carries the action out, rendered only by `render::ps::command`.
    pub command: Option<ManualCommand>,
    pub resolves: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ServerPlan {
    pub server: String,
    pub fqdn: Option<String>,
    pub edge: bool,
    /// Certificates the connectors will present: required by the preflight, never removed.
    pub keep: Vec<Certificate>,
    /// What the hybrid receive connectors present once the plan is carried out: the script's
    /// last check compares what port 25 presents after STARTTLS with them.
    pub receive_certificates: Vec<Certificate>,
    /// Execution order: by kind, in the order of [`KINDS`], then by what each acts on.
    pub steps: Vec<PlannedStep>,
    /// Services to restart once, after all steps, in this order.
    pub restarts: Vec<&'static str>,
    pub manual: Vec<ManualAction>,
}

impl ServerPlan {
    pub fn is_empty(&self) -> bool {
        !self.has_automatic_steps() && self.manual.is_empty()
    }

    /// Whether a script has anything to do.
    pub fn has_automatic_steps(&self) -> bool {
        !self.steps.is_empty()
    }

    /// The steps of one kind, typed: `plan.steps_of::<RemoveCertificate>()`.
    pub fn steps_of<T: Step>(&self) -> impl Iterator<Item = &T> {
        self.steps
            .iter()
            .filter_map(|planned| planned.step.as_any().downcast_ref::<T>())
    }

    /// How many steps count in `bucket`.
    pub fn count(&self, bucket: Bucket) -> usize {
        self.steps
            .iter()
            .filter(|planned| planned.step.kind().bucket == bucket)
            .count()
    }

    /// SHA-256 over everything the plan depends on (its own inputs and the organisation-wide
    /// ones, see [`crate::model::Inventory::inputs_for`]) and every step, so both scripts and the
    /// report can name the plan they belong to, and another server's export changing does not
    /// change it. `rollback.ps1` trusts it to find the runs of its own plan.
    pub fn fingerprint(&self, inputs: &[InputFile], evaluated_at: &str) -> String {
        let mut text = format!(
            "hybridtls {}\nnow {evaluated_at}\nserver {}\n",
            env!("CARGO_PKG_VERSION"),
            self.server
        );
        for input in inputs {
            text.push_str(&format!("input {}\n", input.hash));
        }
        for planned in &self.steps {
            text.push_str(&planned.step.fingerprint());
            text.push('\n');
        }
        crate::input::sha256_hex(text.as_bytes())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// Scripted steps per bucket, in [`Bucket::ALL`] order.
    pub steps: [usize; Bucket::ALL.len()],
    pub manual: usize,
    /// Checks not judged for want of an export or a property: the plan is then no all-clear.
    pub not_checked: usize,
}

impl Summary {
    pub fn count(&self, bucket: Bucket) -> usize {
        self.steps[bucket as usize]
    }

    /// Scripted steps and manual actions.
    pub fn actions(&self) -> usize {
        self.steps.iter().sum::<usize>() + self.manual
    }

    /// Whether there is anything to do: a step, a manual action, or an export to give.
    pub fn has_work(&self) -> bool {
        self.actions() + self.not_checked > 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plan: ")?;
        for bucket in Bucket::ALL {
            write!(f, "{} {}, ", self.count(bucket), bucket.label())?;
        }
        write!(f, "{} manual", self.manual)?;
        if self.not_checked > 0 {
            write!(f, ", {} not checked", self.not_checked)?;
        }
        f.write_str(".")
    }
}

/// Adds `step` to `steps`, or the rule to the same step already there.
fn merge(steps: &mut Vec<PlannedStep>, step: &SharedStep, rule: &'static str) {
    match steps
        .iter_mut()
        .find(|p| p.step.kind() == step.kind() && p.step.key().eq_ignore_ascii_case(step.key()))
    {
        Some(planned) => {
            if !planned.resolves.contains(&rule) {
                planned.resolves.push(rule);
            }
        }
        None => steps.push(PlannedStep {
            step: step.clone(),
            resolves: vec![rule],
        }),
    }
}

/// Execution order: by kind, in the order of [`KINDS`], then by what each step acts on.
fn order_steps(steps: &mut [PlannedStep]) {
    let kind_order = |step: &dyn Step| {
        KINDS
            .iter()
            .position(|kind| *kind == step.kind())
            .unwrap_or(KINDS.len())
    };
    steps.sort_by(|a, b| {
        kind_order(a.step.as_ref())
            .cmp(&kind_order(b.step.as_ref()))
            .then_with(|| a.step.key().cmp(b.step.key()))
    });
}

pub fn build(diagnosis: &Diagnosis) -> Vec<ServerPlan> {
    let mut plans: Vec<ServerPlan> = diagnosis
        .servers
        .iter()
        .map(|server| {
            let edge = server.server.kind == Some(ServerKind::Edge);
            let mut steps: Vec<PlannedStep> = Vec::new();
            let mut manual: Vec<ManualAction> = Vec::new();
            for finding in &server.findings {
                match &finding.remedy {
                    // Placed in the carrier's plan below, once for every server that uses it.
                    Remedy::Step(step) if step.carrier().is_some() => {}
                    Remedy::Step(step) => merge(&mut steps, step, finding.rule.code),
                    remedy => {
                        if let Fix::ByHand { instruction, command } = remedy.fix() {
                            match manual
                                .iter_mut()
                                .find(|m| m.instruction == instruction && m.command == command)
                            {
                                Some(action) => action.resolves.push(finding.rule.code),
                                None => manual.push(ManualAction {
                                    object: finding.object.clone(),
                                    instruction: instruction.to_owned(),
                                    command,
                                    resolves: vec![finding.rule.code],
                                }),
                            }
                        }
                    }
                }
            }
            // The renewal's manual steps follow the scripted ones in their order: the hybrid
            // configuration, then EdgeSync, then the Exchange Online values (HT033).
            manual.sort_by_key(renewal_phase);
            let hybrid_roles: Vec<_> = server
                .connectors
                .iter()
                .filter(|r| r.hybrid)
                .map(|r| r.connector.role)
                .collect();
            let mut plan = ServerPlan {
                server: server.server.name.clone(),
                fqdn: server.server.fqdn.clone(),
                edge,
                keep: server.intended.iter().map(|c| (*c).clone()).collect(),
                receive_certificates: server.intended.iter().map(|c| (*c).clone()).collect(),
                steps,
                restarts: Vec::new(),
                manual,
            };
            settle(&mut plan, &hybrid_roles);
            plan
        })
        .collect();
    place_carried_steps(diagnosis, &mut plans);
    plans
}

/// Puts the steps in execution order and derives the restarts they need.
fn settle(plan: &mut ServerPlan, hybrid_roles: &[Option<crate::model::TransportRole>]) {
    order_steps(&mut plan.steps);
    let context = ServerContext {
        edge: plan.edge,
        hybrid_roles,
    };
    let mut restarts: Vec<&'static str> = plan
        .steps
        .iter()
        .flat_map(|planned| planned.step.restarts(&context))
        .collect();
    restarts.sort_unstable();
    restarts.dedup();
    plan.restarts = restarts;
}

/// Where a manual action falls in the renewal workflow (stable sort: other actions keep their
/// order, after enabling a certificate for SMTP and before the renewal's own steps).
fn renewal_phase(action: &ManualAction) -> u8 {
    match action.command.as_ref().map(|c| c.cmdlet) {
        // A certificate is enabled for SMTP before anything names it (HT020).
        Some("Enable-ExchangeCertificate") => 0,
        Some("Set-HybridConfiguration") => 2,
        Some("Start-EdgeSynchronization") => 3,
        Some("Set-InboundConnector" | "Set-OutboundConnector") => 4,
        _ if action.object == "Exchange Online connectors" => 4,
        _ => 1,
    }
}

/// Puts each step on an object of the organisation into the plan of its carrier, once however
/// many servers reported it: the carrier's script carries it out, keeps the certificate it
/// presents and restarts what it needs; every other server that uses the object gets that
/// step's follow-up as a manual action (its own script, if any, runs independently).
fn place_carried_steps(diagnosis: &Diagnosis, plans: &mut [ServerPlan]) {
    let mut carried: Vec<PlannedStep> = Vec::new();
    for finding in diagnosis.servers.iter().flat_map(|s| &s.findings) {
        if let Remedy::Step(step) = &finding.remedy {
            if step.carrier().is_some() {
                merge(&mut carried, step, finding.rule.code);
            }
        }
    }
    for planned in carried {
        let step = planned.step.as_ref();
        let carrier = step.carrier().unwrap_or_default();
        for plan in plans.iter_mut() {
            if plan.server.eq_ignore_ascii_case(carrier) {
                if let Some(certificate) = step.presents() {
                    if !plan.keep.iter().any(|c| c.thumbprint == certificate.thumbprint) {
                        plan.keep.push(certificate.clone());
                    }
                }
                // The carrier's restarts do not depend on its hybrid receive connectors.
                let mut restarts = step.restarts(&ServerContext {
                    edge: plan.edge,
                    hybrid_roles: &[],
                });
                restarts.extend(plan.restarts.iter().copied());
                restarts.sort_unstable();
                restarts.dedup();
                plan.restarts = restarts;
                plan.steps.push(planned.clone());
                order_steps(&mut plan.steps);
            } else if step
                .also_used_by()
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&plan.server))
            {
                let (instruction, command) = step.follow_up(carrier, &plan.server);
                plan.manual.push(ManualAction {
                    object: step.key().to_owned(),
                    instruction,
                    command: Some(command),
                    resolves: planned.resolves.clone(),
                });
            }
        }
    }
}

pub fn summarize(diagnosis: &Diagnosis, plans: &[ServerPlan]) -> Summary {
    let mut steps = [0; Bucket::ALL.len()];
    for bucket in Bucket::ALL {
        steps[bucket as usize] = plans.iter().map(|p| p.count(bucket)).sum();
    }
    Summary {
        steps,
        not_checked: diagnosis.not_judged.len(),
        manual: plans.iter().map(|p| p.manual.len()).sum(),
    }
}
