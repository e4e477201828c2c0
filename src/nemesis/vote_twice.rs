//! `vote-twice` (rule: persist the vote before answering, Raft Figure 2): steer one election so
//! that the voters grant their vote to candidate A, restart before A's first append reaches
//! them, and are then asked, in the same term, by candidate B. A node that forgot its vote grants
//! it a second time and the term gets two leaders; a correct node refuses B.
//!
//! The steps freeze nodes (SIGSTOP) instead of racing them, so the outcome does not hang on
//! millisecond timing. With B the leader in term T, A one follower and the voters every other node:
//!
//! 1. freeze the voters; cut A↔B both ways and B→voters. A and B lose their leader (B its
//!    quorum) and campaign; A's RequestVote reaches the frozen voters' sockets, B's is held;
//! 2. freeze A and B as soon as each is a candidate in term T+1;
//! 3. cut A→voters too (A's later messages, its first append among them, are held) and resume
//!    the voters: they grant A's RequestVote; wait until they are in term T+1;
//! 4. kill and restart the voters;
//! 5. let B reach the voters and resume B: its retried RequestVote reaches them;
//! 6. once B leads term T+1 (or after a deadline), resume A and let it reach the voters: it reads
//!    the votes granted in step 3 and leads term T+1 too.
//!
//! A and B stay cut from each other until the fault ends (undo: heal, resume, restart). The last
//! recorded partition says what happened ("n1 and n3 both lead term 8", or why it stopped).
//!
//! Needs [`LeaderProbe::state`](super::LeaderProbe::state) and a node without pre-vote: with
//! pre-vote, A and B cannot both become candidates in one term (the first to win pre-vote raises
//! the term of a majority), step 2 times out and the sequence stops. That is pre-vote doing its
//! job, and why `faultline bench bugs` runs this fault on `clusters/raft-no-prevote.toml`.

use std::time::Duration;

use tokio::time::Instant;

use super::partition::Partition;
use super::probe::NodeState;
use super::verbs::Nemesis;
use super::NemesisError;
use crate::net::{Link, NodeId};
use crate::protocol::Role;

/// How long A and B may take to become candidates (B first has to notice it lost its quorum).
const CAMPAIGN_DEADLINE: Duration = Duration::from_secs(5);
/// How long the resumed voters, or the resumed B, may take to move on.
const STEP_DEADLINE: Duration = Duration::from_secs(2);
/// Time for A to read its votes before the outcome is observed.
const SETTLE: Duration = Duration::from_millis(300);
/// Status polling interval.
const POLL: Duration = Duration::from_millis(10);

fn both_ways(a: &NodeId, b: &NodeId) -> [Link; 2] {
    [(a.clone(), b.clone()), (b.clone(), a.clone())]
}

fn from_to<'a>(from: &'a NodeId, to: &'a [NodeId]) -> impl Iterator<Item = Link> + 'a {
    to.iter().map(move |v| (from.clone(), v.clone()))
}

impl Nemesis {
    /// `vote-twice` with `leader` as B and `fallback` (or the next node) as A. Leaves A and B cut
    /// from each other; on an early stop it may leave nodes paused (undo: heal everything,
    /// resume, restart).
    pub(super) async fn vote_twice(
        &self,
        leader: &NodeId,
        fallback: &NodeId,
        note: &str,
        ids: &[NodeId],
    ) -> Result<(), NemesisError> {
        let b = leader.clone();
        let a = if fallback != leader {
            fallback.clone()
        } else {
            let at = ids.iter().position(|n| n == leader).unwrap_or(0);
            ids[(at + 1) % ids.len().max(1)].clone()
        };
        let voters: Vec<NodeId> = ids
            .iter()
            .filter(|n| **n != a && **n != b)
            .cloned()
            .collect();
        let ab = both_ways(&a, &b);
        if a == b || voters.is_empty() {
            return self.vote_twice_stop(&ab, "needs at least 3 nodes");
        }
        let term = match self.probe.state(&b).await {
            Some(s) if s.role == Role::Leader => s.term + 1,
            _ => return self.vote_twice_stop(&[], &format!("{b} is not a known leader")),
        };
        let vs = format!("[{}]", voters.join(" "));

        // 1. Freeze the voters; A and B lose each other, B loses the voters.
        self.pause_noted(
            &voters,
            &format!("{note} (vote-twice: {a} and {b} will campaign in term {term})"),
        );
        let mut cuts: Vec<Link> = ab.to_vec();
        cuts.extend(from_to(&b, &voters));
        self.partition(&Partition::directed(
            format!("{a}<->{b} {b}->{vs} (vote-twice: both campaign)"),
            cuts.clone(),
        ))?;

        // 2. Freeze A and B once each is a candidate in term `term`.
        if let Err(why) = self.freeze_candidates(&[a.clone(), b.clone()], term).await {
            return self.vote_twice_stop(&cuts, &why);
        }

        // 3. Hold A's later messages, let the voters grant A's queued RequestVote.
        cuts.extend(from_to(&a, &voters));
        self.partition(&Partition::directed(
            format!("{a}<->{b} {a}->{vs} {b}->{vs} (vote-twice: voters answer {a} only)"),
            cuts.clone(),
        ))?;
        self.resume(&voters);
        for v in &voters {
            if self
                .wait_state(v, STEP_DEADLINE, |s| s.term >= term)
                .await
                .is_none()
            {
                return self.vote_twice_stop(
                    &cuts,
                    &format!("{v} never reached term {term} after resume"),
                );
            }
        }

        // 4. Restart the voters: a node that did not persist its vote forgets it here.
        self.kill_noted(&voters, &format!("(vote-twice: voted in term {term})"));
        self.restart(&voters).await;

        // 5. B's RequestVote reaches the restarted voters.
        let mut cuts: Vec<Link> = ab.to_vec();
        cuts.extend(from_to(&a, &voters));
        self.partition(&Partition::directed(
            format!("{a}<->{b} {a}->{vs} (vote-twice: {b} asks the restarted voters)"),
            cuts.clone(),
        ))?;
        self.resume(std::slice::from_ref(&b));
        let b_state = self
            .wait_state(&b, STEP_DEADLINE, |s| {
                s.term > term || (s.term == term && s.role == Role::Leader)
            })
            .await;
        let b_won = b_state.is_some_and(|s| s.term == term);

        // 6. A reads the votes it was granted before the restart.
        let cuts: Vec<Link> = ab.to_vec();
        self.partition(&Partition::directed(
            format!("{a}<->{b} (vote-twice: {a} collects its votes)"),
            cuts.clone(),
        ))?;
        self.resume(std::slice::from_ref(&a));
        tokio::time::sleep(SETTLE).await;
        let a_leads = self
            .probe
            .state(&a)
            .await
            .is_some_and(|s| s.role == Role::Leader && s.term == term);
        let b_leads = self
            .probe
            .state(&b)
            .await
            .is_some_and(|s| s.role == Role::Leader && s.term == term);
        let outcome = match (b_won, a_leads && b_leads) {
            (true, true) => format!("{a} and {b} both lead term {term}: the voters voted twice"),
            (true, false) => format!("{b} won term {term} too; {a} does not lead it"),
            (false, _) => match b_state {
                Some(s) => format!(
                    "the voters refused {b} a second vote in term {term} ({b} went on to term {})",
                    s.term
                ),
                None => format!("{b} did not win term {term}"),
            },
        };
        self.partition(&Partition::directed(
            format!("{a}<->{b} (vote-twice: {outcome})"),
            cuts,
        ))
    }

    /// Record why the sequence stopped early, keeping `cuts` (the undo heals them).
    fn vote_twice_stop(&self, cuts: &[Link], why: &str) -> Result<(), NemesisError> {
        self.partition(&Partition::directed(
            format!("(vote-twice stopped: {why})"),
            cuts.iter().cloned(),
        ))
    }

    /// Poll `nodes` until each is a candidate in `term`, freezing each as soon as it is. Fails if
    /// one moves past `term` or the deadline passes.
    async fn freeze_candidates(&self, nodes: &[NodeId], term: u64) -> Result<(), String> {
        let deadline = Instant::now() + CAMPAIGN_DEADLINE;
        let mut waiting: Vec<NodeId> = nodes.to_vec();
        while !waiting.is_empty() {
            let mut still = Vec::new();
            for n in waiting {
                match self.probe.state(&n).await {
                    Some(s) if s.term == term && s.role == Role::Candidate => {
                        self.pause_noted(
                            std::slice::from_ref(&n),
                            &format!("(vote-twice: candidate in term {term})"),
                        );
                    }
                    Some(s) if s.term > term => {
                        return Err(format!("{n} went on to term {}", s.term));
                    }
                    Some(s) if s.role == Role::PreCandidate => {
                        // Pre-vote: a candidate's term is raised only once a majority would vote
                        // for it, so the second candidate can never join the first one's term.
                        let evidence = format!("{n} was a pre-candidate in term {}", s.term);
                        *self.pre_vote.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(evidence.clone());
                        return Err(format!("{evidence}: the nodes run pre-vote"));
                    }
                    _ => still.push(n),
                }
            }
            waiting = still;
            if waiting.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} never became a candidate in term {term} (pre-vote on?)",
                    waiting.join(" and ")
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    /// Poll `node` until `done` holds for its state, or `None` after `within`.
    async fn wait_state(
        &self,
        node: &NodeId,
        within: Duration,
        done: impl Fn(NodeState) -> bool,
    ) -> Option<NodeState> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.probe.state(node).await.filter(|s| done(*s)) {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
