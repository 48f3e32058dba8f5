//! The membership relationship in the invariant test: teams and accounts (its ends) put
//! and deleted, links made only while both ends exist (`check_ends`), and `unlink`'s answer
//! checked against whether the model holds the link.

use dyngen_app_tests::write_model::*;

use super::ops::*;
use super::{Outcome, World, expect, outcome, seconds};

impl World {
    pub(super) async fn link(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::Link {
                team,
                member,
                seconds: s,
            } => {
                let exists = self.links.contains_key(&(*team, *member));
                let ends = self.teams.contains(team) && self.accounts.contains(member);
                let want = if exists || !ends {
                    Outcome::Canceled
                } else {
                    Outcome::Ok
                };
                let r = self
                    .db
                    .link_membership(TEAMS[*team].into(), OWNERS[*member].into(), seconds(*s))
                    .await;
                expect(op, want, outcome(&r)?)?;
                if r.is_ok() {
                    self.links.insert((*team, *member), seconds(*s));
                }
                Ok(())
            }
            Op::Unlink { team, member } => {
                let r = self
                    .db
                    .unlink_membership(TEAMS[*team].into(), OWNERS[*member].into())
                    .await;
                expect(op, Outcome::Ok, outcome(&r)?)?;
                let existed = self.links.remove(&(*team, *member)).is_some();
                if let Ok(said) = r
                    && said != existed
                {
                    return Err(format!(
                        "{op:?}: unlink said {said}, the link existed: {existed}"
                    ));
                }
                Ok(())
            }
            Op::End { team, i, exists } => self.end(*team, *i, *exists).await,
            _ => unreachable!(),
        }
    }

    /// Puts or deletes one end of the membership relationship (no conditions: both always
    /// apply).
    async fn end(&mut self, team: bool, i: usize, exists: bool) -> Result<(), String> {
        let r = match (team, exists) {
            (true, true) => (self.db.team().put(&Team {
                name: TEAMS[i].into(),
            }))
            .await
            .map(drop),
            (true, false) => self
                .db
                .team()
                .delete(&TeamKey {
                    name: TEAMS[i].into(),
                })
                .await
                .map(drop),
            (false, true) => (self.db.account().put(&Account {
                owner: OWNERS[i].into(),
            }))
            .await
            .map(drop),
            (false, false) => self
                .db
                .account()
                .delete(&AccountKey {
                    owner: OWNERS[i].into(),
                })
                .await
                .map(drop),
        };
        r.map_err(|e| format!("end {team} {i} {exists}: {e}"))?;
        let set = if team {
            &mut self.teams
        } else {
            &mut self.accounts
        };
        if exists {
            set.insert(i);
        } else {
            set.remove(&i);
        }
        Ok(())
    }
}
