//! Tickets in the invariant test: a zero-padded number in the primary key, a
//! multi-attribute index (`byQueue`: queue, then priority and number) and a unique email.
//! The model predicts each write (a number no key can hold, a taken key, a taken email),
//! and the checks compare the stored tickets, their guard items and the four ticket
//! patterns with it.

use std::collections::BTreeMap;

use dyngen_app_tests::write_model::*;
use dyngen_runtime::{Error, Item};

use super::World;
use super::ops::*;

/// Numbers around the places where text and number order differ, and two no key holds
/// (`{number:07}`: 0 to 9,999,999).
pub const NUMBERS: [i64; 8] = [1, 9, 10, 99, 100, 9_999_999, 10_000_000, -1];
pub const EMAILS: [&str; 3] = ["a@x", "b#c@x", "d%@x"];
pub const QUEUES: [&str; 2] = ["q1", "q2"];
pub const PRIORITIES: [i64; 3] = [1, 2, 10];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketOp {
    Create {
        email: usize,
        queue: usize,
        priority: usize,
    },
    Put {
        email: usize,
        queue: usize,
        priority: usize,
    },
    SetEmail(usize),
    SetPriority(usize),
    Delete,
}

/// One ticket operation on (owner, number).
pub fn ticket_op(r: &mut Rng) -> Op {
    let (o, number) = (r.below(OWNERS.len()), r.below(NUMBERS.len()));
    let (email, queue, priority) = (
        r.below(EMAILS.len()),
        r.below(QUEUES.len()),
        r.below(PRIORITIES.len()),
    );
    let op = match r.below(6) {
        0 | 1 => TicketOp::Create {
            email,
            queue,
            priority,
        },
        2 => TicketOp::Put {
            email,
            queue,
            priority,
        },
        3 => TicketOp::SetEmail(email),
        4 => TicketOp::SetPriority(priority),
        _ => TicketOp::Delete,
    };
    Op::Ticket { o, number, op }
}

fn ticket(o: usize, number: usize, email: usize, queue: usize, priority: usize) -> Ticket {
    Ticket::new(
        OWNERS[o],
        NUMBERS[number],
        EMAILS[email],
        QUEUES[queue],
        PRIORITIES[priority],
    )
}

/// What a write is expected to end as: applied, or the error's kind.
fn kind<T>(r: &Result<T, Error>) -> Result<&'static str, String> {
    Ok(match r {
        Ok(_) => "ok",
        Err(Error::InvalidKey { .. }) => "invalid key",
        Err(Error::AlreadyExists { .. }) => "exists",
        Err(Error::NotFound { .. }) => "not found",
        Err(Error::UniqueViolation { .. }) => "email taken",
        Err(e) => return Err(format!("unexpected error: {e}")),
    })
}

impl World {
    /// Whether another ticket than (o, number) holds `email`.
    fn email_taken(&self, o: usize, number: usize, email: &str) -> bool {
        self.tickets
            .iter()
            .any(|(k, t)| *k != (o, number) && t.email == email)
    }

    pub(super) async fn ticket(
        &mut self,
        o: usize,
        number: usize,
        op: &TicketOp,
    ) -> Result<(), String> {
        let key = TicketKey {
            owner: OWNERS[o].into(),
            number: NUMBERS[number],
        };
        let fits = (0..=9_999_999).contains(&NUMBERS[number]);
        let stored = self.tickets.get(&(o, number)).cloned();
        let repo = self.db.ticket();
        let (want, got, after) = match op {
            TicketOp::Create {
                email,
                queue,
                priority,
            } => {
                let t = ticket(o, number, *email, *queue, *priority);
                let want = if !fits {
                    "invalid key"
                } else if stored.is_some() {
                    "exists"
                } else if self.email_taken(o, number, &t.email) {
                    "email taken"
                } else {
                    "ok"
                };
                (want, kind(&repo.create(&t).await)?, Some(t))
            }
            TicketOp::Put {
                email,
                queue,
                priority,
            } => {
                let t = ticket(o, number, *email, *queue, *priority);
                let want = if !fits {
                    "invalid key"
                } else if self.email_taken(o, number, &t.email) {
                    "email taken"
                } else {
                    "ok"
                };
                (want, kind(&repo.put(&t).await)?, Some(t))
            }
            TicketOp::SetEmail(email) => {
                let r = repo
                    .update(&key)
                    .set_email(EMAILS[*email].into())
                    .send()
                    .await;
                let after = stored.clone().map(|mut t| {
                    t.email = EMAILS[*email].into();
                    t
                });
                let want = match &stored {
                    None => "not found",
                    Some(_) if self.email_taken(o, number, EMAILS[*email]) => "email taken",
                    Some(_) => "ok",
                };
                (want, kind(&r)?, after)
            }
            TicketOp::SetPriority(p) => {
                let r = repo.update(&key).set_priority(PRIORITIES[*p]).send().await;
                let after = stored.clone().map(|mut t| {
                    t.priority = PRIORITIES[*p];
                    t
                });
                let want = if stored.is_some() { "ok" } else { "not found" };
                (want, kind(&r)?, after)
            }
            TicketOp::Delete => {
                let old = repo.delete(&key).await.map_err(|e| e.to_string())?;
                if old != stored {
                    return Err(format!("delete returned {old:?}, the model had {stored:?}"));
                }
                self.tickets.remove(&(o, number));
                return Ok(());
            }
        };
        // A number no key holds is refused before any request: there is nothing to read.
        if want != got {
            return Err(format!(
                "ticket ({o}, {number}) {op:?}: expected {want}, got {got}"
            ));
        }
        if let (true, Some(t)) = (got == "ok", after) {
            self.tickets.insert((o, number), t);
        }
        Ok(())
    }

    /// The stored tickets and guard items against the model.
    pub(super) fn check_tickets(
        &self,
        mut stored: Vec<Ticket>,
        guards: Vec<Item>,
    ) -> Result<(), String> {
        let mut model: Vec<Ticket> = self.tickets.values().cloned().collect();
        let order = |a: &Ticket, b: &Ticket| (&a.owner, a.number).cmp(&(&b.owner, b.number));
        stored.sort_by(order);
        model.sort_by(order);
        if stored != model {
            return Err(format!("stored tickets {stored:?}\nmodel {model:?}"));
        }
        let esc = |s: &str| s.replace('%', "%25").replace('#', "%23");
        let want: BTreeMap<String, String> = model
            .iter()
            .map(|t| {
                (
                    format!("#dyngen#unique#Ticket#email#{}", esc(&t.email)),
                    format!("S:ACCOUNT%23{}#S:TICKET%23{:07}#", t.owner, t.number),
                )
            })
            .collect();
        let got: BTreeMap<String, String> = guards
            .iter()
            .map(|g| {
                let s = |k: &str| {
                    g.get(k)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                (s(DESIGN.partition_key), s("_dyngenOwner"))
            })
            .collect();
        if got != want {
            return Err(format!("guards {got:?}\nmodel {want:?}"));
        }
        Ok(())
    }

    /// The ticket patterns: padded numbers in number order, and the multi-attribute index
    /// ordered by priority then number.
    pub(super) async fn check_ticket_patterns(&self) -> Result<(), String> {
        let e = |e: Error| e.to_string();
        for (oi, owner) in OWNERS.iter().enumerate() {
            let mut mine: Vec<Ticket> = (self.tickets.iter())
                .filter(|((o, _), _)| *o == oi)
                .map(|(_, t)| t.clone())
                .collect();
            mine.sort_by_key(|t| t.number);
            let got = self.db.tickets_of(owner).all().await.map_err(e)?;
            if got != mine {
                return Err(format!("ticketsOf {owner}: {got:?}\nmodel {mine:?}"));
            }
            for (from, to) in [(9, 100), (10, 10), (0, 9_999_999), (2, 9)] {
                let want: Vec<&Ticket> = mine
                    .iter()
                    .filter(|t| (from..=to).contains(&t.number))
                    .collect();
                let got = self
                    .db
                    .tickets_between(owner, from, to)
                    .all()
                    .await
                    .map_err(e)?;
                if got.iter().collect::<Vec<_>>() != want {
                    return Err(format!(
                        "ticketsBetween({from}, {to}): {got:?}\nmodel {want:?}"
                    ));
                }
            }
        }
        for queue in QUEUES {
            let mut want: Vec<Ticket> = (self.tickets.values())
                .filter(|t| t.queue == queue)
                .cloned()
                .collect();
            // Ties on (priority, number) across owners come in any order: compare as sets.
            want.sort_by(|a, b| {
                (a.priority, a.number, &a.owner).cmp(&(b.priority, b.number, &b.owner))
            });
            let mut got = self.db.queue(queue).all().await.map_err(e)?;
            if got
                .windows(2)
                .any(|w| (w[0].priority, w[0].number) > (w[1].priority, w[1].number))
            {
                return Err(format!("queue {queue} out of order: {got:?}"));
            }
            got.sort_by(|a, b| {
                (a.priority, a.number, &a.owner).cmp(&(b.priority, b.number, &b.owner))
            });
            if got != want {
                return Err(format!("queue {queue}: {got:?}\nmodel {want:?}"));
            }
            for p in PRIORITIES {
                let from: Vec<&Ticket> = want.iter().filter(|t| t.priority >= p).collect();
                let mut got = self.db.queue_from(queue, p).all().await.map_err(e)?;
                got.sort_by(|a, b| {
                    (a.priority, a.number, &a.owner).cmp(&(b.priority, b.number, &b.owner))
                });
                if got.iter().collect::<Vec<_>>() != from {
                    return Err(format!("queueFrom({queue}, {p}): {got:?}\nmodel {from:?}"));
                }
            }
        }
        Ok(())
    }
}
