//! The operations of the invariant test and their seeded generator.

use dyngen_app_tests::write_model::TaskStatus;

#[allow(dead_code)]
#[path = "../../../support/mutator.rs"]
mod mutator;

/// A small key space, so operations collide.
pub const OWNERS: [&str; 2] = ["o1", "o2"];
pub const REPOS: [&str; 3] = ["r1", "r2", "r3"];
pub const TASKS: [&str; 3] = ["t1", "t2", "t3"];
pub const TEAMS: [&str; 2] = ["core", "web"];
pub const SESSIONS: [&str; 2] = ["s1", "s2"];
pub const AWARDS: [&str; 3] = ["", "gold", "silver"];
pub const WORDS: [&str; 3] = ["a", "b", "c"];
/// Dates as (year, month, day); index 0..3.
pub const DATES: [(i32, u8, u8); 3] = [(2024, 1, 1), (2024, 6, 1), (2025, 2, 28)];
pub const STATUSES: [TaskStatus; 3] = [TaskStatus::Todo, TaskStatus::Doing, TaskStatus::Done];

/// Which version a versioned write claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The stored one (0 for an absent item).
    Current,
    /// One that is not stored: a lost update.
    Stale,
}

/// A key input given to a setter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The stored value.
    Right,
    /// Another value (index into the list of values).
    Wrong(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoChange {
    SetDescription(&'static str),
    RemoveDescription,
    AddStars(i64),
    SetStars(i64),
    AddTopics(Vec<&'static str>),
    RemoveTopics(Vec<&'static str>),
    SetTopics(Vec<&'static str>),
    /// Two setters of one attribute: the last wins.
    DescriptionTwice(&'static str, &'static str),
    /// No setter at all.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskChange {
    Status(TaskStatus, Input),
    Due(usize, Input),
    RemoveDue,
    Award(usize),
    RemoveAward,
    AddLabels(Vec<&'static str>),
    RemoveLabels(Vec<&'static str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    RepoCreate {
        o: usize,
        n: usize,
        description: Option<&'static str>,
    },
    /// A put of a struct made from scratch (createdAt 1970) with the chosen version.
    RepoPut {
        o: usize,
        n: usize,
        description: Option<&'static str>,
        version: Version,
    },
    RepoUpdate {
        o: usize,
        n: usize,
        change: RepoChange,
        version: Option<Version>,
        tx: bool,
    },
    /// A transaction put; `right_created` gives the stored createdAt (required, because
    /// the repo's index keys use it).
    RepoTxPut {
        o: usize,
        n: usize,
        stars: i64,
        version: Version,
        right_created: bool,
    },
    RepoDelete {
        o: usize,
        n: usize,
        tx: bool,
    },
    TaskCreate {
        o: usize,
        id: usize,
        status: usize,
        due: Option<usize>,
        award: Option<usize>,
    },
    TaskUpdate {
        o: usize,
        id: usize,
        change: TaskChange,
        /// The status given to `with_status` (gsi6 is built from it and the update time)
        /// when no setter gives it.
        stamped: Input,
        tx: bool,
    },
    TaskPut {
        o: usize,
        id: usize,
        due: Option<usize>,
        award: Option<usize>,
        version: Version,
    },
    /// Batch puts of the listed tasks that do not exist yet.
    TaskBatchPut {
        tasks: Vec<(usize, usize)>,
    },
    TaskDelete {
        o: usize,
        id: usize,
    },
    Link {
        team: usize,
        member: usize,
        seconds: i64,
    },
    Unlink {
        team: usize,
        member: usize,
    },
    /// Puts (or deletes) a team or an account: the ends a link requires (`check_ends`).
    End {
        team: bool,
        i: usize,
        exists: bool,
    },
    SessionCreate {
        id: usize,
        ttl: Option<i64>,
    },
    SessionTtl {
        id: usize,
        ttl: Option<i64>,
    },
    Ticket {
        o: usize,
        /// Index into `tickets::NUMBERS`.
        number: usize,
        op: super::tickets::TicketOp,
    },
}

/// The schema fuzz's seeded generator, with the draws operations need.
pub struct Rng(mutator::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mutator::Rng(seed))
    }
    pub fn next(&mut self) -> u64 {
        self.0.next()
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn maybe(&mut self, percent: u64, n: usize) -> Option<usize> {
        self.chance(percent).then(|| self.below(n))
    }
    fn words(&mut self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> =
            WORDS.iter().copied().filter(|_| self.chance(50)).collect();
        if out.is_empty() {
            out.push(WORDS[self.below(WORDS.len())]);
        }
        out
    }
    fn version(&mut self) -> Version {
        if self.chance(80) {
            Version::Current
        } else {
            Version::Stale
        }
    }
    fn input(&mut self, n: usize) -> Input {
        if self.chance(80) {
            Input::Right
        } else {
            Input::Wrong(self.below(n))
        }
    }
}

fn repo_change(r: &mut Rng) -> RepoChange {
    match r.below(9) {
        0 | 1 => RepoChange::SetDescription(WORDS[r.below(3)]),
        2 => RepoChange::RemoveDescription,
        3 => RepoChange::AddStars(r.below(5) as i64 - 2),
        4 => RepoChange::SetStars(r.below(10) as i64),
        5 => RepoChange::AddTopics(r.words()),
        6 => RepoChange::RemoveTopics(r.words()),
        7 => {
            if r.chance(20) {
                RepoChange::Nothing
            } else if r.chance(50) {
                RepoChange::SetTopics(if r.chance(30) { Vec::new() } else { r.words() })
            } else {
                RepoChange::DescriptionTwice(WORDS[r.below(3)], WORDS[r.below(3)])
            }
        }
        _ => RepoChange::SetDescription(WORDS[r.below(3)]),
    }
}

fn task_change(r: &mut Rng) -> TaskChange {
    match r.below(8) {
        0 | 1 => TaskChange::Status(STATUSES[r.below(3)], r.input(DATES.len() + 1)),
        2 | 3 => TaskChange::Due(r.below(DATES.len()), r.input(STATUSES.len())),
        4 => TaskChange::RemoveDue,
        5 => TaskChange::Award(r.below(AWARDS.len())),
        6 => TaskChange::RemoveAward,
        _ => {
            if r.chance(50) {
                TaskChange::AddLabels(r.words())
            } else {
                TaskChange::RemoveLabels(r.words())
            }
        }
    }
}

fn one(r: &mut Rng) -> Op {
    let (o, n, id) = (
        r.below(OWNERS.len()),
        r.below(REPOS.len()),
        r.below(TASKS.len()),
    );
    if r.chance(15) {
        return super::tickets::ticket_op(r);
    }
    match r.below(20) {
        0 | 1 => Op::RepoCreate {
            o,
            n,
            description: r.maybe(50, 3).map(|i| WORDS[i]),
        },
        2 => Op::RepoPut {
            o,
            n,
            description: r.maybe(50, 3).map(|i| WORDS[i]),
            version: r.version(),
        },
        3..=5 => Op::RepoUpdate {
            o,
            n,
            change: repo_change(r),
            version: r.chance(40).then(|| r.version()),
            tx: r.chance(30),
        },
        6 => Op::RepoTxPut {
            o,
            n,
            stars: r.below(4) as i64,
            version: r.version(),
            right_created: r.chance(85),
        },
        7 => Op::RepoDelete {
            o,
            n,
            tx: r.chance(30),
        },
        8 | 9 => Op::TaskCreate {
            o,
            id,
            status: r.below(3),
            due: r.maybe(60, DATES.len()),
            award: r.maybe(50, AWARDS.len()),
        },
        10..=13 => Op::TaskUpdate {
            o,
            id,
            change: task_change(r),
            stamped: r.input(STATUSES.len()),
            tx: r.chance(25),
        },
        14 => Op::TaskPut {
            o,
            id,
            due: r.maybe(60, DATES.len()),
            award: r.maybe(50, AWARDS.len()),
            version: r.version(),
        },
        15 => Op::TaskBatchPut {
            tasks: (0..1 + r.below(3))
                .map(|_| (r.below(OWNERS.len()), r.below(TASKS.len())))
                .collect(),
        },
        16 => Op::TaskDelete { o, id },
        17 => Op::Link {
            team: r.below(TEAMS.len()),
            member: r.below(OWNERS.len()),
            seconds: r.below(100) as i64,
        },
        18 => Op::Unlink {
            team: r.below(TEAMS.len()),
            member: r.below(OWNERS.len()),
        },
        19 if r.chance(50) => {
            let team = r.chance(50);
            Op::End {
                team,
                i: r.below(if team { TEAMS.len() } else { OWNERS.len() }),
                exists: r.chance(75),
            }
        }
        _ => {
            let id = r.below(SESSIONS.len());
            // Some in the past: DynamoDB Local never deletes them, so reads must skip them.
            let ttl = r
                .maybe(70, 50)
                .map(|s| s as i64 - if r.chance(40) { 400_000_000 } else { 0 });
            if r.chance(50) {
                Op::SessionCreate { id, ttl }
            } else {
                Op::SessionTtl { id, ttl }
            }
        }
    }
}

/// `count` operations drawn from `seed`.
pub fn generate(seed: u64, count: usize) -> Vec<Op> {
    let mut r = Rng::new(seed);
    (0..count).map(|_| one(&mut r)).collect()
}
