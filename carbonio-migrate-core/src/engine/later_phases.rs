//! Phases 3 (shares) and 4 (files). They are registered so that procedures name
//! them and the planner refuses them, by name, when the configured pair cannot
//! do them; no built-in adapter declares these capabilities yet.

use async_trait::async_trait;

use super::phase::{Phase, PhaseContext, PhaseNeeds};
use super::work::WorkItem;
use crate::capability::Capability;
use crate::destination::Change;
use crate::error::{Error, Result};

/// Phase 3: folder grants, then mountpoints.
pub struct SharesPhase;

/// Phase 4: Briefcase / Drive documents into Carbonio Files.
pub struct FilesPhase;

#[async_trait]
impl Phase for SharesPhase {
    fn name(&self) -> &'static str {
        "shares"
    }
    fn needs(&self) -> PhaseNeeds {
        PhaseNeeds {
            source: vec![Capability::Shares],
            destination: vec![Capability::Shares],
        }
    }
    async fn plan(&self, ctx: &PhaseContext) -> Result<Vec<WorkItem>> {
        Err(Error::unsupported("planning shares", ctx.source.kind()))
    }
    async fn run(&self, ctx: &PhaseContext, _item: &WorkItem) -> Result<Change> {
        Err(Error::unsupported(
            "migrating shares",
            ctx.destination.kind(),
        ))
    }
}

#[async_trait]
impl Phase for FilesPhase {
    fn name(&self) -> &'static str {
        "files"
    }
    fn needs(&self) -> PhaseNeeds {
        PhaseNeeds {
            source: vec![Capability::Files],
            destination: vec![Capability::Files],
        }
    }
    async fn plan(&self, ctx: &PhaseContext) -> Result<Vec<WorkItem>> {
        Err(Error::unsupported("planning files", ctx.source.kind()))
    }
    async fn run(&self, ctx: &PhaseContext, _item: &WorkItem) -> Result<Change> {
        Err(Error::unsupported(
            "migrating files",
            ctx.destination.kind(),
        ))
    }
}
