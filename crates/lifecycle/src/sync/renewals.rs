//! Stage 1: the renewal link feed, read, hashed with the pepper and recorded before any CRL
//! entry is applied, so that a `superseded` entry of the same cycle finds its link.

use honnin_core::{AuditEventKind, LinkOutcome, NewAuditEvent};

use super::{Cycle, LinkReport, Progress, RevocationSync, Stage, TARGET};
use crate::{Result, links::LinkFeed};

impl RevocationSync {
    /// Reads `feed` and records its links in batches, auditing each new one. A feed that
    /// cannot be read is a failed stage, and `superseded` entries wait for the next cycle.
    pub(super) async fn renewals(&self, feed: &LinkFeed, cycle: &mut Cycle<'_>) -> Result<Stage> {
        let links = match feed.read(self.pepper.clone(), cycle.scopes.clone()).await {
            Ok(links) => links,
            Err(error) => {
                cycle.links_ok = false;
                cycle.fail(&self.metrics, "links", error.to_string());
                return Ok(Stage::Finished);
            }
        };
        cycle.progress(Progress::LinksRead {
            origin: feed.origin().to_string(),
            links: links.len(),
        });
        let mut total = LinkOutcome::default();
        for chunk in links.chunks(self.batch_size) {
            if cycle.stopping() {
                return Ok(Stage::Interrupted);
            }
            let now = honnin_core::time::now();
            let outcome = self.store.link_renewals(chunk, now).await?;
            let events = (0..outcome.linked)
                .map(|_| {
                    NewAuditEvent::new(AuditEventKind::RenewalLinked, now)
                        .with_code("renewal_linked")
                        .with_context(cycle.context.clone())
                })
                .collect::<Vec<_>>();
            if !events.is_empty() {
                self.audit.record(events).await?;
            }
            total.linked += outcome.linked;
            total.already += outcome.already;
            total.unknown_old += outcome.unknown_old;
            total.conflicts += outcome.conflicts;
        }
        self.metrics.links("linked", total.linked);
        self.metrics.links("already", total.already);
        self.metrics.links("unknown_old", total.unknown_old);
        self.metrics.links("conflict", total.conflicts);
        if total.conflicts > 0 {
            tracing::warn!(target: TARGET, conflicts = total.conflicts, "renewal links whose new certificate belongs to another person were left alone");
        }
        cycle.progress(Progress::LinksApplied(total.clone()));
        cycle.report.links = Some(LinkReport { read: links.len() as u64, outcome: total });
        Ok(Stage::Finished)
    }
}
