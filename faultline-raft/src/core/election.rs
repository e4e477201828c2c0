//! Leader election (§5.2): campaigns, votes and the up-to-date rule (§5.4.1), with an optional
//! pre-vote round (§9.6) so a node that was cut off cannot force a disruptive new term.

use super::{Core, Role};
use crate::progress::quorum;
use crate::types::{Body, Message};

impl Core {
    /// Start an election: a pre-vote round when `pre`, otherwise a real one in a new term.
    pub(super) fn campaign(&mut self, pre: bool) {
        self.reset_election_timer();
        self.votes.clear();
        self.votes.insert(self.cfg.id.clone(), true);
        let term = if pre {
            self.role = Role::PreCandidate;
            self.term + 1
        } else {
            self.role = Role::Candidate;
            self.term += 1;
            self.vote = Some(self.cfg.id.clone());
            self.term
        };
        self.leader = None;
        self.leader_addr = None;
        tracing::debug!(term, pre, "campaigning");
        if self.votes.len() >= quorum(self.voters()) {
            self.won_round(pre);
            return;
        }
        self.request_votes(pre);
    }

    /// Send RequestVote to every peer that has not answered in this round.
    pub(super) fn request_votes(&mut self, pre: bool) {
        let term = if pre { self.term + 1 } else { self.term };
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        let silent: Vec<_> = self
            .cfg
            .peers
            .iter()
            .filter(|p| !self.votes.contains_key(*p))
            .cloned()
            .collect();
        for peer in silent {
            self.msgs.push(Message {
                from: self.cfg.id.clone(),
                to: peer,
                term,
                body: Body::RequestVote {
                    pre,
                    last_index,
                    last_term,
                },
            });
        }
    }

    fn won_round(&mut self, pre: bool) {
        if pre {
            self.campaign(false);
        } else {
            self.become_leader();
        }
    }

    /// §5.4.1: the candidate's log is at least as up-to-date as ours.
    fn log_ok(&self, last_index: u64, last_term: u64) -> bool {
        last_term > self.log.last_term()
            || (last_term == self.log.last_term() && last_index >= self.log.last_index())
    }

    pub(super) fn handle_vote_request(&mut self, m: Message) {
        let Body::RequestVote {
            pre,
            last_index,
            last_term,
        } = m.body
        else {
            return;
        };
        let granted = if pre {
            // A pre-vote is granted only if we would grant a real vote in that term and we have
            // not heard from a live leader recently.
            let leader_alive = (self.role == Role::Follower
                && self.leader.is_some()
                && self.election_elapsed < self.cfg.election_ticks)
                || self.role == Role::Leader;
            m.term > self.term && !leader_alive && self.log_ok(last_index, last_term)
        } else {
            let can_vote = self.vote.is_none() || self.vote.as_ref() == Some(&m.from);
            can_vote && self.log_ok(last_index, last_term)
        };
        if granted && !pre {
            self.vote = Some(m.from.clone());
            self.reset_election_timer();
        }
        let term = if granted && pre { m.term } else { self.term };
        self.msgs.push(Message {
            from: self.cfg.id.clone(),
            to: m.from,
            term,
            body: Body::VoteResponse { pre, granted },
        });
    }

    pub(super) fn handle_vote_response(&mut self, m: Message) {
        let Body::VoteResponse { pre, granted } = m.body else {
            return;
        };
        let expected = if pre {
            Role::PreCandidate
        } else {
            Role::Candidate
        };
        if self.role != expected {
            return;
        }
        self.votes.insert(m.from, granted);
        let yes = self.votes.values().filter(|v| **v).count();
        let no = self.votes.len() - yes;
        let q = quorum(self.voters());
        if yes >= q {
            self.won_round(pre);
        } else if no >= q {
            let term = self.term;
            self.become_follower(term, None);
        }
    }
}
