//! Satisfaction: interaction ratings (1–5) rolled up per customer (latest and average), per
//! agent, channel and month — CSAT (share of 4s and 5s), mean and count — and the customers
//! whose satisfaction fell.
//!
//! "Fell": the customer's latest rating is at least one point below the mean of their earlier
//! ratings (so one bad call after many good ones counts, a steady 3 does not).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::summary::utc_day;
use crate::domain::{Id, Interaction};

/// CSAT counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Stats {
    pub count: u64,
    /// Ratings of 4 or 5.
    pub satisfied: u64,
    pub sum: u64,
}

impl Stats {
    pub fn add(&mut self, score: u8) {
        self.count += 1;
        self.sum += u64::from(score);
        if score >= 4 {
            self.satisfied += 1;
        }
    }
    /// Share of ratings that are 4 or 5 (`None` without ratings).
    pub fn csat(&self) -> Option<f64> {
        (self.count > 0).then(|| self.satisfied as f64 / self.count as f64)
    }
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// A group's key and numbers, with CSAT and mean spelled out for JSON.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Row {
    pub key: String,
    pub count: u64,
    pub satisfied: u64,
    pub csat: Option<f64>,
    pub average: Option<f64>,
}

impl Row {
    pub fn new(key: String, s: &Stats) -> Row {
        Row {
            key,
            count: s.count,
            satisfied: s.satisfied,
            csat: s.csat(),
            average: s.average(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CustomerSatisfaction {
    pub contact: Id,
    pub count: u64,
    pub average: f64,
    pub latest: u8,
    pub latest_at: crate::domain::At,
    /// Mean of the ratings before the latest (`None` with one rating).
    pub earlier_average: Option<f64>,
    pub fell: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Satisfaction {
    pub overall: Row,
    pub by_agent: Vec<Row>,
    pub by_channel: Vec<Row>,
    /// The trend: one row per UTC month with ratings, in order.
    pub by_month: Vec<Row>,
    pub customers: Vec<CustomerSatisfaction>,
}

/// Rolls up the rated interactions (unrated ones are skipped).
pub fn satisfaction<'a>(interactions: impl IntoIterator<Item = &'a Interaction>) -> Satisfaction {
    let mut overall = Stats::default();
    let mut agents: HashMap<&str, Stats> = HashMap::new();
    let mut channels: BTreeMap<&'static str, Stats> = BTreeMap::new();
    let mut months: BTreeMap<i32, Stats> = BTreeMap::new();
    let mut per_customer: BTreeMap<Id, Vec<(crate::domain::At, Id, u8)>> = BTreeMap::new();
    for i in interactions {
        let Some(score) = i.satisfaction else {
            continue;
        };
        overall.add(score);
        agents.entry(i.agent.as_str()).or_default().add(score);
        channels.entry(i.channel.name()).or_default().add(score);
        let (y, m) = super::month_of_day(utc_day(i.at.millis()));
        months
            .entry(y * 12 + i32::from(m) - 1)
            .or_default()
            .add(score);
        per_customer
            .entry(i.contact)
            .or_default()
            .push((i.at, i.id, score));
    }
    let mut by_agent: Vec<Row> = agents
        .into_iter()
        .map(|(k, s)| Row::new(k.to_string(), &s))
        .collect();
    by_agent.sort_by(|a, b| a.key.cmp(&b.key));
    let customers = per_customer
        .into_iter()
        .filter_map(|(contact, mut ratings)| {
            ratings.sort();
            let &(latest_at, _, latest) = ratings.last()?;
            let count = ratings.len() as u64;
            let sum: u64 = ratings.iter().map(|r| u64::from(r.2)).sum();
            let earlier_average =
                (count > 1).then(|| (sum - u64::from(latest)) as f64 / (count - 1) as f64);
            Some(CustomerSatisfaction {
                contact,
                count,
                average: sum as f64 / count as f64,
                latest,
                latest_at,
                fell: earlier_average.is_some_and(|e| f64::from(latest) <= e - 1.0),
                earlier_average,
            })
        })
        .collect();
    Satisfaction {
        overall: Row::new("all".into(), &overall),
        by_agent,
        by_channel: channels
            .into_iter()
            .map(|(k, s)| Row::new(k.to_string(), &s))
            .collect(),
        by_month: months
            .into_iter()
            .map(|(k, s)| {
                Row::new(
                    format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1),
                    &s,
                )
            })
            .collect(),
        customers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{At, Channel, Direction};

    fn rated(id: Id, contact: Id, day: i64, agent: &str, score: Option<u8>) -> Interaction {
        Interaction {
            id,
            contact,
            at: At::from_millis(day * 86_400_000),
            channel: if day < 31 {
                Channel::Call
            } else {
                Channel::Email
            },
            direction: Direction::Inbound,
            summary: "s".into(),
            body: String::new(),
            outcome: None,
            satisfaction: score,
            agent: agent.into(),
            deal: None,
            campaign: String::new(),
        }
    }

    #[test]
    fn csat_by_agent_channel_month_and_who_fell() {
        let all = [
            rated(1, 1, 0, "sam", Some(5)),
            rated(2, 1, 10, "sam", Some(5)),
            rated(3, 1, 40, "kim", Some(3)), // 3 ≤ 5 − 1: fell
            rated(4, 2, 1, "kim", Some(3)),
            rated(5, 2, 41, "kim", Some(3)), // steady: did not fall
            rated(6, 3, 2, "sam", None),     // unrated: ignored
            rated(7, 4, 3, "sam", Some(4)),
        ];
        let s = satisfaction(&all);
        assert_eq!(s.overall.count, 6);
        assert_eq!(s.overall.satisfied, 3);
        assert_eq!(s.overall.csat, Some(0.5));
        let agents: Vec<(&str, u64, Option<f64>)> = s
            .by_agent
            .iter()
            .map(|r| (r.key.as_str(), r.count, r.csat))
            .collect();
        assert_eq!(agents, [("kim", 3, Some(0.0)), ("sam", 3, Some(1.0))]);
        let months: Vec<(&str, u64)> = s
            .by_month
            .iter()
            .map(|r| (r.key.as_str(), r.count))
            .collect();
        assert_eq!(months, [("1970-01", 4), ("1970-02", 2)]);
        assert_eq!(s.by_channel.len(), 2);
        let fell: Vec<Id> = s
            .customers
            .iter()
            .filter(|c| c.fell)
            .map(|c| c.contact)
            .collect();
        assert_eq!(fell, [1]);
        let first = &s.customers[0];
        assert_eq!((first.latest, first.count), (3, 3));
        assert!((first.average - 13.0 / 3.0).abs() < 1e-12);
        assert_eq!(first.earlier_average, Some(5.0));
        assert_eq!(s.customers.len(), 3);
    }
}
