//! Deterministic fake contacts for tests and benchmarks (to be replaced by the demo generator).
//!
//! Multilingual names (English, Italian, German, Spanish, Croatian, Vietnamese with diacritics,
//! some stored NFD, CJK), organisations, emails derived from names, US-style phones, cities,
//! tags, stages and owners.

use unicode_normalization::UnicodeNormalization;

use super::SearchDoc;

const FIRST: &[&[&str]] = &[
    &[
        "John", "Mary", "James", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
        "Sarah", "Joseph", "Jessica", "Thomas", "Karen", "Joan", "Joshua",
    ],
    &[
        "Giuseppe",
        "Giovanni",
        "Francesca",
        "Chiara",
        "Luca",
        "Niccolò",
        "Lucía",
        "Matteo",
        "Giulia",
        "Alessandro",
    ],
    &[
        "Jürgen",
        "Günther",
        "Käthe",
        "Jörg",
        "Björn",
        "Uwe",
        "Sabine",
        "Jonas",
        "Lena",
        "Maximilian",
    ],
    &[
        "José", "María", "Jesús", "Sofía", "Álvaro", "Iñigo", "Begoña", "Joaquín", "Lucía",
        "Andrés",
    ],
    &[
        "Đorđe",
        "Željko",
        "Ivana",
        "Luka",
        "Mateja",
        "Jelena",
        "Krešimir",
        "Tomislav",
        "Snježana",
        "Josip",
    ],
    &[
        "Văn Ánh",
        "Thị Hương",
        "Đức Minh",
        "Thu Trang",
        "Quốc Bảo",
        "Ngọc Lan",
        "Hữu Phước",
        "Thanh Tâm",
    ],
    &["太郎", "花子", "伟", "秀英", "明", "美咲", "翔太", "丽"],
];
const LAST: &[&[&str]] = &[
    &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Moore", "Jackson", "Harris", "Clark",
    ],
    &[
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
        "Bruno",
    ],
    &[
        "Müller",
        "Schröder",
        "Groß",
        "Weiß",
        "Köhler",
        "Schäfer",
        "Jäger",
        "Krüger",
        "Hoffmann",
        "Böhm",
    ],
    &[
        "García",
        "Martínez",
        "López",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Fernández",
        "Jiménez",
        "Muñoz",
        "Núñez",
    ],
    &[
        "Horvat",
        "Kovačević",
        "Babić",
        "Marić",
        "Jurić",
        "Novak",
        "Knežević",
        "Vuković",
        "Đurić",
        "Šimić",
    ],
    &[
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    ],
    &["山田", "佐藤", "王", "李", "张", "鈴木", "高橋", "陈"],
];
const ORG_HEAD: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Tyrell",
    "Soylent",
    "Nordwind",
    "Città Verde",
    "Sør Øst",
    "Société Générale",
    "Phú Mỹ",
    "東京商事",
    "Zeta",
    "Blue Harbor",
    "Köln Logistik",
    "Jadran",
];
const ORG_TAIL: &[&str] = &[
    "Corp", "Inc", "GmbH", "S.p.A.", "Ltd", "Group", "Labs", "S.A.", "d.o.o.", "Co",
];
const CITIES: &[&str] = &[
    "New York",
    "London",
    "Lyon",
    "Paris",
    "Milano",
    "Roma",
    "München",
    "Köln",
    "Madrid",
    "Sevilla",
    "Zagreb",
    "Split",
    "Hà Nội",
    "Thành phố Hồ Chí Minh",
    "東京",
    "上海",
    "San Francisco",
    "Zürich",
    "Göteborg",
    "Kraków",
];
const TAGS: &[&str] = &[
    "vip",
    "churned",
    "newsletter",
    "partner",
    "investor",
    "press",
    "supplier",
    "prospect",
    "friend",
    "conference",
    "board",
    "reseller",
];
const STAGES: &[&str] = &["lead", "qualified", "proposal", "customer", "churned"];
const OWNERS: &[&str] = &["sam", "alex", "maria", "jonas", "linh"];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "example.com",
    "mail.de",
    "libero.it",
    "outlook.com",
];

/// `count` contacts with ids `0..count`, the same for the same `seed`.
pub fn contacts(count: usize, seed: u64) -> impl Iterator<Item = SearchDoc> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count as u64).map(move |id| contact(&mut rng, id))
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

fn ascii_local(text: &str) -> String {
    super::fold(text)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn contact(rng: &mut fastrand::Rng, id: u64) -> SearchDoc {
    let culture = rng.usize(..FIRST.len());
    let first = pick(rng, FIRST[culture]);
    let last = pick(rng, LAST[culture]);
    let mut name = match culture {
        5 => format!("{last} {first}"),
        6 => format!("{last}{first}"),
        _ => format!("{first} {last}"),
    };
    if rng.u8(..10) == 0 {
        name = name.nfd().collect();
    }
    let organization = if rng.u8(..5) == 0 {
        String::new()
    } else {
        format!("{} {}", pick(rng, ORG_HEAD), pick(rng, ORG_TAIL))
    };
    let (f, l) = (ascii_local(first), ascii_local(last));
    let local = if f.is_empty() || l.is_empty() {
        format!("user{id}")
    } else {
        format!("{f}.{l}")
    };
    let mut emails = vec![format!("{local}@{}", pick(rng, DOMAINS))];
    if rng.u8(..4) == 0 {
        let org_domain = ascii_local(&organization);
        if !org_domain.is_empty() {
            emails.push(format!(
                "{}@{org_domain}.com",
                f.chars().next().unwrap_or('x')
            ));
        }
    }
    let mut phones = vec![format!(
        "+1 ({}) {:03}-{:04}",
        rng.u16(200..1000),
        rng.u16(..1000),
        rng.u16(..10000)
    )];
    if rng.u8(..5) == 0 {
        phones.push(format!(
            "+39 0{} {:07}",
            rng.u8(1..10),
            rng.u32(..10_000_000)
        ));
    }
    let tags = (0..rng.usize(..3))
        .map(|_| pick(rng, TAGS).to_owned())
        .collect();
    let today = 20_000;
    SearchDoc {
        id,
        name,
        organization,
        emails,
        phones,
        city: pick(rng, CITIES).to_owned(),
        tags,
        stage: pick(rng, STAGES).to_owned(),
        owner: pick(rng, OWNERS).to_owned(),
        last_contact_ms: rng.i64(1_600_000_000_000..1_760_000_000_000),
        next_due_day: (rng.u8(..3) == 0).then(|| today + rng.i32(-20..30)),
    }
}

/// The text a person would see for `doc`, one line (used for the fzf comparison).
pub fn display_line(doc: &SearchDoc) -> String {
    format!(
        "{} | {} | {} | {} | {} | {}",
        doc.name,
        doc.organization,
        doc.emails.join(" "),
        doc.phones.join(" "),
        doc.city,
        doc.tags.join(" ")
    )
}
