//! Realistic, deterministic demo data: people from many languages, organisations, months of
//! interactions on every channel, follow-ups (some overdue), purchases with costs, deals and
//! consent. The same seed always gives the same database. Generated streaming, in batches, so a
//! million contacts never sit in memory at once.

use std::collections::BTreeMap;

use fastrand::Rng;

use crate::domain::{
    Actor, Address, At, Channel, Consent, ConsentStatus, Contact, CustomValue, Day, Deal,
    DealStage, DealStatus, Direction, Entry, FollowUp, Interaction, Labelled, Outcome, Purchase,
    Stage, Stamp, text,
};
use crate::store::{DEMO_TAG, Store, StoreError};

struct Culture {
    given: &'static [&'static str],
    family: &'static [&'static str],
    /// Family name first (Vietnamese, CJK).
    family_first: bool,
    /// No space between family and given names (CJK).
    joined: bool,
    cities: &'static [&'static str],
    country: &'static str,
    phone: fn(&mut Rng) -> String,
    language: &'static str,
    org_suffix: &'static [&'static str],
}

const CULTURES: &[Culture] = &[
    Culture {
        given: &[
            "John",
            "Mary",
            "James",
            "Patricia",
            "Robert",
            "Jennifer",
            "Michael",
            "Linda",
            "William",
            "Elizabeth",
            "David",
            "Susan",
            "Johnny",
            "Jonathan",
            "Joan",
            "Sarah",
            "Thomas",
            "Karen",
            "Daniel",
            "Emily",
        ],
        family: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark",
            "Lewis", "Walker", "Hall", "Young",
        ],
        family_first: false,
        joined: false,
        cities: &[
            "New York",
            "Chicago",
            "Boston",
            "Seattle",
            "Austin",
            "London",
            "Manchester",
            "Leeds",
        ],
        country: "US",
        phone: |r| {
            format!(
                "+1 ({}) {}-{:04}",
                r.u32(200..999),
                r.u32(200..999),
                r.u32(0..10_000)
            )
        },
        language: "en",
        org_suffix: &["Inc.", "LLC", "Ltd", "Group"],
    },
    Culture {
        given: &[
            "Giulia",
            "Marco",
            "Francesca",
            "Luca",
            "Chiara",
            "Alessandro",
            "Sofia",
            "Matteo",
            "Giorgia",
            "Lorenzo",
            "Martina",
            "Andrea",
        ],
        family: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "De Luca", "Conti",
        ],
        family_first: false,
        joined: false,
        cities: &["Milano", "Roma", "Torino", "Bologna", "Napoli", "Firenze"],
        country: "IT",
        phone: |r| {
            format!(
                "+39 3{:02} {:03} {:04}",
                r.u32(20..99),
                r.u32(0..1000),
                r.u32(0..10_000)
            )
        },
        language: "it",
        org_suffix: &["S.r.l.", "S.p.A."],
    },
    Culture {
        given: &[
            "Jürgen",
            "Anna",
            "Lukas",
            "Lena",
            "Maximilian",
            "Sophie",
            "Jonas",
            "Marie",
            "Felix",
            "Hannah",
            "Björn",
            "Käthe",
        ],
        family: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Koch",
            "Groß",
            "Weiß",
        ],
        family_first: false,
        joined: false,
        cities: &[
            "Berlin",
            "München",
            "Köln",
            "Hamburg",
            "Düsseldorf",
            "Zürich",
            "Wien",
        ],
        country: "DE",
        phone: |r| format!("+49 1{:02} {:07}", r.u32(50..79), r.u32(0..10_000_000)),
        language: "de",
        org_suffix: &["GmbH", "AG", "KG"],
    },
    Culture {
        given: &[
            "José", "María", "Lucía", "Javier", "Carmen", "Sergio", "Marta", "Álvaro", "Inés",
            "Raúl", "Nuria", "Íñigo",
        ],
        family: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Muñoz",
            "Jiménez",
            "Peña",
        ],
        family_first: false,
        joined: false,
        cities: &[
            "Madrid",
            "Barcelona",
            "Sevilla",
            "Valencia",
            "Bilbao",
            "Málaga",
        ],
        country: "ES",
        phone: |r| {
            format!(
                "+34 6{:02} {:03} {:03}",
                r.u32(0..100),
                r.u32(0..1000),
                r.u32(0..1000)
            )
        },
        language: "es",
        org_suffix: &["S.L.", "S.A."],
    },
    Culture {
        given: &[
            "Ivana",
            "Marko",
            "Ana",
            "Luka",
            "Petra",
            "Ivan",
            "Maja",
            "Tomislav",
            "Željka",
            "Đuro",
            "Mateja",
            "Krešimir",
        ],
        family: &[
            "Horvat",
            "Kovačević",
            "Babić",
            "Marić",
            "Jurić",
            "Novak",
            "Knežević",
            "Vuković",
            "Perić",
            "Đurić",
            "Šarić",
            "Božić",
        ],
        family_first: false,
        joined: false,
        cities: &["Zagreb", "Split", "Rijeka", "Osijek", "Zadar"],
        country: "HR",
        phone: |r| {
            format!(
                "+385 9{} {:03} {:04}",
                r.u32(1..9),
                r.u32(0..1000),
                r.u32(0..10_000)
            )
        },
        language: "hr",
        org_suffix: &["d.o.o.", "d.d."],
    },
    Culture {
        given: &[
            "Văn Ánh",
            "Thị Hương",
            "Đức",
            "Minh Tuấn",
            "Thu Trang",
            "Quốc Bảo",
            "Ngọc Lan",
            "Hoàng Long",
            "Thị Mai",
            "Văn Hùng",
        ],
        family: &[
            "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ",
        ],
        family_first: true,
        joined: false,
        cities: &["Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Huế", "Cần Thơ"],
        country: "VN",
        phone: |r| {
            format!(
                "+84 9{} {:03} {:04}",
                r.u32(0..10),
                r.u32(0..1000),
                r.u32(0..10_000)
            )
        },
        language: "vi",
        org_suffix: &["JSC", "Co., Ltd"],
    },
    Culture {
        given: &["太郎", "花子", "健", "美咲", "翔", "陽菜", "大輔", "さくら"],
        family: &[
            "山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村",
        ],
        family_first: true,
        joined: true,
        cities: &["東京", "大阪", "京都", "横浜", "名古屋"],
        country: "JP",
        phone: |r| format!("+81 90-{:04}-{:04}", r.u32(0..10_000), r.u32(0..10_000)),
        language: "ja",
        org_suffix: &["株式会社"],
    },
    Culture {
        given: &["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳"],
        family: &["王", "李", "张", "刘", "陈", "杨", "黄", "赵"],
        family_first: true,
        joined: true,
        cities: &["北京", "上海", "广州", "深圳", "成都"],
        country: "CN",
        phone: |r| {
            format!(
                "+86 13{} {:04} {:04}",
                r.u32(0..10),
                r.u32(0..10_000),
                r.u32(0..10_000)
            )
        },
        language: "zh",
        org_suffix: &["有限公司"],
    },
];

const ORG_WORDS: &[&str] = &[
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Gringotts",
    "Monarch",
    "Oscorp",
    "Pied Piper",
    "Dunder",
    "Blue Sun",
    "Massive Dynamic",
];
const ORG_TRADES: &[&str] = &[
    "Logistics",
    "Trading",
    "Foods",
    "Systems",
    "Textiles",
    "Pharma",
    "Energy",
    "Media",
    "Travel",
    "Robotics",
];
const TAGS: &[&str] = &[
    "vip",
    "newsletter",
    "churn-risk",
    "partner",
    "wholesale",
    "beta",
    "event-2026",
    "referral",
    "priority",
    "reseller",
];
use crate::domain::TIERS;
const SOURCES: &[&str] = &[
    "web",
    "referral",
    "trade show",
    "cold call",
    "import",
    "partner",
];
const PRODUCTS: &[(&str, i64)] = &[
    ("Starter plan", 2_900),
    ("Team plan", 9_900),
    ("Enterprise plan", 49_900),
    ("Onboarding", 120_000),
    ("Support pack", 15_000),
    ("Hardware kit", 34_900),
    ("Training day", 80_000),
    ("Add-on seats", 1_500),
];
/// The share of each product's price that is margin (same order as [`PRODUCTS`]): software
/// plans earn most, services less, the hardware kit is sold near cost (sometimes below).
const MARGINS: &[f64] = &[0.85, 0.8, 0.75, 0.35, 0.6, 0.04, 0.45, 0.9];

const SUMMARIES: &[(Channel, &[&str])] = &[
    (
        Channel::Call,
        &[
            "Asked about invoice",
            "Reported login problem",
            "Renewal questions",
            "Wants a discount for more seats",
            "Called back about delivery",
            "Complained about slow support",
        ],
    ),
    (
        Channel::Email,
        &[
            "Sent the quote",
            "Requested product sheet",
            "Confirmed the meeting",
            "Shared feedback on the beta",
            "Asked to update billing address",
        ],
    ),
    (
        Channel::Meeting,
        &[
            "Quarterly review",
            "Demo of the new dashboard",
            "Contract negotiation",
            "Kick-off meeting",
        ],
    ),
    (
        Channel::Chat,
        &[
            "Password reset help",
            "Question about API limits",
            "Export not working",
            "How to add a colleague",
        ],
    ),
    (
        Channel::Sms,
        &[
            "Delivery confirmation",
            "Reminder about appointment",
            "Payment received",
        ],
    ),
    (
        Channel::Visit,
        &[
            "On-site installation",
            "Visited the showroom",
            "Training at their office",
        ],
    ),
    (
        Channel::Social,
        &[
            "Mentioned us on LinkedIn",
            "Replied to our post",
            "DM about the event",
        ],
    ),
    (
        Channel::Post,
        &["Sent the signed contract", "Mailed a thank-you card"],
    ),
    (
        Channel::Note,
        &[
            "Prefers morning calls",
            "Decision maker is the CFO",
            "Budget approved for Q1",
        ],
    ),
];

const DAY_MS: i64 = 86_400_000;

/// Generates contacts with their history; `now` anchors all dates so output is reproducible.
pub struct Generator {
    rng: Rng,
    /// Draws for purchase histories and satisfaction drift, apart from `rng` so the same seed
    /// still gives the same people, interactions and deals as before they existed.
    btyd: Rng,
    now: At,
    today: Day,
    agents: Vec<String>,
    organizations: Vec<String>,
}

/// One generated contact and what hangs off it; `org` is the organisation's name.
pub struct Generated {
    pub contact: Contact,
    pub org: String,
    pub entries: Vec<Entry>,
    pub deals: Vec<Deal>,
}

impl Generator {
    pub fn new(seed: u64, now: At, total: u64) -> Self {
        let mut rng = Rng::with_seed(seed);
        let org_count = (total / 20).clamp(5, 50_000);
        let organizations = (0..org_count)
            .map(|i| {
                let culture = &CULTURES[rng.usize(..CULTURES.len())];
                let word = ORG_WORDS[rng.usize(..ORG_WORDS.len())];
                let trade = ORG_TRADES[rng.usize(..ORG_TRADES.len())];
                let suffix = culture.org_suffix[rng.usize(..culture.org_suffix.len())];
                if i < ORG_WORDS.len() as u64 {
                    format!("{word} {trade} {suffix}")
                } else {
                    format!("{word} {trade} {} {suffix}", i / ORG_WORDS.len() as u64)
                }
            })
            .collect();
        Generator {
            rng,
            btyd: Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xB7D),
            now,
            today: now.local_day(),
            agents: ["sam", "ana", "li", "marco", "ivana"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            organizations,
        }
    }

    fn agent(&mut self) -> String {
        self.agents[self.rng.usize(..self.agents.len())].clone()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }

    pub fn person(&mut self) -> Generated {
        let culture = self.pick(CULTURES);
        let given = *self.pick(culture.given);
        let family = *self.pick(culture.family);
        let name = match (culture.family_first, culture.joined) {
            (true, true) => format!("{family}{given}"),
            (true, false) => format!("{family} {given}"),
            _ => format!("{given} {family}"),
        };
        let org = if self.rng.u8(..10) < 8 {
            self.organizations[self.rng.usize(..self.organizations.len())].clone()
        } else {
            String::new()
        };
        let ascii = |s: &str| -> String {
            text::sort_key(s)
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect()
        };
        let mut local = format!("{}.{}", ascii(given), ascii(family));
        if local.len() < 3 {
            local = format!("user{}", self.rng.u32(1000..99_999));
        }
        local.push_str(&self.rng.u32(1..999).to_string());
        let domain = if org.is_empty() {
            self.pick(&[
                "gmail.com",
                "outlook.com",
                "proton.me",
                "yahoo.com",
                "web.de",
                "libero.it",
            ])
            .to_string()
        } else {
            format!("{}.example", ascii(org.split(' ').next().unwrap_or("corp")))
        };
        let mut emails = vec![Labelled::new("work", &format!("{local}@{domain}"))];
        if self.rng.u8(..4) == 0 {
            emails.push(Labelled::new("home", &format!("{local}@gmail.com")));
        }
        let mut phones = vec![Labelled::new("mobile", &(culture.phone)(&mut self.rng))];
        if self.rng.u8(..3) == 0 {
            phones.push(Labelled::new("work", &(culture.phone)(&mut self.rng)));
        }
        let city = *self.pick(culture.cities);
        let addresses = vec![Address {
            label: "work".into(),
            street: format!(
                "{} {}",
                self.rng.u32(1..300),
                self.pick(&[
                    "Main St",
                    "Via Roma",
                    "Hauptstraße",
                    "Calle Mayor",
                    "Ilica",
                    "Lê Lợi",
                    "銀座"
                ])
            ),
            city: city.into(),
            region: String::new(),
            postcode: format!("{:05}", self.rng.u32(1000..99_999)),
            country: culture.country.into(),
        }];
        let created_ms = self.now.millis() - i64::from(self.rng.u32(30..900)) * DAY_MS;
        let created = Stamp {
            at: At::from_millis(created_ms),
            by: self.agent(),
        };
        let mut tags: Vec<String> = (0..self.rng.usize(0..3))
            .map(|_| self.pick(TAGS).to_string())
            .collect();
        tags.sort();
        tags.dedup();
        let stage = *self.pick(&[
            Stage::Lead,
            Stage::Prospect,
            Stage::Customer,
            Stage::Customer,
            Stage::Customer,
            Stage::Former,
        ]);
        let mut consent = Vec::new();
        for channel in [Channel::Email, Channel::Call, Channel::Sms, Channel::Post] {
            if self.rng.bool() {
                consent.push(Consent {
                    channel,
                    status: *self.pick(&[
                        ConsentStatus::Granted,
                        ConsentStatus::Granted,
                        ConsentStatus::Denied,
                        ConsentStatus::Unknown,
                    ]),
                    at: created.at,
                    source: self
                        .pick(&["web form", "phone", "contract", "event"])
                        .to_string(),
                    purpose: self
                        .pick(&["newsletter", "service updates", "offers"])
                        .to_string(),
                });
            }
        }
        let mut custom = BTreeMap::new();
        if self.rng.u8(..3) == 0 {
            custom.insert(
                "income band".into(),
                CustomValue::Text(self.pick(&["low", "middle", "high"]).to_string()),
            );
        }
        if self.rng.u8(..4) == 0 {
            custom.insert(
                "employees".into(),
                CustomValue::Number(f64::from(self.rng.u32(1..5000))),
            );
        }
        let owner = self.agent();
        let contact = Contact {
            id: 0,
            name,
            given_name: given.into(),
            family_name: family.into(),
            organization: None,
            title: if org.is_empty() {
                String::new()
            } else {
                self.pick(&[
                    "CEO",
                    "CTO",
                    "Buyer",
                    "Office manager",
                    "Head of IT",
                    "Accountant",
                    "",
                ])
                .to_string()
            },
            emails,
            phones,
            addresses,
            birthday: (self.rng.u8(..3) == 0).then(|| crate::domain::Birthday {
                year: Some(self.rng.i16(1950..2004)),
                month: self.rng.u8(1..13),
                day: self.rng.u8(1..29),
            }),
            language: culture.language.into(),
            preferred_channel: Some(*self.pick(&[
                Channel::Email,
                Channel::Call,
                Channel::Chat,
                Channel::Sms,
            ])),
            stage,
            tier: self.pick(TIERS).to_string(),
            owner,
            source: self.pick(SOURCES).to_string(),
            tags,
            custom,
            consent,
            notes: if self.rng.u8(..5) == 0 {
                "Met at the trade fair.\nInterested in the enterprise plan.".into()
            } else {
                String::new()
            },
            uid: String::new(),
            created: created.clone(),
            updated: created,
            version: 1,
        };
        let entries = self.history(created_ms, stage);
        let deals = if stage != Stage::Former && self.rng.u8(..4) == 0 {
            vec![Deal {
                id: 0,
                contact: None,
                organization: None,
                title: format!(
                    "{} for {}",
                    self.pick(PRODUCTS).0,
                    if org.is_empty() { "them" } else { &org }
                ),
                stage: *self.pick(DealStage::ALL),
                value: i64::from(self.rng.u32(1_000..500_000)) * 100,
                currency: "EUR".into(),
                expected_close: Some(self.today.add_days(self.rng.i32(-10..120))),
                status: *self.pick(&[
                    DealStatus::Open,
                    DealStatus::Open,
                    DealStatus::Won,
                    DealStatus::Lost,
                ]),
                owner: contact.owner.clone(),
                version: 1,
            }]
        } else {
            Vec::new()
        };
        Generated {
            contact,
            org,
            entries,
            deals,
        }
    }

    fn history(&mut self, created_ms: i64, stage: Stage) -> Vec<Entry> {
        let mut entries = Vec::new();
        let span = (self.now.millis() - created_ms).max(DAY_MS);
        // Satisfaction drifts: a baseline mood and a trend per year, plus noise per rating.
        let mood = 2.8 + 2.0 * self.btyd.f64();
        let trend = -1.2 + 1.6 * self.btyd.f64();
        let interactions = self.rng.usize(0..9);
        for _ in 0..interactions {
            let (channel, summaries) = *self.pick(SUMMARIES);
            let at_ms = created_ms + self.rng.i64(0..span);
            let at = At::from_millis(at_ms - at_ms % 1000);
            entries.push(Entry::Interaction(Interaction {
                id: 0,
                contact: 0,
                at,
                channel,
                direction: if self.rng.bool() {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                summary: self.pick(summaries).to_string(),
                body: if self.rng.u8(..6) == 0 {
                    "Customer explained the issue in detail.\nAgreed next steps.".into()
                } else {
                    String::new()
                },
                outcome: Some(*self.pick(&[
                    Outcome::Resolved,
                    Outcome::Resolved,
                    Outcome::Open,
                    Outcome::Escalated,
                    Outcome::NoAnswer,
                ])),
                satisfaction: (self.rng.u8(..3) > 0).then(|| {
                    // Drawn as before (keeps the stream), replaced by the drifting rating.
                    let _ = self.rng.u8(1..6);
                    let years = (at_ms - created_ms) as f64 / (365.25 * DAY_MS as f64);
                    let rating = mood + trend * years + 0.6 * normal(&mut self.btyd);
                    rating.round().clamp(1.0, 5.0) as u8
                }),
                agent: self.agent(),
                deal: None,
                campaign: String::new(),
            }));
        }
        if self.rng.u8(..3) == 0 {
            let created =
                At::from_millis(self.now.millis() - i64::from(self.rng.u32(1..40)) * DAY_MS);
            let due = self.today.add_days(self.rng.i32(-7..21));
            let done = due < self.today && self.rng.bool();
            entries.push(Entry::FollowUp(FollowUp {
                id: 0,
                contact: 0,
                created,
                due,
                what: self
                    .pick(&[
                        "Call back about the quote",
                        "Send the contract",
                        "Check satisfaction after delivery",
                        "Offer renewal discount",
                        "Book a demo",
                    ])
                    .to_string(),
                done_at: done.then_some(created),
                assignee: self.agent(),
            }));
        }
        if stage == Stage::Customer || stage == Stage::Former {
            // The draws the earlier uniform purchases took from `rng`, still taken so every
            // later contact of a seed stays the same.
            for _ in 0..self.rng.usize(1..5) {
                let _ = (
                    self.pick(PRODUCTS),
                    self.rng.u32(1..4),
                    self.rng.i64(0..span),
                );
                let _ = (
                    self.rng.u32(30..80),
                    self.rng.usize(..4),
                    self.rng.usize(..5),
                );
            }
            entries.extend(self.purchases(created_ms, stage));
        }
        entries
    }

    /// A buy-till-you-die history (the BG/NBD story): while alive the customer buys at a
    /// Poisson rate λ ~ Gamma(0.9, 1/25 per day) — one purchase every four weeks on average —
    /// and after each purchase lapses for good with probability p ~ Beta(0.8, 3.5) (former
    /// customers Beta(3, 2)). Heavier buyers lean to the pricier products; each customer mostly
    /// buys through one channel and location.
    fn purchases(&mut self, created_ms: i64, stage: Stage) -> Vec<Entry> {
        let rng = &mut self.btyd;
        let now = self.now.millis();
        let rate = gamma(rng, 0.9) / 25.0;
        let lapse = if stage == Stage::Former {
            beta(rng, 3.0, 2.0)
        } else {
            beta(rng, 0.8, 3.5)
        };
        let pricey = rate / (rate + 0.04);
        let channel = ["web", "store", "phone", "partner"][rng.usize(..4)];
        let location = ["online", "Milano", "Berlin", "Zagreb", "Madrid"][rng.usize(..5)];
        // The first purchase comes soon after the contact was created (never after now).
        let mut at = (created_ms + (exponential(rng, 1.0 / 14.0) * DAY_MS as f64) as i64)
            .min(now - DAY_MS / 2);
        let mut out = Vec::new();
        loop {
            let mut by_price: Vec<usize> = (0..PRODUCTS.len()).collect();
            by_price.sort_by_key(|i| PRODUCTS[*i].1);
            let half = by_price.len() / 2;
            let index = if rng.f64() < pricey {
                by_price[half + rng.usize(..by_price.len() - half)]
            } else {
                by_price[rng.usize(..half)]
            };
            let (product, price) = PRODUCTS[index];
            let quantity = rng.u32(1..4);
            let amount = price * i64::from(quantity);
            let margin = MARGINS[index] + 0.1 * (rng.f64() - 0.5);
            out.push(Entry::Purchase(Purchase {
                id: 0,
                contact: 0,
                at: At::from_millis(at - at.rem_euclid(1000)),
                product: product.into(),
                quantity,
                amount,
                cost: (amount as f64 * (1.0 - margin)).round() as i64,
                currency: "EUR".into(),
                channel: if rng.u8(..5) == 0 {
                    ["web", "store", "phone", "partner"][rng.usize(..4)]
                } else {
                    channel
                }
                .to_string(),
                location: location.to_string(),
            }));
            if out.len() >= 80 || rng.f64() < lapse {
                break;
            }
            at += (exponential(rng, rate.max(1e-4)) * DAY_MS as f64) as i64;
            if at >= now {
                break;
            }
        }
        out
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u = rng.f64().max(f64::MIN_POSITIVE);
    let v = rng.f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// An exponential draw with `rate`.
fn exponential(rng: &mut Rng, rate: f64) -> f64 {
    -(1.0 - rng.f64()).ln() / rate
}

/// A Gamma(shape, 1) draw (Marsaglia & Tsang; shapes below 1 boosted by `U^(1/shape)`).
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A Beta(a, b) draw.
fn beta(rng: &mut Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

/// Fills `store` with `count` generated contacts in batches; returns how many were written.
/// `progress` is called every hundred contacts and after each batch with the running total.
pub fn load(
    store: &Store,
    actor: &Actor,
    count: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, StoreError> {
    const BATCH: u64 = 5_000;
    let mut generator = Generator::new(seed, At::now(), count);
    let mut written = 0;
    while written < count {
        let n = BATCH.min(count - written);
        store.bulk(actor, &format!("demo data (seed {seed})"), |bulk| {
            for i in 0..n {
                if i % 100 == 0 {
                    progress(written + i);
                }
                let mut g = generator.person();
                // Tagged so demo data can be found (and removed) among real contacts.
                if !g.contact.tags.iter().any(|t| t == DEMO_TAG) {
                    g.contact.tags.push(DEMO_TAG.to_string());
                    g.contact.tags.sort();
                }
                let id = bulk.add_contact(g.contact, &g.org)?;
                for mut entry in g.entries {
                    entry.set_contact(id);
                    bulk.add_entry(entry)?;
                }
                for mut deal in g.deals {
                    deal.contact = Some(id);
                    bulk.add_deal(deal)?;
                }
            }
            Ok(())
        })?;
        written += n;
        progress(written);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let now = At::from_millis(1_764_000_000_000);
        let mut a = Generator::new(7, now, 100);
        let mut b = Generator::new(7, now, 100);
        for _ in 0..50 {
            let (x, y) = (a.person(), b.person());
            assert_eq!(x.contact, y.contact);
            assert_eq!(x.entries, y.entries);
        }
        let mut c = Generator::new(8, now, 100);
        assert_ne!(
            Generator::new(7, now, 100).person().contact.name + "x",
            c.person().contact.name
        );
    }

    #[test]
    fn generated_contacts_pass_validation_and_span_languages() {
        let mut g = Generator::new(1, At::from_millis(1_764_000_000_000), 1000);
        let mut languages = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let mut x = g.person();
            let before = x.contact.clone();
            x.contact.clean();
            assert_eq!(
                before.name, x.contact.name,
                "generated text is already clean"
            );
            x.contact.validate().unwrap();
            languages.insert(x.contact.language.clone());
            for e in &mut x.entries {
                e.clean().unwrap();
            }
        }
        assert!(languages.len() >= 7, "{languages:?}");
    }

    #[test]
    fn purchases_follow_a_buy_till_you_die_process_and_satisfaction_drifts() {
        let now = At::from_millis(1_764_000_000_000);
        let mut g = Generator::new(5, now, 3000);
        let mut summaries = Vec::new();
        let mut first_half = (0, 0);
        let mut second_half = (0, 0);
        let mut margins: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for id in 0..3000 {
            let person = g.person();
            let created = person.contact.created.at.millis();
            let purchases: Vec<&Purchase> = person
                .entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Purchase(p) => Some(p),
                    _ => None,
                })
                .collect();
            for p in &purchases {
                assert!(
                    p.at <= now && p.at.millis() >= created,
                    "within the contact's life"
                );
                let slot = margins
                    .entry(PRODUCTS.iter().find(|x| x.0 == p.product).unwrap().0)
                    .or_default();
                slot.0 += p.amount;
                slot.1 += p.margin();
            }
            for e in &person.entries {
                if let Entry::Interaction(i) = e
                    && let Some(s) = i.satisfaction
                {
                    assert!((1..=5).contains(&s));
                    let half = if i.at.millis() - created < (now.millis() - created) / 2 {
                        &mut first_half
                    } else {
                        &mut second_half
                    };
                    half.0 += u64::from(s);
                    half.1 += 1;
                }
            }
            if !purchases.is_empty() {
                summaries.push(crate::analytics::summary::PurchaseSummary::of(
                    id, &purchases,
                ));
            }
        }
        // Some buy often, many lapse: a realistic spread of repeat purchase days.
        let repeats: Vec<u32> = summaries.iter().map(|s| s.repeats()).collect();
        let once = repeats.iter().filter(|x| **x == 0).count();
        let many = repeats.iter().filter(|x| **x >= 5).count();
        assert!(
            once * 10 > summaries.len() && once * 10 < summaries.len() * 7,
            "{once}"
        );
        assert!(many * 20 > summaries.len(), "{many}");
        // Lapsed customers: last purchase long before now for a good share.
        let lapsed = summaries
            .iter()
            .filter(|s| now.millis() - s.last_ms > 180 * DAY_MS)
            .count();
        assert!(
            lapsed * 5 > summaries.len(),
            "{lapsed} of {}",
            summaries.len()
        );
        // Margins differ by product: plans earn, the hardware kit barely.
        let rate = |p: &str| margins[p].1 as f64 / margins[p].0 as f64;
        assert!(rate("Team plan") > 0.7 && rate("Hardware kit") < 0.15);
        // The BG/NBD fit on the generated base converges.
        let histories = summaries.iter().map(|s| crate::analytics::clv::History {
            x: s.repeats(),
            tx: f64::from(s.last_day - s.first_day),
            t: f64::from(crate::analytics::summary::utc_day(now.millis()) - s.first_day),
        });
        let fit =
            crate::analytics::clv::BgNbd::fit(&crate::analytics::clv::Grouped::new(histories))
                .unwrap();
        assert!(fit.converged, "{fit:?}");
        // Satisfaction drifts (on average down: trend −1.2..+0.4 a year).
        let mean = |h: (u64, u64)| h.0 as f64 / h.1 as f64;
        assert!(
            mean(second_half) < mean(first_half),
            "{first_half:?} {second_half:?}"
        );
    }

    #[test]
    fn loading_writes_contacts_with_history() {
        let store = Store::in_memory().unwrap();
        let n = load(&store, &Actor::new("demo"), 120, 3, |_| {}).unwrap();
        assert_eq!(n, 120);
        assert_eq!(store.contact_count().unwrap(), 120);
        let mut with_history = 0;
        for id in 1..=120 {
            if !store.timeline(id, 100).unwrap().is_empty() {
                with_history += 1;
            }
        }
        assert!(with_history > 80, "{with_history}");
    }
}
