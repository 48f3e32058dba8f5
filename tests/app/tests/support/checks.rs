//! The invariant test's checks: the whole table against the model (each item's keys
//! against its templates, the items themselves) and every access pattern against the
//! model's answer.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use dyngen_app_tests::write_model::*;
use dyngen_runtime::{Error, Timestamp};

use super::ops::*;
use super::{World, date};
use crate::invariants;

impl World {
    /// The whole table against the model, and every access pattern.
    pub async fn check_all(&self) -> Result<(), String> {
        let items = invariants::check_table(&self.db).await?;
        let mut repos = Vec::new();
        let mut tasks = Vec::new();
        let mut links = BTreeSet::new();
        let mut sessions = Vec::new();
        let (mut teams, mut accounts) = (Vec::new(), Vec::new());
        let mut tickets = Vec::new();
        let mut guards = Vec::new();
        for item in items {
            let ty = match item.get(DESIGN.entity_type_attribute) {
                Some(AttributeValue::S(t)) => t.clone(),
                _ => unreachable!("checked by check_table"),
            };
            let err = |e: dyngen_runtime::ItemError| e.to_string();
            match ty.as_str() {
                "Repo" => repos.push(Repo::from_item(&item).map_err(err)?),
                "Task" => tasks.push(Task::from_item(&item).map_err(err)?),
                "TeamMember" => {
                    let m = TeamMember::from_item(&item).map_err(err)?;
                    links.insert(("tm", m.team, m.member, m.joined_at));
                }
                "MemberTeam" => {
                    let m = MemberTeam::from_item(&item).map_err(err)?;
                    links.insert(("mt", m.team, m.member, m.joined_at));
                }
                "Session" => sessions.push(Session::from_item(&item).map_err(err)?),
                "Team" => teams.push(Team::from_item(&item).map_err(err)?.name),
                "Account" => accounts.push(Account::from_item(&item).map_err(err)?.owner),
                "Ticket" => tickets.push(Ticket::from_item(&item).map_err(err)?),
                "#dyngen#unique" => guards.push(item),
                other => return Err(format!("an item of {other} was never written")),
            }
        }
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let show = |v: &dyn std::fmt::Debug| format!("{v:?}");
        let model_repos: Vec<&Repo> = self.repos.values().collect();
        repos.sort_by(|a, b| (&a.owner, &a.name).cmp(&(&b.owner, &b.name)));
        if sorted(repos.iter().map(|r| show(r)).collect())
            != sorted(model_repos.iter().map(|r| show(r)).collect())
        {
            return Err(format!("stored repos {repos:?}\nmodel {model_repos:?}"));
        }
        let model_teams: Vec<String> = self.teams.iter().map(|&i| TEAMS[i].into()).collect();
        let model_accounts: Vec<String> =
            (self.accounts.iter()).map(|&i| OWNERS[i].into()).collect();
        if sorted(teams.clone()) != sorted(model_teams.clone())
            || sorted(accounts.clone()) != sorted(model_accounts.clone())
        {
            return Err(format!(
                "stored teams {teams:?} and accounts {accounts:?}\nmodel {model_teams:?} and {model_accounts:?}"
            ));
        }
        let model_tasks: Vec<&Task> = self.tasks.values().collect();
        if sorted(tasks.iter().map(|t| show(t)).collect())
            != sorted(model_tasks.iter().map(|t| show(t)).collect())
        {
            return Err(format!("stored tasks {tasks:?}\nmodel {model_tasks:?}"));
        }
        let mut model_links = BTreeSet::new();
        for ((team, member), at) in &self.links {
            for side in ["tm", "mt"] {
                model_links.insert((
                    side,
                    TEAMS[*team].to_string(),
                    OWNERS[*member].to_string(),
                    *at,
                ));
            }
        }
        if links != model_links {
            return Err(format!("stored links {links:?}\nmodel {model_links:?}"));
        }
        let model_sessions: Vec<&Session> = self.sessions.values().collect();
        if sorted(sessions.iter().map(|s| show(s)).collect())
            != sorted(model_sessions.iter().map(|s| show(s)).collect())
        {
            return Err(format!(
                "stored sessions {sessions:?}\nmodel {model_sessions:?}"
            ));
        }
        self.check_tickets(tickets, guards)?;
        self.check_patterns().await?;
        self.check_ticket_patterns().await
    }

    async fn check_patterns(&self) -> Result<(), String> {
        let e = |e: Error| e.to_string();
        for (oi, owner) in OWNERS.iter().enumerate() {
            let mut repos: Vec<Repo> = self
                .repos
                .iter()
                .filter(|((o, _), _)| *o == oi)
                .map(|(_, r)| r.clone())
                .collect();
            repos.sort_by(|a, b| a.name.cmp(&b.name));
            same(
                "reposOf",
                &self.db.repos_of(owner).all().await.map_err(e)?,
                &repos,
            )?;
            repos.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
            same(
                "reposByCreation",
                &self.db.repos_by_creation(owner).all().await.map_err(e)?,
                &repos,
            )?;
            let by_update = self.db.repos_by_update(owner).all().await.map_err(e)?;
            if by_update
                .windows(2)
                .any(|w| w[0].updated_at > w[1].updated_at)
            {
                return Err(format!("reposByUpdate out of order: {by_update:?}"));
            }
            repos.sort_by(|a, b| (a.updated_at, &a.name).cmp(&(b.updated_at, &b.name)));
            let mut got = by_update.clone();
            got.sort_by(|a, b| (a.updated_at, &a.name).cmp(&(b.updated_at, &b.name)));
            same("reposByUpdate", &got, &repos)?;

            let mut tasks: Vec<Task> = self
                .tasks
                .iter()
                .filter(|((o, _), _)| *o == oi)
                .map(|(_, t)| t.clone())
                .collect();
            tasks.sort_by(|a, b| a.id.cmp(&b.id));
            same(
                "tasksOf",
                &self.db.tasks_of(owner).all().await.map_err(e)?,
                &tasks,
            )?;
            tasks.sort_by(|a, b| (a.due, &a.id).cmp(&(b.due, &b.id)));
            for status in STATUSES {
                let due: Vec<Task> = tasks
                    .iter()
                    .filter(|t| t.status == status && t.due.is_some())
                    .cloned()
                    .collect();
                same(
                    "tasksDue",
                    &self.db.tasks_due(owner, status).all().await.map_err(e)?,
                    &due,
                )?;
                let bound = date(1);
                let before: Vec<Task> = due
                    .iter()
                    .filter(|t| t.due < Some(bound))
                    .cloned()
                    .collect();
                same(
                    "tasksDueBefore",
                    &self
                        .db
                        .tasks_due_before(owner, status, bound)
                        .all()
                        .await
                        .map_err(e)?,
                    &before,
                )?;
            }
            let teams = self.linked(|t, m| (m == oi).then(|| TEAMS[t]));
            let got: Vec<(String, Timestamp)> = self
                .db
                .teams_of(owner)
                .all()
                .await
                .map_err(e)?
                .into_iter()
                .map(|m| (m.team, m.joined_at))
                .collect();
            same("teamsOf", &got, &teams)?;
        }
        for award in AWARDS {
            let mut want: Vec<Task> = self
                .tasks
                .values()
                .filter(|t| !award.is_empty() && t.award.as_deref() == Some(award))
                .cloned()
                .collect();
            let by_key = |t: &Task| (t.owner.clone(), t.id.clone());
            want.sort_by_key(by_key);
            // Two indexes keyed by the award: one by it alone, one with a sort key beside it.
            for (pattern, got) in [
                (
                    "tasksWithAward",
                    self.db.tasks_with_award(award).all().await,
                ),
                ("awardedTasks", self.db.awarded_tasks(award).all().await),
            ] {
                let mut got = got.map_err(e)?;
                got.sort_by_key(by_key);
                same(pattern, &got, &want)?;
            }
        }
        for status in STATUSES {
            let by_time = |t: &Task| (t.updated_at, t.owner.clone(), t.id.clone());
            let mut want: Vec<Task> = (self.tasks.values())
                .filter(|t| t.status == status)
                .cloned()
                .collect();
            want.sort_by_key(by_time);
            let mut got = self.db.tasks_by_status(status).all().await.map_err(e)?;
            // The index orders by the update time (ties in any order).
            if !got.windows(2).all(|w| w[0].updated_at <= w[1].updated_at) {
                return Err(format!(
                    "tasksByStatus({status:?}) is not in update-time order"
                ));
            }
            got.sort_by_key(by_time);
            same("tasksByStatus", &got, &want)?;
        }
        for (ti, team) in TEAMS.iter().enumerate() {
            let members = self.linked(|t, m| (t == ti).then(|| OWNERS[m]));
            let got: Vec<(String, Timestamp)> = self
                .db
                .members_of(team)
                .all()
                .await
                .map_err(e)?
                .into_iter()
                .map(|m| (m.member, m.joined_at))
                .collect();
            same("membersOf", &got, &members)?;
        }
        Ok(())
    }

    /// The model's links that `pick` keeps (by team and member index), as the name it
    /// returns and the join time, in key order.
    fn linked(
        &self,
        pick: impl Fn(usize, usize) -> Option<&'static str>,
    ) -> Vec<(String, Timestamp)> {
        self.links
            .iter()
            .filter_map(|((t, m), at)| pick(*t, *m).map(|name| (name.to_string(), *at)))
            .collect()
    }

    /// Writes a wrong value into one index key attribute, behind the repository's back
    /// (for testing the checker); false if no item has one.
    pub async fn corrupt_one_index_key(&self) -> bool {
        let Some(r) = self.repos.values().next() else {
            return false;
        };
        self.db
            .client()
            .update_item()
            .table_name(self.db.table_name())
            .key("pk", AttributeValue::S(format!("ACCOUNT#{}", r.owner)))
            .key("sk", AttributeValue::S(format!("REPO#{}", r.name)))
            .update_expression("SET gsi1sk = :v")
            .expression_attribute_values(":v", AttributeValue::S("#stale".into()))
            .send()
            .await
            .expect("raw update");
        true
    }
}

fn same<T: std::fmt::Debug + PartialEq>(
    pattern: &str,
    got: &[T],
    want: &[T],
) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{pattern} returned {got:?}\nthe model predicts {want:?}"
        ))
    }
}
